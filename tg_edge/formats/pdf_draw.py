"""Writing translated PDF pages: the source text taken out of the pages, the translations drawn in its place.

The text is removed for real, not covered: every text object (``BT`` … ``ET``) is dropped from the page's
content stream and from the form XObjects it draws, so no reader can select, search or copy the source
text any more. Everything else in those streams (paths, images, shadings, clipping) and everything
outside them (annotations and links, images, the outline) is kept as it was.

Each block's translation is then drawn by reportlab on an overlay page of the same size, in the block's
rectangle, in DejaVu (shipped inside matplotlib) of the source font's family and weight, at the largest
size up to the source's at which it fits; the overlay is merged onto the page with pypdf. DejaVu Sans
covers the Latin, Greek, Cyrillic, Armenian and Georgian scripts; right-to-left and CJK scripts are refused
(:func:`tg_edge.formats.pdf.check_target`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, FloatObject, NameObject, StreamObject
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ..errors import InputError
from .pdf_layout import Block, PageLayout, style

_FILES = {
    ("sans", False, False): "DejaVuSans.ttf",
    ("sans", True, False): "DejaVuSans-Bold.ttf",
    ("sans", False, True): "DejaVuSans-Oblique.ttf",
    ("sans", True, True): "DejaVuSans-BoldOblique.ttf",
    ("serif", False, False): "DejaVuSerif.ttf",
    ("serif", True, False): "DejaVuSerif-Bold.ttf",
    ("serif", False, True): "DejaVuSerif-Italic.ttf",
    ("serif", True, True): "DejaVuSerif-BoldItalic.ttf",
    ("mono", False, False): "DejaVuSansMono.ttf",
    ("mono", True, False): "DejaVuSansMono-Bold.ttf",
    ("mono", False, True): "DejaVuSansMono-Oblique.ttf",
    ("mono", True, True): "DejaVuSansMono-BoldOblique.ttf",
}
_SMALLEST = 0.5  # a translation is never drawn smaller than half its source's size (it overflows instead)
_REPLACEMENT = "\ufffd"


@cache
def _font_directory() -> Path:
    spec = find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise InputError(
            "writing a translated PDF needs the DejaVu fonts from matplotlib: pip install 'tg-edge[pdf]'"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"


@cache
def font(family: str, bold: bool, italic: bool) -> tuple[str, frozenset[int]]:
    """The registered reportlab font name for a style, and the code points it can draw."""
    file = _FILES[(family, bold, italic)]
    name = "TgEdge-" + file.removesuffix(".ttf")
    path = _font_directory() / file
    if not path.is_file():
        raise InputError(f"writing a translated PDF needs the font {path}, which is missing")
    face = TTFont(name, str(path))
    pdfmetrics.registerFont(face)
    return name, frozenset(face.face.charToGlyph)


def strip_text(page: PageObject, reader: PdfReader | PdfWriter) -> None:
    """Remove every text object from ``page``'s content and from the form XObjects it draws."""
    if page.get_contents() is not None:
        content = ContentStream(page.get_contents(), reader)
        content.operations = _without_text(content.operations)
        page.replace_contents(content)
    _strip_forms(page.get("/Resources"), reader, set())


def _strip_forms(resources: Any, reader: PdfReader | PdfWriter, seen: set[int]) -> None:
    resources = resources.get_object() if resources is not None else None
    if not isinstance(resources, DictionaryObject) or "/XObject" not in resources:
        return
    forms = resources["/XObject"].get_object()
    if not isinstance(forms, DictionaryObject):
        return
    for reference in forms.values():
        xobject = reference.get_object()
        if id(xobject) in seen or xobject.get("/Subtype") != "/Form":
            continue
        seen.add(id(xobject))
        content = ContentStream(xobject, reader)
        content.operations = _without_text(content.operations)
        _set_data(xobject, content.get_data())
        _strip_forms(xobject.get("/Resources"), reader, seen)


def _set_data(stream: StreamObject, data: bytes) -> None:
    """Replace a stream's content; one under filters pypdf cannot encode is stored unfiltered."""
    try:
        stream.set_data(data)
    except PdfReadError:
        for key in ("/Filter", "/DecodeParms"):
            stream.pop(NameObject(key), None)
        StreamObject.set_data(stream, data)


def _without_text(operations: Sequence[tuple[list, bytes]]) -> list[tuple[list, bytes]]:
    kept, depth = [], 0
    for operands, operator in operations:
        if operator == b"BT":
            depth += 1
        elif operator == b"ET":
            depth = max(0, depth - 1)
        elif not depth:
            kept.append((operands, operator))
    return kept


