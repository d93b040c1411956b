"""Records per second of a Ray dataset job with 1 and with 2 Translator actors, side by side.

    python benchmarks/ray_dataset.py --records 200 --threads 1      # needs tg-edge[ray] and a model

The records are FLORES-200 devtest sentences (one ``text`` field translated, an ``id`` kept), written to a
JSONL file; one local Ray (``--cpus``, default 2) runs the same job twice: with one actor, then with two,
each actor ``--threads`` llama.cpp threads. Each run's time is the whole job on a started Ray: the actor
pool's start and model loads, reading, translating and writing the output; "after" is the rate from the
first finished block on (the pool at work). Both outputs are checked to be
complete and in order, and compared record by record.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import tg_edge
from tg_edge.bench.flores import load_flores
from tg_edge.distributed import RayOptions, translate_dataset
from tg_edge.jobs import JobOptions
from tg_edge.load_options import LoadOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("-t", "--target", default="de")
    parser.add_argument(
        "-m", "--model", default=None, help="GGUF path or model name [default: the demo model]"
    )
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads per actor")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--block", type=int, default=16, help="records per block")
    args = parser.parse_args()

    import ray

    from tg_edge.models import resolve_model

    model = str(resolve_model(args.model))
    work = Path(tempfile.mkdtemp(prefix="tg-edge-ray-bench-"))
    source = work / "flores.jsonl"
    sentences = load_flores("en", args.records)
    source.write_text(
        "".join(json.dumps({"id": i, "text": s}, ensure_ascii=False) + "\n" for i, s in enumerate(sentences)),
        encoding="utf-8",
    )
    ray.init(
        address="local",
        num_cpus=args.cpus,
        include_dashboard=False,
        logging_level="WARNING",
        runtime_env={"py_modules": [str(Path(tg_edge.__file__).parent)]},
    )
    results, outputs = {}, {}
    try:
        for replicas in (1, 2):
            out = work / f"out-{replicas}.jsonl"
            options = JobOptions(
                source="en", target=args.target, fields="text", chunk_records=args.block, progress=True
            )
            started = time.perf_counter()
            first: list[float] = []
            report = translate_dataset(
                source,
                out,
                options,
                load=LoadOptions(model=model),
                cluster=RayOptions(replicas=replicas, threads=args.threads),
                on_block=lambda done, first=first: first.append(time.perf_counter()) if not first else None,
            )
            seconds = time.perf_counter() - started
            lines = out.read_text(encoding="utf-8").splitlines()
            assert [json.loads(line)["id"] for line in lines] == list(range(len(sentences))), (
                "records lost or moved"
            )
            outputs[replicas] = lines
            after_first = seconds - (first[0] - started)  # the pool at work: actors started, models loaded
            results[replicas] = {
                "seconds": round(seconds, 1),
                "records_per_s": round(len(lines) / seconds, 2),
                "first_block_s": round(first[0] - started, 1),
                "after_first_per_s": round((len(lines) - args.block) / after_first, 2),
                "blocks": report.blocks,
                "blocks_per_actor": sorted(report.replicas.values()),
            }
    finally:
        ray.shutdown()
    same = sum(a == b for a, b in zip(outputs[1], outputs[2], strict=False))
    print(
        f"{'actors':>6} {'seconds':>8} {'records/s':>10} {'first block s':>14} {'records/s after':>16}"
        "  blocks per actor"
    )
    for replicas, row in results.items():
        print(
            f"{replicas:>6} {row['seconds']:>8} {row['records_per_s']:>10} {row['first_block_s']:>14} "
            f"{row['after_first_per_s']:>16}  {row['blocks_per_actor']}"
        )
    print(
        f"speed-up 2 vs 1 actor: {results[2]['records_per_s'] / results[1]['records_per_s']:.2f}x "
        f"({results[2]['after_first_per_s'] / results[1]['after_first_per_s']:.2f}x after the first block); "
        f"{same}/{len(sentences)} records identical in both runs; {args.records} records, blocks of {args.block}, "
        f"{args.threads} thread(s) per actor, local Ray with {args.cpus} CPUs; files in {work}"
    )


if __name__ == "__main__":
    main()
