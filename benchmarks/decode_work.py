"""The work behind the language guard's time: every ``llama_decode`` of a call counted, guard off then on.

    python benchmarks/decode_work.py --count 200 -t de,fr

Translates FLORES-200 devtest sentences like ``benchmarks/language_guard.py`` (one ``translate_many`` call
per run, guard off then on, one loaded model) and prints per run the decode calls, the tokens they carried
(of them prompt tokens), the seconds inside ``llama_decode`` and the call's seconds, from the Translator's
public ``stats``.
"""

from __future__ import annotations

import argparse
import time

from tg_edge import TranslationOptions, Translator
from tg_edge.bench.flores import load_flores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("-t", "--targets", default="de,fr")
    parser.add_argument("-m", "--model", default=None)
    args = parser.parse_args()

    sources = load_flores("en", args.count)
    with Translator(args.model) as translator:
        print(
            "| pair | guard | decode calls | tokens decoded | of them prompt | seconds in llama_decode | call seconds |"
        )
        print("|---|---|--:|--:|--:|--:|--:|")
        for target in args.targets.split(","):
            for check_language in (False, True):
                before = translator.stats
                started = time.perf_counter()
                translator.translate_many(
                    sources,
                    source="en",
                    target=target,
                    options=TranslationOptions(check_language=check_language),
                )
                seconds = time.perf_counter() - started
                work = translator.stats.since(before)
                print(
                    f"| en→{target} | {'on' if check_language else 'off'} | {work.decode_steps} | "
                    f"{work.batch_tokens:,} | {work.prompt_tokens_evaluated:,} | {work.decode_seconds:.1f} | "
                    f"{seconds:.1f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