def overlay(
    layouts: Sequence[PageLayout], texts: Sequence[Sequence[str]]
) -> tuple[bytes, int, list[list[Block]]]:
    """A PDF of one page per layout with each block's text drawn in its rectangle, how many characters no
    font could draw (written as U+FFFD), and each page's blocks where they were drawn (some pushed down)."""
    out = io.BytesIO()
    canvas = Canvas(out, pageCompression=1, invariant=1)  # the same bytes for the same translations
    missing = 0
    placed = []
    for layout, page_texts in zip(layouts, texts, strict=True):
        canvas.setPageSize((layout.width, layout.height))
        placed.append(_pushed(layout, page_texts))
        for block, text in zip(placed[-1], page_texts, strict=True):
            missing += _draw(canvas, block, text)
        canvas.showPage()
    canvas.save()
    return out.getvalue(), missing, placed


def move_links(page: PageObject, layout: PageLayout, placed: Sequence[Block]) -> None:
    """Move each link (its rectangle and quadrilaterals) that stood on a block's text down with the block,
    where the block was pushed down to make room for a longer translation above it."""
    a, b, c, d, e, f = layout.matrix
    det = a * d - b * c
    for reference in page.get("/Annots") or ():
        link = reference.get_object()
        if link.get("/Subtype") != "/Link" or "/Rect" not in link:
            continue
        x0, y0, x1, y1 = (float(value) for value in link["/Rect"])
        x, y = (x0 + x1) / 2, (y0 + y1) / 2
        x, y = a * x + c * y + e, b * x + d * y + f  # its middle, in layout space
        for source, moved in zip(layout.blocks, placed, strict=True):
            bx0, by0, bx1, by1 = source.rect
            drop = moved.rect[3] - by1
            if drop and bx0 <= x <= bx1 and by0 <= y <= by1:
                dx, dy = -c * drop / det, a * drop / det  # the drop, in the page's user space
                link[NameObject("/Rect")] = _shifted(link["/Rect"], dx, dy)
                if "/QuadPoints" in link:
                    link[NameObject("/QuadPoints")] = _shifted(link["/QuadPoints"], dx, dy)
                break


def _shifted(values: Sequence[Any], dx: float, dy: float) -> ArrayObject:
    return ArrayObject(
        FloatObject(round(float(value) + (dx if k % 2 == 0 else dy), 4)) for k, value in enumerate(values)
    )


def _pushed(layout: PageLayout, texts: Sequence[str]) -> list[Block]:
    """The page's blocks moved down so that each translation has the height it needs at its source's size,
    pushing the blocks below it in its column down by as much as it grows. A block whose push would run a
    block below it into a picture, a header or footer, or off the page stays where it was (and is fitted)."""
    blocks = layout.blocks
    if not blocks:
        return []
    band = 0.07 * layout.height  # headers and footers stand here: they never move
    fixed = [b.rect[1] < band or b.rect[3] > layout.height - band for b in blocks]
    grow = [0.0 if fixed[i] else _growth(b, t) for i, (b, t) in enumerate(zip(blocks, texts, strict=True))]
    margin = min(band, *(b.rect[1] for b in blocks))
    floors = [_floor(i, blocks, fixed, layout, margin) for i in range(len(blocks))]
    order = sorted(range(len(blocks)), key=lambda i: -blocks[i].rect[3])
    while any(grow):
        shift = [0.0] * len(blocks)
        for i in order:
            for j in order:
                if not fixed[j] and _below(blocks[j], blocks[i]):
                    shift[j] = max(shift[j], shift[i] + grow[i])
        stuck = [
            k for k in order if (shift[k] or grow[k]) and blocks[k].rect[1] - shift[k] - grow[k] < floors[k]
        ]
        if not stuck:
            return [
                replace(b, rect=(b.rect[0], b.rect[1] - shift[i] - grow[i], b.rect[2], b.rect[3] - shift[i]))
                if shift[i] or grow[i]
                else b
                for i, b in enumerate(blocks)
            ]
        k = stuck[0]  # the blocks that push it (and it) stay where they were
        before = sum(grow)
        for i in range(len(blocks)):
            if i == k or _below(blocks[k], blocks[i]):
                grow[i] = 0.0
        if sum(grow) == before:  # pushed from further up a column: nothing moves on this page
            break
    return list(blocks)


def _floor(i: int, blocks: Sequence[Block], fixed: list[bool], layout: PageLayout, margin: float) -> float:
    """The lowest a block may reach: above the pictures and the headers or footers below it, in its column."""
    block = blocks[i]
    x0, y0, x1, _ = block.rect
    walls = [r[3] for r in layout.pictures if r[3] <= y0 + 0.5 and r[0] < x1 and r[2] > x0]
    walls += [b.rect[3] for k, b in enumerate(blocks) if fixed[k] and k != i and _below(b, block)]
    return max([margin, *walls]) + 0.3 * block.size


def _growth(block: Block, text: str) -> float:
    """How much taller than its block a translation is at the source's size (0 if it fits)."""
    name = font(*style(block.font))[0]
    lines = wrap(text, name, block.size, _width(block))
    ascent, descent = pdfmetrics.getAscentDescent(name, block.size)
    needed = float(ascent - descent) + (len(lines) - 1) * block.size * block.pitch
    return max(0.0, needed - (block.rect[3] - block.rect[1] + 0.15 * block.size))


