"""Translate the same FLORES file several times under varying CPU load and count the lines that differ.

    python benchmarks/reproducibility.py --lines 200 --runs 5 [-m MODEL] [--threads 2]

Each run is a fresh `tg-edge translate -i FILE -o OUT` process; run k starts k % 3 busy-looping processes
beside it (0, 1 or 2 competing for the cores). Prints each run's seconds and load, and how many lines differ
from the first run's output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tg_edge.bench.flores import load_flores
from tg_edge.machine import usable_cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", default="de")
    parser.add_argument("-m", "--model", help="GGUF file or model name [default: the demo model]")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="tg-edge-repro-"))
    source = work / "flores.en.txt"
    source.write_text("\n".join(load_flores("en", args.lines)) + "\n", encoding="utf-8")
    command = [
        sys.executable,
        "-m",
        "tg_edge",
        "translate",
        "-s",
        "en",
        "-t",
        args.target,
        "--threads",
        str(args.threads),
        "-i",
        str(source),
    ]
    if args.model:
        command += ["-m", args.model]
    outputs: list[list[str]] = []
    print(f"{args.lines} FLORES lines en→{args.target}, {args.runs} runs, {usable_cpus().usable} usable CPUs")
    for run in range(args.runs):
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(run % 3)]
        out = work / f"run{run}.txt"
        load = os.getloadavg()[0]
        started = time.perf_counter()
        try:
            subprocess.run([*command, "-o", str(out)], check=True, stderr=subprocess.DEVNULL)
        finally:
            for process in busy:
                process.kill()
                process.wait()
        seconds = time.perf_counter() - started
        outputs.append(out.read_text(encoding="utf-8").splitlines())
        differ = sum(a != b for a, b in zip(outputs[0], outputs[-1], strict=False)) + abs(
            len(outputs[0]) - len(outputs[-1])
        )
        print(
            f"run {run + 1}: {seconds:6.1f} s, {len(busy)} busy processes beside it, load {load:.1f} at start, "
            f"{differ} of {args.lines} lines differ from run 1",
            flush=True,
        )


if __name__ == "__main__":
    main()
