"""Translate a long English document made of FLORES-200 devtest paragraphs and check nothing is lost.

    python benchmarks/long_document.py --words 10000 -t de --threads 2

Sentences of one FLORES article (same URL in metadata_devtest.tsv) form a paragraph; paragraphs are
taken in order until the word count is reached, written to a text file and translated through
``tg-edge translate``'s file path (tg_edge.jobs). The check: the output has every paragraph, in
order, at the same line; each paragraph is non-empty; and the run's summary of guarded segments.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tg_edge import Translator
from tg_edge.bench.flores import flores_paragraphs
from tg_edge.jobs import FileJob, JobOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("-t", "--target", default="de")
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--keep", type=Path, help="Directory to keep the input and output in.")
    args = parser.parse_args()

    paragraphs = flores_paragraphs(args.words)
    document = "\n\n".join(paragraphs) + "\n"
    work = args.keep or Path(tempfile.mkdtemp(prefix="tg-edge-long-"))
    work.mkdir(parents=True, exist_ok=True)
    source, output = work / "flores-en.txt", work / f"flores-{args.target}.txt"
    source.write_text(document, encoding="utf-8")
    started = time.perf_counter()
    with Translator(args.model, threads=args.threads) as translator:
        job = FileJob(translator, JobOptions(source="en", target=args.target, progress=True))
        report = job.run([(source, output)])
    seconds = time.perf_counter() - started
    out_lines = output.read_text(encoding="utf-8").split("\n")
    in_lines = document.split("\n")
    in_order = len(out_lines) == len(in_lines) and all(
        bool(a.strip()) == bool(b.strip()) for a, b in zip(in_lines, out_lines, strict=False)
    )
    summary = {
        "words": len(document.split()),
        "paragraphs": len(paragraphs),
        "segments": report.segments,
        "seconds": round(seconds, 1),
        "every_paragraph_present_in_order": in_order,
        "guarded_segments": len(report.flagged),
        "guarded": [
            {"line": f.line, "problem": f.problem, "attempts": f.attempts, "source": f.source[:80]}
            for f in report.flagged
        ],
        "output": str(output),
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
