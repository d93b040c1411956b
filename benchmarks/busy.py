"""The same document quiet and beside busy processes: --threads auto (the default) against each fixed count.

    python benchmarks/busy.py --lines 40 [-m MODEL] [--repeats 1]

Each run is a fresh `tg-edge translate -i FILE -o OUT` process (load included); beside it 0..N-1 processes
spin at normal priority on the usable CPUs. Prints, per load, the seconds of every thread setting, each
one's ratio to the best fixed count under the same load, and whether each setting wrote the same bytes under
every load (and, since one-token steps are padded, whether all settings wrote the same bytes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tg_edge.bench.flores import load_flores
from tg_edge.machine import usable_cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=40)
    parser.add_argument("--target", default="de")
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs per setting, in alternating order; the fastest counts"
    )
    parser.add_argument("-m", "--model", help="GGUF file or model name [default: the demo model]")
    parser.add_argument("--json", type=Path, default=None, help="also write the seconds here (for charts.py)")
    args = parser.parse_args()

    cpus = usable_cpus().usable
    work = Path(tempfile.mkdtemp(prefix="tg-edge-busy-"))
    source = work / "flores.en.txt"
    source.write_text("\n".join(load_flores("en", args.lines)) + "\n", encoding="utf-8")
    command = [sys.executable, "-m", "tg_edge", "translate", "-s", "en", "-t", args.target, "-i", str(source)]
    command += ["-m", args.model] if args.model else []
    settings = ["auto", *[str(n) for n in range(1, cpus + 1)]]
    print(f"{args.lines} FLORES lines en→{args.target}; {cpus} usable CPUs; {platform.processor() or '?'}")
    outputs: dict[str, set[bytes]] = {setting: set() for setting in settings}
    table: dict[str, dict[str, float]] = {}
    for busy_count in range(cpus):
        seconds = {setting: float("inf") for setting in settings}
        for repeat in range(args.repeats):
            # Alternate the order: a run right after another finds warmer caches than the first of a round.
            for setting in settings if repeat % 2 == 0 else settings[::-1]:
                out = work / f"out-{busy_count}-{setting}-{repeat}.txt"
                busy = [
                    subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy_count)
                ]
                started = time.perf_counter()
                try:
                    subprocess.run(
                        [*command, "--threads", setting, "-o", str(out)],
                        check=True,
                        stderr=subprocess.DEVNULL,
                    )
                finally:
                    for process in busy:
                        process.kill()
                        process.wait()
                seconds[setting] = min(seconds[setting], time.perf_counter() - started)
                outputs[setting].add(out.read_bytes())
        table[str(busy_count)] = seconds
        fixed = min(seconds[s] for s in settings[1:])
        row = ", ".join(f"{s}: {seconds[s]:.1f} s (x{seconds[s] / fixed:.2f})" for s in settings)
        print(f"{busy_count} busy: {row}; auto / best fixed x{seconds['auto'] / fixed:.2f}", flush=True)
    same = ", ".join(f"{s}: {'yes' if len(outputs[s]) == 1 else 'NO'}" for s in settings)
    print(f"the same bytes quiet and busy, per setting: {same}; load average now {os.getloadavg()[0]:.1f}")
    every = set().union(*outputs.values())
    if args.json:
        args.json.write_text(json.dumps({"lines": args.lines, "seconds_by_busy": table}, indent=2) + "\n")
    print(f"every setting and load wrote the same bytes: {'yes' if len(every) == 1 else 'NO'}")


if __name__ == "__main__":
    main()
