"""PDF: real files drawn with reportlab, read into blocks, translated and written back as PDF, bilingual PDF
or Markdown; the written files are read back with a second, independent reader (pypdfium2)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, NameObject
from reportlab.pdfgen.canvas import Canvas

from tg_edge.documents import Chunking, OutcomeCache
from tg_edge.errors import InputError, InputTooLarge, LanguageError, TextLimitExceeded, TgEdgeError
from tg_edge.formats import Limits, format_for, pdf, read
from tg_edge.formats.pdf_scans import scan_reader
from tg_edge.languages import Language

from .conftest import run_cli
from .pdf_samples import FOOTER, LINK, PARAGRAPHS, aligned_pdf, linked_pdf, report_pdf, scanned_pdf


def page_texts(data: bytes) -> list[str]:
    """Each page's text as pypdfium2 extracts it."""
    document = pypdfium2.PdfDocument(data)
    return [document[i].get_textpage().get_text_range() for i in range(len(document))]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def images(data: bytes) -> list[bytes]:
    """The decoded data of every image XObject, page by page."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for reference in page["/Resources"].get("/XObject", {}).values():
            xobject = reference.get_object()
            if xobject.get("/Subtype") == "/Image":
                found.append(xobject.get_data())
    return found


def links(data: bytes) -> list[str]:
    return [
        annotation.get_object()["/A"]["/URI"]
        for page in PdfReader(io.BytesIO(data)).pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]


def sizes(data: bytes) -> list[tuple[float, float]]:
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(io.BytesIO(data)).pages]


def test_pdf_is_found_by_extension() -> None:
    assert format_for("Paper.PDF") == "pdf"


def test_blocks_follow_paragraphs_columns_cells_and_footers() -> None:
    document = read(report_pdf(), "report.pdf", "pdf")
    texts = [(s.line, s.text) for s in document.segments]
    assert texts[0] == (1, "Annual report of the trading company")
    assert (1, PARAGRAPHS[0]) in texts and (2, PARAGRAPHS[5]) in texts  # a paragraph is one segment
    assert {(1, "Fresh bread"), (1, "Harbour street"), (1, "1200")} <= set(texts)  # table cells apart
    assert (1, FOOTER) in texts and (2, FOOTER) in texts  # the footer of each page
    assert (2, "The year in our shops") in texts and (2, "Plans for next year") in texts  # both columns


def test_an_identity_translation_gives_the_file_back() -> None:
    data = report_pdf()
    document = read(data, "report.pdf", "pdf")
    assert document.render([s.text for s in document.segments]) == data


def test_translations_replace_the_source_text_and_everything_else_stays() -> None:
    data = report_pdf()
    document = read(data, "report.pdf", "pdf")
    translations = [
        f"Übersetzt {n}: " + " ".join(reversed(s.text.split())) for n, s in enumerate(document.segments)
    ]
    out = document.render(translations)
    assert sizes(out) == sizes(data) and len(sizes(out)) == 2
    assert images(out) == images(data) and len(images(data)) == 1
    assert links(out) == links(data) == [LINK]
    pages = page_texts(out)
    for segment, translation in zip(document.segments, translations, strict=True):
        assert squash(translation) in squash(pages[segment.line - 1]), translation
    for sentence in PARAGRAPHS:
        assert squash(sentence) not in squash("".join(pages))  # removed, not merely covered
    assert not document.notes


def test_bilingual_puts_each_translated_page_after_its_source() -> None:
    data = report_pdf()
    document = read(data, "report.pdf", "pdf", layout="bilingual")
    out = document.render([s.text.upper() for s in document.segments])
    pages = page_texts(out)
    assert len(pages) == 4 and sizes(out) == [size for size in sizes(data) for _ in (0, 1)]
    assert squash(PARAGRAPHS[0]) in squash(pages[0]) and squash(PARAGRAPHS[0].upper()) in squash(pages[1])
    assert squash(PARAGRAPHS[5]) in squash(pages[2]) and squash(PARAGRAPHS[5].upper()) in squash(pages[3])


def test_markdown_gives_headings_and_paragraphs() -> None:
    document = read(report_pdf(), "report.pdf", "pdf", layout="md")
    text = document.render([s.text for s in document.segments])
    assert isinstance(text, str)
    blocks = text.split("\n\n")
    assert blocks[0] == "# Annual report of the trading company"
    assert "## Sales by product" in blocks and PARAGRAPHS[0] in blocks
    assert blocks.count(FOOTER) == 2


def test_a_scanned_file_is_refused() -> None:
    with pytest.raises(InputError, match=r"scan\.pdf has no text layer \(its 1 pages are scanned images\)"):
        read(scanned_pdf(), "scan.pdf", "pdf")


def test_scanned_pages_of_a_mixed_file_are_kept_and_named() -> None:
    writer = PdfWriter(clone_from=io.BytesIO(report_pdf()))
    writer.append(PdfReader(io.BytesIO(scanned_pdf())))
    out = io.BytesIO()
    writer.write(out)
    document = read(out.getvalue(), "mixed.pdf", "pdf")
    assert document.notes == [
        "mixed.pdf: pages 3 have no text layer (scanned images) and were kept untranslated"
    ]


def test_encrypted_files_are_refused() -> None:
    writer = PdfWriter(clone_from=io.BytesIO(report_pdf()))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(InputError, match="is encrypted"):
        read(out.getvalue(), "locked.pdf", "pdf")


def test_a_pdf_bomb_is_refused_before_it_is_inflated() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(200, 200)
    stream = DecodedStreamObject()
    stream.set_data(b"0 0 m " * (20 << 20))  # 120 MB of path operators, a few hundred KB compressed
    page[NameObject("/Contents")] = writer._add_object(stream.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    assert len(out.getvalue()) < 1 << 20
    with pytest.raises(InputTooLarge, match="a PDF bomb"):
        read(out.getvalue(), "bomb.pdf", "pdf")


def test_limits_on_pages_bytes_and_text(monkeypatch: pytest.MonkeyPatch) -> None:
    data = report_pdf()
    with pytest.raises(TextLimitExceeded):
        read(data, "report.pdf", "pdf", limits=Limits(max_chars=100))
    monkeypatch.setattr(pdf, "MAX_PAGES", 1)
    with pytest.raises(InputTooLarge, match="has 2 pages, more than the 1"):
        read(data, "report.pdf", "pdf")
    monkeypatch.setattr(pdf, "MAX_BYTES", 1000)
    with pytest.raises(InputTooLarge, match="more than the 1000 bytes"):
        read(data, "report.pdf", "pdf")


def test_damaged_and_foreign_files_are_input_errors() -> None:
    with pytest.raises(InputError, match="not a PDF file"):
        read(b"hello", "x.pdf", "pdf")
    data = report_pdf()
    with pytest.raises(InputError, match="not a readable PDF file"):
        read(data[: len(data) // 3], "cut.pdf", "pdf")


def test_scripts_the_fonts_cannot_draw_are_refused() -> None:
    pdf.check_target("de")
    pdf.check_target(Language("ru", "Russian"))
    pdf.check_target("sr-Latn")
    with pytest.raises(LanguageError, match=r"Chinese is written in another script \(Hans\)"):
        pdf.check_target(Language("zh", "Chinese"))
    with pytest.raises(LanguageError, match=r"ar is written in another script \(Arab\)"):
        pdf.check_target("ar")


# -- with the demo model --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache() -> OutcomeCache:
    """One cache for this module's model calls: the report's blocks go to the model once."""
    return OutcomeCache()


@pytest.mark.integration
def test_a_report_translated_en_de_keeps_its_pages(translator, cache: OutcomeCache) -> None:
    data = report_pdf()
    document = read(data, "report.pdf", "pdf")
    result = translator.translate_documents(
        [document], source="en", target="de", chunking=Chunking(cache=cache)
    )[0]
    out = result.rendered
    assert sizes(out) == sizes(data) and images(out) == images(data) and links(out) == [LINK]
    pages = page_texts(out)
    drawn = []
    for segment, outcome in zip(document.segments, result.outcomes, strict=True):
        shown = outcome.text if outcome.text.strip() else segment.text
        drawn.append(shown)
        if any(ord(char) > 0xFFFF for char in shown):
            continue  # not in DejaVu: drawn as U+FFFD (said in the notes)
        assert squash(shown) in squash(pages[segment.line - 1]), (segment.line, shown)
    checked = 0
    for segment in document.segments:
        if len(segment.text.split()) >= 4 and not any(squash(segment.text) in squash(t) for t in drawn):
            assert squash(segment.text) not in squash("".join(pages)), segment.text
            checked += 1
    assert checked >= 5  # most sentences were translated into something else, and none of them is left


@pytest.mark.integration
def test_cli_writes_pdf_markdown_and_translates_the_footer_once(translator, tmp_path: Path) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(report_pdf())
    out = tmp_path / "report.de.pdf"
    done = run_cli(
        "translate", "-s", "en", "-t", "de", "-i", str(source), "-o", str(out), translator=translator
    )
    assert done.returncode == 0, done.stderr.decode()
    assert sizes(out.read_bytes()) == sizes(source.read_bytes())
    assert not list(tmp_path.glob(".*journal"))
    from tg_edge.jobs import FileJob, JobOptions

    job = FileJob(translator, JobOptions(source="en", target="de", progress=False))
    report = job.run([(source, tmp_path / "report.de.md")])
    assert report.cached >= 1  # the second page's footer (and number-free repeats) came from the cache
    text = (tmp_path / "report.de.md").read_text(encoding="utf-8")
    assert text.startswith("# ") and text.count("\n\n") >= len(PARAGRAPHS)


@pytest.mark.integration
def test_cli_refuses_a_scanned_pdf_and_writes_nothing(translator, tmp_path: Path) -> None:
    source = tmp_path / "scan.pdf"
    source.write_bytes(scanned_pdf())
    out = tmp_path / "scan.de.pdf"
    done = run_cli(
        "translate", "-s", "en", "-t", "de", "-i", str(source), "-o", str(out), translator=translator
    )
    assert done.returncode == 1
    assert done.stderr.decode().count("\n") == 1 and "has no text layer" in done.stderr.decode()
    assert "use a model that reads images" in done.stderr.decode()
    assert list(tmp_path.iterdir()) == [source]
    assert scan_reader(translator, source="en", target="de") is None  # a text-only model: no image path


def test_a_turned_page_gets_its_translation_upright_in_place() -> None:
    drawn = io.BytesIO()
    canvas = Canvas(drawn, pagesize=(300, 500))
    canvas.translate(300, 0)
    canvas.rotate(90)  # drawn turned, shown upright once the page turns by /Rotate 90: a landscape page
    canvas.setFont("Helvetica", 14)
    canvas.drawString(40, 250, "A landscape title on a turned page")
    canvas.setFont("Helvetica", 10)
    canvas.drawString(40, 200, "The body text of the page stands here.")
    canvas.save()
    writer = PdfWriter(clone_from=drawn)
    writer.pages[0].rotate(90)
    turned = io.BytesIO()
    writer.write(turned)
    document = read(turned.getvalue(), "turned.pdf", "pdf")
    assert (document.pages[0].width, document.pages[0].height) == (500, 300)
    translations = ["Ein Titel quer", "Der Text steht hier."]
    again = read(document.render(translations), "turned.de.pdf", "pdf")
    for source, translated, text in zip(
        document.pages[0].blocks, again.pages[0].blocks, translations, strict=True
    ):
        assert translated.text == text  # read upright, left to right
        assert translated.rect[0] == pytest.approx(source.rect[0], abs=1)
        assert translated.rect[3] == pytest.approx(source.rect[3], abs=2)


def test_text_in_a_form_xobject_is_translated_and_removed() -> None:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(400, 200))
    canvas.beginForm("stamp")
    canvas.setFont("Helvetica", 12)
    canvas.drawString(20, 100, "This text lives in a reusable form.")
    canvas.endForm()
    canvas.doForm("stamp")
    canvas.showPage()
    canvas.save()
    document = read(out.getvalue(), "form.pdf", "pdf")
    assert [s.text for s in document.segments] == ["This text lives in a reusable form."]
    pages = page_texts(document.render(["Dieser Text wohnt in einer Form."]))
    assert "reusable" not in pages[0] and squash("Dieser Text wohnt in einer Form.") in squash(pages[0])


def test_without_the_pdf_extra_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "_MISSING", "pdfminer")
    with pytest.raises(TgEdgeError, match=r"needs the pdf extra \(pdfminer is missing\): pip install"):
        read(report_pdf(), "report.pdf", "pdf")


class _StopsAfterFirstChunk:
    """The real Translator, whose document calls stop (as a kill would) once the first chunk is journaled."""

    def __init__(self, translator) -> None:
        self.translator = translator
        self.options = translator.options
        self.model_path = translator.model_path

    def translate_documents(self, *args, chunking, **kwargs):
        def journal_then_stop(*chunk) -> None:
            chunking.on_chunk(*chunk)
            raise KeyboardInterrupt

        return self.translator.translate_documents(
            *args, chunking=replace(chunking, on_chunk=journal_then_stop), **kwargs
        )


@pytest.mark.integration
def test_an_interrupted_pdf_job_resumes_from_its_journal(translator, tmp_path: Path) -> None:
    from tg_edge.jobs import FileJob, JobOptions

    source, out = tmp_path / "report.pdf", tmp_path / "report.de.pdf"
    source.write_bytes(report_pdf())
    options = JobOptions(source="en", target="de", progress=False, chunk_segments=4)
    with pytest.raises(KeyboardInterrupt):
        FileJob(_StopsAfterFirstChunk(translator), options).run([(source, out)])
    assert not out.exists() and (tmp_path / ".report.de.pdf.tg-edge-journal").exists()
    report = FileJob(translator, JobOptions(**{**options.__dict__, "resume": True})).run([(source, out)])
    assert report.resumed == 4 and report.translated + report.cached == report.segments - 4
    assert len(page_texts(out.read_bytes())) == 2 and not list(tmp_path.glob(".*journal"))


def test_cli_refuses_pdf_to_stdout_and_scripts_it_cannot_draw_before_loading_a_model(tmp_path: Path) -> None:
    source = tmp_path / "report.pdf"
    source.write_bytes(report_pdf())
    to_stdout = run_cli("translate", "-s", "en", "-t", "de", "-i", str(source))
    assert to_stdout.returncode == 2
    assert "a translated PDF file cannot go to standard output" in to_stdout.stderr.decode()
    assert "--format md for its text" in to_stdout.stderr.decode()
    chinese = run_cli("translate", "-s", "en", "-t", "zh", "-i", str(source), "-o", str(tmp_path / "out.pdf"))
    assert chinese.returncode == 2 and chinese.stderr.decode().count("\n") == 1
    assert "is written in another script (Hans): write its text with -o FILE.md" in chinese.stderr.decode()
    assert not (tmp_path / "out.pdf").exists()


def test_list_items_and_contents_entries_are_blocks_of_their_own() -> None:
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(400, 300))
    canvas.setFont("Helvetica", 10)
    for n, item in enumerate(["Fresh bread from the oven;", "Black tea;", "Coffee beans from the hills."]):
        canvas.drawString(40, 250 - 12 * n, "•")
        canvas.drawString(52, 250 - 12 * n, item)
    for n, entry in enumerate(["1 Introduction", "2 Shops and sales", "3 Plans"]):
        canvas.drawString(40, 180 - 12 * n, entry + " " + ". " * (40 - 2 * len(entry) // 3) + str(n + 1))
    canvas.save()
    document = read(out.getvalue(), "lists.pdf", "pdf")
    texts = [s.text for s in document.segments]
    assert texts[:3] == ["Fresh bread from the oven;", "Black tea;", "Coffee beans from the hills."]
    assert [text.split(" .")[0] for text in texts[3:]] == ["1 Introduction", "2 Shops and sales", "3 Plans"]
    bullets = [block for block in document.pages[0].blocks if block.text == "•"]
    assert len(bullets) == 3  # drawn back one per line, where they stood


def test_a_longer_translation_pushes_the_paragraphs_below_it_down_instead_of_shrinking() -> None:
    document = read(report_pdf(), "report.pdf", "pdf")
    translations = [s.text + " " + s.text[: len(s.text) // 3] for s in document.segments]  # a third longer
    again = read(document.render(translations), "report.de.pdf", "pdf")
    column = [b for b in again.pages[1].blocks if b.size < 12 and b.rect[0] < 200 and b.rect[1] > 100]
    assert [b.text for b in column] == [
        translations[i] for i, s in enumerate(document.segments) if s.text in PARAGRAPHS[2:4]
    ]
    assert all(b.size == 10 for b in column)  # at the source's size, in the room freed below
    assert column[0].rect[1] > column[1].rect[3]  # one under the other, not overlapping


def test_paragraphs_keep_their_alignment_left_justified_centred_or_right() -> None:
    source = read(aligned_pdf(), "aligned.pdf", "pdf")
    assert [(b.lines, b.align) for b in source.pages[0].blocks] == [
        (3, "left"),
        (3, "justify"),
        (3, "center"),
        (3, "right"),
    ]
    longer = [segment.text.replace(" the ", " the whole ") for segment in source.segments]
    translated = read(source.render(longer), "out.pdf", "pdf").pages[0].blocks
    assert [b.align for b in translated] == ["left", "justify", "center", "right"]
    assert [b.text for b in translated] == longer and all(b.lines == 4 for b in translated)


def test_a_link_moves_down_with_its_paragraph_when_a_longer_one_above_pushes_it() -> None:
    def link_rect(data: bytes) -> list[float]:
        (link,) = (a.get_object() for a in PdfReader(io.BytesIO(data)).pages[0]["/Annots"])
        assert link["/A"]["/URI"] == LINK
        return [float(value) for value in link["/Rect"]]

    source = read(linked_pdf(), "linked.pdf", "pdf")
    texts = [segment.text for segment in source.segments]
    texts[0] = f"{texts[0]} {texts[0]}"  # twice as long: the paragraphs below it move down
    x0, y0, x1, y1 = link_rect(linked_pdf())
    out = source.render(texts)
    moved = read(out, "out.pdf", "pdf").pages[0].blocks[1]
    assert (
        moved.text == texts[1] and moved.rect[3] < y0
    )  # the paragraph now stands below the link's old place
    mx0, my0, mx1, my1 = link_rect(out)
    assert (mx0, mx1) == (x0, x1) and round(y1 - my1, 3) == round(y0 - my0, 3) > 0
    assert moved.rect[1] <= (my0 + my1) / 2 <= moved.rect[3]  # still on the paragraph's line
