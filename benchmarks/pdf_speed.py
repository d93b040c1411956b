"""How fast a text PDF is translated, and how much of the time is spent outside the model.

    python benchmarks/pdf_speed.py --pages 10
    python benchmarks/pdf_speed.py --pictures docs   # also docs/pdf-source.png and docs/pdf-translated.png

A PDF of ``--pages`` A4 pages of paragraphs (a heading, six paragraphs and a footer on each page) is drawn
with reportlab and translated en→de by a file job, as ``tg-edge translate -i x.pdf -o x.de.pdf`` does
(journal included). The Translator's ``translate_many`` is timed as it runs (the model: prompts, decoding,
guards); everything else the job does is "outside the model": reading the PDF's layout, deciding what to
translate, removing the source text, fitting and drawing the translations, writing the file.

Prints pages per minute and the share of the time outside the model. ``--pictures DIR`` translates the
report the tests use (tests/pdf_samples.py) and renders page 1 of it and of its translation to PNG
(pypdfium2). Run from the repository root.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tg_edge import Translator
from tg_edge.jobs import FileJob, JobOptions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("-m", "--model", default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--pictures", type=Path, default=None, help="write the PNGs of page 1 here")
    args = parser.parse_args()

    from tests.pdf_samples import report_pdf, text_pdf

    with Translator(args.model, threads=args.threads) as translator, tempfile.TemporaryDirectory() as tmp:
        model_seconds = [0.0]
        translate_many = translator.translate_many

        def timed(*a, **k):
            started = time.perf_counter()
            try:
                return translate_many(*a, **k)
            finally:
                model_seconds[0] += time.perf_counter() - started

        translator.translate("Good morning.", source="en", target="de")  # load and warm up
        translator.translate_many = timed
        source = Path(tmp) / "text.pdf"
        source.write_bytes(text_pdf(args.pages))
        job = FileJob(translator, JobOptions(source="en", target="de", progress=False))
        started = time.perf_counter()
        report = job.run([(source, Path(tmp) / "text.de.pdf")])
        total = time.perf_counter() - started
        outside = total - model_seconds[0]
        print(
            f"{args.pages} pages, {report.segments} segments ({report.translated} to the model, "
            f"{report.cached} from the cache) in {total:.1f} s: {args.pages / total * 60:.1f} pages per minute; "
            f"model {model_seconds[0]:.1f} s, outside the model {outside:.2f} s ({outside / total:.1%})"
        )
        if args.pictures is not None:
            _pictures(translator, report_pdf(), args.pictures, Path(tmp))


def _pictures(translator: Translator, data: bytes, directory: Path, tmp: Path) -> None:
    import pypdfium2

    source, out = tmp / "report.pdf", tmp / "report.de.pdf"
    source.write_bytes(data)
    FileJob(translator, JobOptions(source="en", target="de", progress=False)).run([(source, out)])
    directory.mkdir(parents=True, exist_ok=True)
    for path, name in ((source, "pdf-source.png"), (out, "pdf-translated.png")):
        page = pypdfium2.PdfDocument(path)[0]
        page.render(scale=1.2).to_pil().save(directory / name, optimize=True)
        print(f"wrote {directory / name}")


if __name__ == "__main__":
    main()
