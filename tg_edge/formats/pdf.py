"""PDF documents: each text block of each page is translated and drawn back where it stood.

Reading (pdfminer.six) finds the blocks of every page (:mod:`.pdf_layout`: paragraphs, columns, table cells,
headers and footers) in reading order; each block with a word in it is one segment, whose "line" is its page
number. Writing (:mod:`.pdf_draw`: pypdf and reportlab) keeps every page, its size, images, vector graphics,
links, annotations and the outline, removes the source text from the pages' content streams and draws each
translation in its block's rectangle, the font size fitted so that it does not overflow. Three layouts:

- ``pdf``: the translated pages (an identity translation gives the input file back exactly);
- ``bilingual``: each source page followed by its translation;
- ``md``: the translated text as Markdown, headings (by font size) and paragraphs, page after page.

Pages that hold images but no text (scans) are translated through a model that reads images when the caller
gives a :data:`~.pdf_scans.ScanReader` (:mod:`.pdf_scans`: each translation on a page of its own, after
its scan); without one they are kept as they are and named in :attr:`PdfDocument.notes`, and a file of
nothing but scans is refused, as are encrypted files, files of more than :data:`MAX_PAGES` pages or
:data:`MAX_BYTES` bytes, and files whose compressed streams inflate absurdly (a "PDF bomb", checked before
any stream is parsed).
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import langcodes

from ..errors import InputError, InputTooLarge, LanguageError, TgEdgeError
from ..languages import Language, language_code
from . import _HAS_WORD, Limits, Segment, Tally

try:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1
    from pdfminer.psexceptions import PSException
    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    from . import pdf_draw, pdf_scans
    from .pdf_layout import LAYOUT, PageLayout, page_layout
except ImportError as exc:
    _MISSING: str | None = exc.name
else:
    _MISSING = None

LAYOUTS = ("pdf", "bilingual", "md")
SCRIPTS = {"Latn": "Latin", "Grek": "Greek", "Cyrl": "Cyrillic", "Armn": "Armenian", "Geor": "Georgian"}
"""The scripts drawn into PDF pages (DejaVu covers them, and they need no shaping or right-to-left order)."""
MAX_PAGES = 5000
MAX_BYTES = 512 << 20
_MAX_RATIO = 100  # inflated / compressed, as for DOCX's ZIP entries
_RATIO_FROM = 1 << 20  # streams that inflate to less than this are never refused for their ratio
_PIECE = 1 << 16
_STREAM = re.compile(rb"stream\r?\n")
_IMAGE = re.compile(rb"/Subtype\s*/Image")
# What a damaged file makes pdfminer or pypdf raise (besides their own exception classes).
_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    AssertionError,
    RecursionError,
    OSError,
    EOFError,
    struct.error,
    zlib.error,
)


@dataclass
class PdfDocument:
    """Segments of a PDF file; :meth:`render` writes the translated PDF (bytes) or its Markdown text."""

    data: bytes
    name: str
    layout: str = "pdf"
    segments: list[Segment] = field(default_factory=list)
    pages: list[PageLayout] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What the reader or writer left undone (scanned pages kept as they were, characters no font has)."""
    places: list[tuple[int, int]] = field(default_factory=list)
    """(page, block) of each segment."""
    scans: list[int] = field(default_factory=list)
    """The scanned pages (0-based) that ``reader`` translates when the document is rendered."""
    reader: pdf_scans.ScanReader | None = None
    _scanned: dict[int, str] | None = field(default=None, init=False, repr=False)

    @property
    def source(self) -> str:
        """The file's bytes as a string (one character per byte), for fingerprints."""
        return self.data.decode("latin-1")

    def render(self, translations: Sequence[str]) -> bytes | str:
        """The translated PDF (``pdf``, ``bilingual``) or Markdown text (``md``)."""
        if len(translations) != len(self.segments):
            raise ValueError(f"{len(translations)} translations for {len(self.segments)} segments")
        texts = [[block.text for block in page.blocks] for page in self.pages]
        for (page, block), segment, translation in zip(self.places, self.segments, translations, strict=True):
            if translation.strip() and translation != segment.text:
                texts[page][block] = translation
        scanned = self._read_scans()
        if self.layout == "md":
            return _markdown(self.pages, texts, scanned)
        if (
            self.layout == "pdf"
            and not scanned
            and all(t == s.text for t, s in zip(translations, self.segments, strict=True))
        ):
            return self.data
        try:
            return self._write(texts, scanned)
        except (PyPdfError, *_ERRORS) as exc:
            raise InputError(
                f"{self.name} cannot be written back as a PDF: {exc or type(exc).__name__}"
            ) from None

    def _read_scans(self) -> dict[int, str]:
        """The translations of the scanned pages (read once, on the first render), their problems in the notes."""
        if self._scanned is None:
            self._scanned = {}
            if self.reader is not None and self.scans:
                read = pdf_scans.translate_scans(self.data, self.name, self.scans, self.reader)
                for index, (text, problem) in read.items():
                    if problem:
                        self.notes.append(
                            f"{self.name}: the translation of scanned page {index + 1} is suspect ({problem})"
                        )
                    if text.strip():
                        self._scanned[index] = text
                    else:
                        self.notes.append(
                            f"{self.name}: the model read no text on scanned page {index + 1}; kept untranslated"
                        )
        return self._scanned

    def _write(self, texts: list[list[str]], scanned: dict[int, str]) -> bytes:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(self.data)))
        drawn, missing, placed = pdf_draw.overlay(self.pages, texts)
        overlays = PdfReader(io.BytesIO(drawn)).pages
        for number, (page, layout) in enumerate(zip(writer.pages, self.pages, strict=True)):
            if layout.blocks:
                pdf_draw.strip_text(page, writer)
                pdf_draw.merge(page, overlays[number], layout)
                pdf_draw.move_links(page, layout, placed[number])
        sizes = [(self.pages[index].width, self.pages[index].height) for index in scanned]
        drawn, counts, lacking = pdf_scans.text_pages(sizes, list(scanned.values()))
        missing += lacking
        text_pages = iter(PdfReader(io.BytesIO(drawn)).pages)
        after = {
            index: [next(text_pages) for _ in range(count)]
            for index, count in zip(scanned, counts, strict=True)
        }
        originals = PdfReader(io.BytesIO(self.data)).pages
        for number in reversed(range(len(self.pages))):  # from the end: the places before stay where they are
            for offset, page in enumerate(after.get(number, ())):
                writer.insert_page(page, number + 1 + offset)  # a scan, then its translation
            if self.layout == "bilingual" and number not in after:
                writer.insert_page(originals[number], number)
        if missing:
            self.notes.append(
                f"{self.name}: {missing} characters of the translation have no glyph in the PDF's font "
                "and were drawn as U+FFFD (write the text with -o FILE.md to keep them)"
            )
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()


