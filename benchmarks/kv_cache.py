"""What a q8_0 KV cache costs in quality and speed against the default f16, side by side on FLORES.

    python benchmarks/kv_cache.py --count 100 -t de [-m MODEL] [--threads 2]

For each KV type a fresh Translator (default settings otherwise) translates the same FLORES-200 devtest
sentences as one ``translate_many`` call; prints chrF++ against the references, the seconds, the KV cache's
size, and how many outputs differ from f16's.
"""

from __future__ import annotations

import argparse
import time

import sacrebleu

from tg_edge import Translator
from tg_edge.bench.flores import load_flores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("-t", "--target", default="de")
    parser.add_argument("-m", "--model")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args()
    sources, references = load_flores("en", args.count), load_flores(args.target, args.count)
    outputs: dict[str, list[str]] = {}
    print(f"{args.count} FLORES devtest sentences en→{args.target}")
    for kv_type in ("f16", "q8_0"):
        with Translator(args.model, threads=args.threads, kv_type=kv_type) as translator:
            started = time.perf_counter()
            results = translator.translate_many(sources, source="en", target=args.target)
            seconds = time.perf_counter() - started
            kv_mib = translator.stats.kv_cache_bytes / 2**20
        outputs[kv_type] = [result.text for result in results]
        chrf = sacrebleu.corpus_chrf(outputs[kv_type], [references], word_order=2).score
        differ = sum(a != b for a, b in zip(outputs["f16"], outputs[kv_type], strict=False))
        print(
            f"KV {kv_type:5}: chrF++ {chrf:5.1f}, {seconds:6.1f} s, KV cache {kv_mib:6.1f} MiB, "
            f"{differ} of {args.count} outputs differ from f16's",
            flush=True,
        )


if __name__ == "__main__":
    main()