def _below(lower: Block, upper: Block) -> bool:
    """Whether ``lower`` stands under ``upper`` in the same column (their x ranges overlap)."""
    return (
        lower.rect[3] <= upper.rect[1] + 0.5
        and lower.rect[0] < upper.rect[2]
        and lower.rect[2] > upper.rect[0]
    )


def merge(page: PageObject, drawn: PageObject, layout: PageLayout) -> None:
    """Merge the overlay page ``drawn`` (in layout space) onto ``page`` (in its user space)."""
    a, b, c, d, e, f = layout.matrix
    det = a * d - b * c
    inverse = (d / det, -b / det, -c / det, a / det, (c * f - d * e) / det, (b * e - a * f) / det)
    page.merge_transformed_page(drawn, Transformation(inverse))


def _draw(canvas: Canvas, block: Block, text: str) -> int:
    name, glyphs = font(*style(block.font))
    text, missing = drawable(text, glyphs)
    x0, y0, x1, y1 = block.rect
    size, lines = _fit(text, name, block, _width(block))
    leading = size * block.pitch
    canvas.setFont(name, size, leading)
    _fill(canvas, block.color)
    y = y1 - pdfmetrics.getAscent(name, size)
    for number, line in enumerate(lines):
        width = pdfmetrics.stringWidth(line, name, size)
        if (
            block.align == "justify"
            and number < len(lines) - 1
            and _justified(canvas, line, name, size, block, y)
        ):
            y -= leading
            continue
        x = x1 - width if block.align == "right" else (x0 + x1 - width) / 2 if block.align == "center" else x0
        canvas.drawString(x, y, line)
        y -= leading
    return missing


def _justified(canvas: Canvas, line: str, name: str, size: float, block: Block, y: float) -> bool:
    """Draw ``line`` spread over the block's width, its words apart; False (nothing drawn) when that would
    open gaps wider than three spaces' worth beyond a space (a line of few words: left as it is)."""
    words = line.split(" ")
    x0, _, x1, _ = block.rect
    if len(words) < 2:
        return False
    widths = [pdfmetrics.stringWidth(word, name, size) for word in words]
    gap = (x1 - x0 - sum(widths)) / (len(words) - 1)
    space = pdfmetrics.stringWidth(" ", name, size)
    if gap < space or gap > 4 * space:
        return False
    x = x0
    for word, width in zip(words, widths, strict=True):
        canvas.drawString(x, y, word)
        x += width + gap
    return True


def drawable(text: str, glyphs: frozenset[int]) -> tuple[str, int]:
    """``text`` with each character the font has no glyph for (spaces aside) as U+FFFD, and how many."""
    missing = sum(1 for char in text if ord(char) not in glyphs and not char.isspace())
    if missing:
        text = "".join(char if ord(char) in glyphs or char.isspace() else _REPLACEMENT for char in text)
    return text, missing


def _width(block: Block) -> float:
    """How wide the lines of a block's translation may run: its box, or for one line the room beside it."""
    x0, _, x1, _ = block.rect
    if block.lines > 1:
        return x1 - x0
    left, right = block.room
    if block.align == "right":
        return x1 - left
    if block.align == "center":
        return 2 * min((x0 + x1) / 2 - left, right - (x0 + x1) / 2)
    return right - x0


def _fit(text: str, name: str, block: Block, width: float) -> tuple[float, list[str]]:
    """A size and lines for ``text`` in ``block``: in the block's own height if a size down to 85 % of the
    source's does it, else down into the room below it at a size down to half; overflowing at half at worst."""
    x0, y0, x1, y1 = block.rect
    for smallest, height in ((0.85, y1 - y0 + 0.15 * block.size), (_SMALLEST, y1 - block.floor)):
        size = block.size
        while True:
            lines = wrap(text, name, size, width)
            ascent, descent = pdfmetrics.getAscentDescent(name, size)
            needed = ascent - descent + (len(lines) - 1) * size * block.pitch
            if needed <= height and all(
                pdfmetrics.stringWidth(line, name, size) <= width * 1.01 for line in lines
            ):
                return size, lines
            if size <= block.size * smallest:
                break
            size = max(size * 0.92, block.size * smallest)
    return size, lines


def wrap(text: str, name: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` at a space (a longer word stands alone)."""
    lines: list[str] = []
    current = ""
    space = pdfmetrics.stringWidth(" ", name, size)
    used = 0.0
    for word in text.split():
        word_width = pdfmetrics.stringWidth(word, name, size)
        if current and used + space + word_width > width:
            lines.append(current)
            current, used = word, word_width
        else:
            current, used = (
                (f"{current} {word}", used + space + word_width) if current else (word, word_width)
            )
    if current or not lines:
        lines.append(current)
    return lines


def _fill(canvas: Canvas, color: tuple[float, ...] | None) -> None:
    if color is None:
        canvas.setFillColorRGB(0, 0, 0)
    elif len(color) == 1:
        canvas.setFillGray(color[0])
    elif len(color) == 3:
        canvas.setFillColorRGB(*color)
    else:
        canvas.setFillColorCMYK(*color)