def check_target(language: Language | str) -> None:
    """Refuse, before anything is translated, a target language whose script the PDF writer cannot draw."""
    code = language_code(language)
    try:
        script = langcodes.Language.get(code).maximize().script
    except (ValueError, LookupError):
        return  # not known: the writer draws what it can and names the rest in the notes
    if script is not None and script not in SCRIPTS:
        name = language.name if isinstance(language, Language) else code
        raise LanguageError(
            f"a translated PDF is drawn in DejaVu, which writes {', '.join(SCRIPTS.values())} text; "
            f"{name} is written in another script ({script}): write its text with -o FILE.md instead"
        )


def read(
    data: bytes,
    name: str,
    *,
    limits: Limits | None = None,
    layout: str = "pdf",
    scans: Callable[[], pdf_scans.ScanReader | None] | None = None,
) -> PdfDocument:
    """Read a PDF file's bytes (``name`` is for messages) into a :class:`PdfDocument` written as ``layout``;
    ``scans``, asked only when the file has scanned pages, gives what translates them when it is rendered
    (see :func:`.pdf_scans.scan_reader`), or None (a text-only model).

    :class:`~tg_edge.errors.InputTooLarge` for a file too large, of too many pages or whose streams would
    inflate absurdly; :class:`~tg_edge.errors.InputError` for an encrypted, damaged or all-scanned file;
    :class:`~tg_edge.errors.TextLimitExceeded` past ``limits``' text limits.
    """
    if _MISSING is not None:
        raise TgEdgeError(
            f"reading PDF files needs the pdf extra ({_MISSING} is missing): pip install 'tg-edge[pdf]'"
        )
    if layout not in LAYOUTS:
        raise InputError(f"unknown PDF layout {layout!r}; choose one of {', '.join(LAYOUTS)}")
    limits = limits or Limits()
    if len(data) > MAX_BYTES:
        raise InputTooLarge(f"{name} is {len(data)} bytes, more than the {MAX_BYTES} bytes a PDF may have")
    if b"%PDF-" not in data[:1024]:
        raise InputError(f"{name} is not a PDF file (no %PDF- header)")
    check_streams(data, name, limits)
    document = PdfDocument(data, name, layout)
    try:
        _read_pages(document, limits)
    except (InputError, TgEdgeError):
        raise
    except (PSException, *_ERRORS) as exc:
        raise InputError(f"{name} is not a readable PDF file: {exc or type(exc).__name__}") from None
    _check_scans(document, scans)
    return document


