"""Charts from the JSON that ceiling.py and busy.py write: document throughput, and busy against quiet.

    python benchmarks/ceiling.py --lines 60,200 --json /tmp/ceiling.json
    python benchmarks/busy.py --lines 40 --json /tmp/busy.json
    python benchmarks/charts.py --ceiling /tmp/ceiling.json --busy /tmp/busy.json --machine "2-core AMD EPYC"

Writes benchmarks/throughput.png (speed-up over the naive loop: tg-edge against the batching ceiling, per
document length) and benchmarks/busy.png (seconds per thread setting, quiet and beside busy processes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent


def throughput_chart(results: list[dict[str, float]], machine: str, out: Path) -> None:
    labels = [f"{int(r['lines'])} lines" for r in results]
    x = range(len(results))
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    ax.bar([i - 0.2 for i in x], [r["tg_edge_speedup"] for r in results], 0.4, label="tg-edge")
    ax.bar(
        [i + 0.2 for i in x], [r["ceiling_speedup"] for r in results], 0.4, label="ceiling (16-wide rates)"
    )
    for i, r in zip(x, results, strict=True):
        ax.annotate(f"{r['share']:.2f} of ceiling", (i - 0.2, r["tg_edge_speedup"]), ha="center", va="bottom")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(list(x), labels)
    ax.set_ylabel("speed-up over the naive loop")
    ax.set_title(f"Documents en→de, demo model ({machine})", fontsize=10)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def busy_chart(busy: dict[str, object], machine: str, out: Path) -> None:
    table = busy["seconds_by_busy"]
    assert isinstance(table, dict)
    loads = sorted(table, key=int)
    settings = list(table[loads[0]])
    width = 0.8 / len(loads)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for n, load in enumerate(loads):
        label = "quiet" if load == "0" else f"beside {load} busy process{'es' if int(load) > 1 else ''}"
        ax.bar(
            [i + (n - (len(loads) - 1) / 2) * width for i in range(len(settings))],
            [table[load][s] for s in settings],
            width,
            label=label,
        )
    ax.set_xticks(
        range(len(settings)), [f"--threads {s}" + (" (default)" if s == "auto" else "") for s in settings]
    )
    ax.set_ylabel("seconds (fresh process, load included)")
    ax.set_title(f"{busy['lines']} FLORES lines en→de, demo model ({machine})", fontsize=10)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ceiling", type=Path, help="ceiling.py --json output")
    parser.add_argument("--busy", type=Path, help="busy.py --json output")
    parser.add_argument("--machine", default="2-core VM", help="named in the titles")
    args = parser.parse_args()
    if args.ceiling:
        throughput_chart(json.loads(args.ceiling.read_text()), args.machine, HERE / "throughput.png")
    if args.busy:
        busy_chart(json.loads(args.busy.read_text()), args.machine, HERE / "busy.png")


if __name__ == "__main__":
    main()
