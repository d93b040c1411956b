"""Scanned PDF pages (pictures, no text layer) translated through a model that reads images.

A scanned page is rendered to pixels with pypdfium2 (whatever its pictures are: one image, strips, masks,
a turned page), the pixels go through the translator's image path (:meth:`Translator.translate_image`,
TranslateGemma with its vision projector), and the translation is drawn on a page of its own, of the
scan's size, placed right after the scan: the scan stays as it was (a reader still sees its pictures and
handwriting), and the page after it reads in the target language. A text-only model has no image path:
its scans are kept untranslated (:mod:`.pdf` names them, and refuses a file of nothing but scans).

Only :func:`scan_reader` may be imported without the pdf extra (the jobs ask it before reading a file).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import ImagesUnsupported, InputError, LanguageError
from ..images import RgbImage

if TYPE_CHECKING:
    from ..languages import Language
    from ..translator import TranslationOptions, Translator

log = logging.getLogger(__name__)

ScanReader = Callable[[RgbImage], tuple[str, str]]
"""A scanned page's pixels → its translated text and the problem the guards found in it ("" when none)."""
_DPI = 150  # enough for print-sized letters; the vision encoder scales the page down to its own size
_LONGEST = 1600  # pixels on the longest side, whatever the page's size
_SIZE = 11.0  # the text page's font size, shrunk down to _SMALLEST before a page runs on to another
_SMALLEST = 7.0
_PITCH = 1.3


def scan_reader(
    translator: Translator,
    *,
    source: Language | str,
    target: Language | str,
    options: TranslationOptions | None = None,
) -> ScanReader | None:
    """What translates scanned pages with ``translator``, or None when it cannot: a text-only model (no image
    prompt, or no vision projector), or ``source`` ``auto`` (a picture has no text to detect it from)."""
    if not translator.reads_images:
        return None
    try:
        translator.render_image_prompt(source=source, target=target)  # refuses auto, like every image call
    except (ImagesUnsupported, LanguageError):
        return None

    def read(image: RgbImage) -> tuple[str, str]:
        result = translator.translate_image(image, source=source, target=target, options=options)
        return result.text, next((s.problem for s in result.segments if s.problem), "")

    return read


def page_image(data: bytes, index: int, name: str) -> RgbImage:
    """Page ``index`` (0-based) of the PDF ``data`` rendered to RGB pixels, upright, on white."""
    try:
        import pypdfium2
    except ImportError:
        raise InputError(
            "translating scanned PDF pages needs pypdfium2 (the pdf extra): pip install 'tg-edge[pdf]'"
        ) from None
    try:
        document = pypdfium2.PdfDocument(data)
        try:
            page = document[index]
            width, height = page.get_size()
            scale = min(_DPI / 72, _LONGEST / max(width, height, 1.0))
            picture = page.render(scale=scale).to_pil().convert("RGB")
        finally:
            document.close()
    except pypdfium2.PdfiumError as exc:
        raise InputError(f"{name}: page {index + 1} cannot be rendered: {exc}") from None
    return RgbImage(f"{name}, page {index + 1}", picture.width, picture.height, picture.tobytes())


def text_pages(sizes: Sequence[tuple[float, float]], texts: Sequence[str]) -> tuple[bytes, list[int], int]:
    """A PDF of each text drawn on pages of its size (one, or more for a text too long for one at the smallest
    size), how many pages each took, and how many characters no font could draw (written as U+FFFD)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfgen.canvas import Canvas

    from .pdf_draw import drawable, font

    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=1, invariant=1)
    name, glyphs = font("sans", False, False)
    counts, missing = [], 0
    for (width, height), text in zip(sizes, texts, strict=True):
        text, lacking = drawable(text, glyphs)
        missing += lacking
        margin = min(width, height) * 0.1
        size, lines = _fit(text, name, width - 2 * margin, height - 2 * margin)
        per_page = max(1, int((height - 2 * margin) // (size * _PITCH)))
        pages = [lines[k : k + per_page] for k in range(0, len(lines), per_page)] or [[]]
        for page in pages:
            canvas.setPageSize((width, height))
            canvas.setFont(name, size)
            y = height - margin - pdfmetrics.getAscent(name, size)
            for line in page:
                canvas.drawString(margin, y, line)
                y -= size * _PITCH
            canvas.showPage()
        counts.append(len(pages))
    canvas.save()
    return out.getvalue(), counts, missing


def _fit(text: str, name: str, width: float, height: float) -> tuple[float, list[str]]:
    """The largest size from :data:`_SIZE` down to :data:`_SMALLEST` at which ``text`` (its line breaks kept
    as paragraphs) fits in ``width`` × ``height``, and its lines at that size."""
    from .pdf_draw import wrap

    size = _SIZE
    while True:
        lines = [
            piece
            for paragraph in text.splitlines()
            for line in wrap(paragraph, name, size, width)
            for piece in _broken(line, name, size, width)
        ]
        if len(lines) * size * _PITCH <= height or size <= _SMALLEST:
            return size, lines
        size = max(size * 0.9, _SMALLEST)


def _broken(line: str, name: str, size: float, width: float) -> list[str]:
    """``line`` as it is, or cut between characters where one word is wider than the page (nothing runs off)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(line, name, size) <= width:
        return [line]
    pieces = [""]
    for char in line:
        if pieces[-1] and stringWidth(pieces[-1] + char, name, size) > width:
            pieces.append("")
        pieces[-1] += char
    return pieces


def translate_scans(
    data: bytes, name: str, pages: Sequence[int], reader: ScanReader
) -> dict[int, tuple[str, str]]:
    """Each scanned page (0-based ``pages``) read and translated by ``reader``: page → (text, problem)."""
    done = {}
    for index in pages:
        log.info("%s: translating scanned page %d through the image path", name, index + 1)
        done[index] = reader(page_image(data, index, name))
    return done
