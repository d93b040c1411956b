"""Scanned PDF pages: through a model that reads images onto a page of their own, or kept and named (text-only).

The fast tests read the scans with a plain function in the model's place (it answers from the pixels it was
given, so the rendering is checked too); the integration tests run the tiny TranslateGemma-shaped vision
checkpoint (random weights: the path is asserted, not the words); a text-only model's refusal of a file of
scans is tested in test_formats_pdf.py.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from tg_edge import InputError, Translator
from tg_edge.formats import read
from tg_edge.formats.pdf_scans import scan_reader
from tg_edge.images import RgbImage

from .conftest import run_cli
from .pdf_samples import report_pdf, scanned_pdf
from .test_formats_pdf import images, page_texts, sizes, squash
from .test_images import MODEL


@pytest.fixture(scope="module")
def vision(tiny_translategemma: Path) -> Iterator[Translator]:
    """The tiny vision checkpoint in a short context: its random weights read on until the context is full."""
    with Translator(tiny_translategemma / MODEL, threads=2, n_ctx=512) as translator:
        yield translator


def mixed_pdf() -> bytes:
    """The two-page report, then a scanned page."""
    writer = PdfWriter(clone_from=io.BytesIO(report_pdf()))
    writer.append(PdfReader(io.BytesIO(scanned_pdf())))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


class Reading:
    """A stand-in for the model's image path: it names the pixels it got, so a test sees the page rendered."""

    def __init__(self, answer: str = "", problem: str = "") -> None:
        self.seen: list[RgbImage] = []
        self.answers: list[str] = []
        self.answer, self.problem = answer, problem

    def __call__(self, image: RgbImage) -> tuple[str, str]:
        self.seen.append(image)
        dark = sum(1 for value in image.pixels[::3] if value < 200)  # the scan's picture, not a blank page
        self.answers.append(self.answer or f"Eine Seite mit {dark} dunklen Punkten")
        return self.answers[-1], self.problem


def test_a_scan_is_rendered_and_its_translation_follows_it_on_a_page_of_its_own() -> None:
    reading = Reading()
    document = read(mixed_pdf(), "mixed.pdf", "pdf", scans=lambda: reading)
    assert document.notes == []  # nothing kept untranslated
    out = document.render([segment.text.upper() for segment in document.segments])
    image = reading.seen[0]
    assert image.name == "mixed.pdf, page 3" and image.height == 1600 and 1100 < image.width < 1150  # A4
    assert len(image.pixels) == image.width * image.height * 3
    texts = page_texts(out)
    assert len(texts) == 4 and sizes(out) == [sizes(mixed_pdf())[0]] * 4
    assert reading.answers != ["Eine Seite mit 0 dunklen Punkten"]
    assert squash(texts[2]) == "" and squash(texts[3]) == squash(reading.answers[0])
    assert images(out)[-1] == images(mixed_pdf())[-1]  # the scan itself is kept as it was


def test_bilingual_and_markdown_place_a_scans_translation_after_the_scan() -> None:
    reading = Reading("Ein Schild am Bahnhof.\nBitte warten.")
    bilingual = read(mixed_pdf(), "mixed.pdf", "pdf", scans=lambda: reading, layout="bilingual")
    out = bilingual.render([segment.text for segment in bilingual.segments])
    texts = page_texts(out)
    assert len(texts) == 6  # source, translation, source, translation, the scan, its translation (once each)
    assert squash(texts[4]) == "" and squash(texts[5]) == "EinSchildamBahnhof.Bittewarten."
    markdown = read(mixed_pdf(), "mixed.pdf", "pdf", scans=lambda: reading, layout="md")
    text = markdown.render([segment.text for segment in markdown.segments])
    assert isinstance(text, str) and text.endswith("\n\nEin Schild am Bahnhof.\nBitte warten.\n")


def test_a_file_of_scans_is_translated_when_a_reader_is_given() -> None:
    long = " ".join(f"Wort{k}" for k in range(3000)) + " " + "x" * 400  # pages of words, one too wide
    document = read(scanned_pdf(), "scan.pdf", "pdf", scans=lambda: Reading(long))
    assert document.segments == []
    out = document.render([])
    texts = page_texts(out)
    assert len(texts) >= 3 and squash(texts[0]) == ""
    assert squash("".join(texts[1:])) == squash(long)  # run on over pages, nothing dropped


def test_the_reader_is_asked_for_only_when_a_file_has_scans_and_none_keeps_them() -> None:
    def never() -> None:
        raise AssertionError("a file without scans asked for a scan reader")

    assert read(report_pdf(), "report.pdf", "pdf", scans=never).notes == []
    kept = read(mixed_pdf(), "mixed.pdf", "pdf", scans=lambda: None)  # a text-only model
    assert kept.notes == ["mixed.pdf: pages 3 have no text layer (scanned images) and were kept untranslated"]
    with pytest.raises(InputError, match="use a model that reads images"):
        read(scanned_pdf(), "scan.pdf", "pdf", scans=lambda: None)


def test_a_suspect_or_empty_reading_is_named_in_the_notes() -> None:
    suspect = read(scanned_pdf(), "scan.pdf", "pdf", scans=lambda: Reading("Text", problem="loop"))
    assert len(page_texts(suspect.render([]))) == 2
    assert suspect.notes == ["scan.pdf: the translation of scanned page 1 is suspect (loop)"]
    data = scanned_pdf()
    empty = read(data, "scan.pdf", "pdf", scans=lambda: Reading(" \n"))
    assert empty.render([]) == data  # nothing to add: the file as it was
    assert empty.notes == ["scan.pdf: the model read no text on scanned page 1; kept untranslated"]


@pytest.mark.integration
def test_a_vision_model_translates_a_scanned_file_through_the_image_path(
    vision: Translator, tmp_path: Path
) -> None:
    assert scan_reader(vision, source="auto", target="en") is None  # a picture has no text to detect from
    source = tmp_path / "scan.pdf"
    source.write_bytes(scanned_pdf())
    out = tmp_path / "scan.en.pdf"
    done = run_cli("translate", "-s", "de", "-t", "en", "-i", str(source), "-o", str(out), translator=vision)
    assert done.returncode == 0, done.stderr.decode()
    texts = page_texts(out.read_bytes())
    if len(texts) == 2:  # the scan, then a page of what the model read (random weights: words of any kind)
        assert squash(texts[0]) == "" and squash(texts[1])
    else:  # it read nothing printable: the scan kept, and the warning says so
        assert out.read_bytes() == source.read_bytes() and "read no text" in done.stderr.decode()
