"""Output not in the target language, before and after the language guard, on FLORES-200 devtest.

    python benchmarks/language_guard.py --count 200 -t de,fr,es --keep /tmp/language-guard

For each target the same loaded model translates the sentences twice, side by side: without the
language check (``TranslationOptions(check_language=False)``: tg-edge before the guard) and with it
(the default). Each run is one ``translate_many`` call over all the sentences, as a document job
makes it. Reported per pair and run: output sentences of 4+ words that py3langid does not read as
the target (its best guess; "strict"), of them those it reads as neither the target nor a language it
confuses with the target (Aragonese or Asturian for Spanish: :data:`tg_edge.languages.labels.LOOKALIKES`), the
share of those, how many of those sit in a segment tg-edge did not flag, the segments flagged
``wrong-language``, chrF++ against the references, and the run's seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import sacrebleu

from tg_edge import TranslationOptions, Translator
from tg_edge.bench.flores import load_flores
from tg_edge.guards import Problem
from tg_edge.languages.labels import identifier, indistinguishable, label
from tg_edge.segment import split_sentences


def off_target(text: str, target: str) -> tuple[int, int, int]:
    """(sentences of 4+ words, of them not in ``target`` by py3langid's best guess, of those not a look-alike)."""
    model = identifier()
    judged = strict = wrong = 0
    for sentence in split_sentences(text, target):
        if len(sentence.split()) < 4:
            continue
        judged += 1
        guess = model.classify(sentence)[0]
        strict += guess != label(target)
        wrong += not indistinguishable(guess, target)
    return judged, strict, wrong


def run(
    translator: Translator, sources: list[str], references: list[str], target: str, *, check_language: bool
) -> dict[str, object]:
    options = TranslationOptions(check_language=check_language)
    started, before = time.perf_counter(), translator.stats  # decode steps: work that load cannot change
    results = translator.translate_many(sources, source="en", target=target, options=options)
    seconds, steps = time.perf_counter() - started, translator.stats.since(before).decode_steps
    judged = strict = wrong = unflagged = 0
    for result in results:
        n, guessed, bad = off_target(result.text, target)
        judged, strict, wrong = judged + n, strict + guessed, wrong + bad
        unflagged += bad if not result.problems else 0
    texts = [result.text for result in results]
    return {
        "target": target,
        "guard": check_language,
        "sentences": judged,
        "off_target_strict": strict,
        "off_target": wrong,
        "off_target_share": wrong / judged if judged else 0.0,
        "off_target_unflagged": unflagged,
        "flagged_wrong_language": sum(
            s.problem is Problem.WRONG_LANGUAGE for r in results for s in r.segments
        ),
        "flagged_any": sum(bool(r.problems) for r in results),
        "chrf++": sacrebleu.corpus_chrf(texts, [references], word_order=2).score,
        "seconds": seconds,
        "decode_steps": steps,
        "outputs": texts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("-t", "--targets", default="de,fr,es")
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--keep", type=Path, help="Directory to write each run's outputs and figures to (JSON)."
    )
    args = parser.parse_args()

    sources = load_flores("en", args.count, start=args.start)
    rows = []
    load = os.getloadavg()[0]
    with Translator(args.model, threads=args.threads) as translator:
        for target in args.targets.split(","):
            references = load_flores(target, args.count, start=args.start)
            for check_language in (False, True):
                row = run(translator, sources, references, target, check_language=check_language)
                rows.append(row)
                print(
                    f"{target} guard={'on' if check_language else 'off'}: {row['seconds']:.0f} s", flush=True
                )
                if args.keep:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    name = f"{target}-{'after' if check_language else 'before'}.json"
                    (args.keep / name).write_text(
                        json.dumps(row, ensure_ascii=False, indent=1), encoding="utf-8"
                    )
    print(
        f"\nFLORES-200 devtest sentences {args.start}–{args.start + args.count - 1}, en→{args.targets}, "
        f"{translator.model_path.name}; load average at start {load:.1f}, at end {os.getloadavg()[0]:.1f}\n"
    )
    print(
        "| pair | guard | sentences 4+ words | not target (strict) | not target nor look-alike | share | "
        "of them unflagged | segments flagged wrong-language | chrF++ | seconds | time × before | decode steps | "
        "steps × before |"
    )
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for before, after in zip(rows[::2], rows[1::2], strict=False):
        for row in (before, after):
            print(
                f"| en→{row['target']} | {'on' if row['guard'] else 'off'} | {row['sentences']} | "
                f"{row['off_target_strict']} | {row['off_target']} | "
                f"{row['off_target_share']:.1%} | {row['off_target_unflagged']} | {row['flagged_wrong_language']} | "
                f"{row['chrf++']:.1f} | {row['seconds']:.0f} | {row['seconds'] / before['seconds']:.2f} | "
                f"{row['decode_steps']} | {row['decode_steps'] / before['decode_steps']:.2f} |"
            )


if __name__ == "__main__":
    main()