def _read_pages(document: PdfDocument, limits: Limits) -> None:
    parser = PDFParser(io.BytesIO(document.data))
    name = document.name
    try:
        pdf = PDFDocument(parser)
    except PDFEncryptionError:
        pdf = None
    if pdf is None or pdf.encryption is not None:
        raise InputError(
            f"{name} is encrypted (a password or restricted permissions); tg-edge does not translate "
            "encrypted PDFs: save a decrypted copy first (e.g. qpdf --decrypt)"
        )
    count = resolve1(resolve1(pdf.catalog.get("Pages")) or {}).get("Count", 0)
    if isinstance(count, int) and count > MAX_PAGES:
        raise InputTooLarge(f"{name} has {count} pages, more than the {MAX_PAGES} a PDF may have")
    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=LAYOUT)
    interpreter = PDFPageInterpreter(resources, device)
    tally = Tally(limits, name)
    for number, page in enumerate(PDFPage.create_pages(pdf)):
        if number >= MAX_PAGES:
            raise InputTooLarge(f"{name} has more than the {MAX_PAGES} pages a PDF may have")
        interpreter.process_page(page)
        layout = page_layout(device.get_result(), _matrix(page))
        document.pages.append(layout)
        for index, block in enumerate(layout.blocks):
            if _HAS_WORD.search(block.text):
                tally.add(block.text)
                document.segments.append(Segment(block.text, number + 1))
                document.places.append((number, index))
        if limits.cancel is not None:
            limits.cancel.check()


def _matrix(page: PDFPage) -> tuple[float, float, float, float, float, float]:
    """pdfminer's user space → layout space matrix for ``page`` (as its interpreter sets it up)."""
    x0, y0, x1, y1 = page.mediabox
    return {
        90: (0, -1, 1, 0, -y0, x1),
        180: (-1, 0, 0, -1, x1, y1),
        270: (0, 1, -1, 0, y1, -x0),
    }.get(page.rotate % 360, (1, 0, 0, 1, -x0, -y0))


def _check_scans(document: PdfDocument, scans: Callable[[], pdf_scans.ScanReader | None] | None) -> None:
    """With a reader from ``scans``, take the scanned pages to translate through it; without one, refuse a file
    of nothing but scanned pages and name the scanned pages of a mixed one in its notes."""
    document.scans = [index for index, page in enumerate(document.pages) if page.images and not page.blocks]
    if not document.scans:
        return
    reader = scans() if scans is not None else None
    if reader is not None:
        document.reader = reader
        return
    numbers = [index + 1 for index in document.scans]
    if not any(page.blocks for page in document.pages):
        raise InputError(
            f"{document.name} has no text layer (its {len(numbers)} pages are scanned images); a text-only "
            "model translates the text of PDFs: run OCR on it first (e.g. ocrmypdf), or use a model that "
            "reads images (TranslateGemma with its projector) and name the source language (-s)"
        )
    shown = ", ".join(str(number) for number in numbers[:20]) + (", …" if len(numbers) > 20 else "")
    document.notes.append(
        f"{document.name}: pages {shown} have no text layer (scanned images) and were kept untranslated"
    )


def check_streams(data: bytes, name: str, limits: Limits) -> None:
    """Refuse a file whose Flate streams (other than images, which are never inflated here) would inflate to
    absurd sizes, by inflating each a piece at a time and counting, before any parser inflates them whole."""
    view = memoryview(data)
    total = 0
    for match in _STREAM.finditer(data):
        start = match.end()
        if len(data) < start + 2 or (data[start] & 0x0F) != 8 or (data[start] << 8 | data[start + 1]) % 31:
            continue  # no zlib header: another filter, or no stream at all
        head = data[max(0, match.start() - 4096) : match.start()]
        if _IMAGE.search(head[head.rfind(b" obj") :]):
            continue
        total += _inflated_size(view, start, name, limits.max_unpacked - total)


def _inflated_size(view: memoryview, start: int, name: str, allowed: int) -> int:
    inflater = zlib.decompressobj()
    produced, position = 0, start
    try:
        while not inflater.eof and position < len(view):
            chunk: bytes | memoryview = view[position : position + _PIECE]
            position += len(chunk)
            while chunk and not inflater.eof:
                produced += len(inflater.decompress(chunk, _PIECE))
                chunk = inflater.unconsumed_tail
                consumed = position - start - len(chunk)
                if produced > _RATIO_FROM and produced > _MAX_RATIO * max(consumed, 1):
                    raise InputTooLarge(
                        f"{name}: a stream would inflate {consumed} bytes to more than {produced} (more than "
                        f"{_MAX_RATIO} times); refusing a file built to exhaust memory (a PDF bomb)"
                    )
                if produced > allowed:
                    raise InputTooLarge(
                        f"{name}: its streams inflate to more than the bytes allowed; refusing to read it"
                    )
    except zlib.error:
        pass  # damaged or not Flate after all: the parser decides
    return produced


def _markdown(pages: Sequence[PageLayout], texts: Sequence[Sequence[str]], scanned: dict[int, str]) -> str:
    """The blocks' texts as Markdown: a block clearly larger than the body text is a heading; a scanned page's
    translation where the page stands."""
    sizes: Counter[float] = Counter()
    for page in pages:
        for block in page.blocks:
            sizes[block.size] += len(block.text)
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    out = []
    for number, (page, page_texts) in enumerate(zip(pages, texts, strict=True)):
        for block, text in zip(page.blocks, page_texts, strict=True):
            heading = block.lines <= 3 and body and block.size >= 1.2 * body
            out.append(("# " if block.size >= 1.6 * body else "## ") + text if heading else text)
        if number in scanned:
            out.append(scanned[number].strip())
    return "\n\n".join(out) + "\n" if out else ""
