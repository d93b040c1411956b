"""PDF pages as text blocks: pdfminer.six's layout analysis, cut into paragraphs with a box, a size and a style.

pdfminer groups a page's characters into lines and lines into boxes (columns and table cells come apart
where the gaps between them are wide). A box can still hold several paragraphs, or the cells of one table
column, so it is cut again where a line ends well short of the box's right edge, where the next line is
indented, or where the font size or weight changes: each piece is one :class:`Block`, translated as one
segment and drawn back into the rectangle its lines filled.

Coordinates are pdfminer's: PDF points, origin at the bottom left of the page as it is shown (its
``/Rotate`` applied, the media box's corner at 0, 0).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pdfminer.layout import LAParams, LTChar, LTFigure, LTImage, LTPage, LTTextBox, LTTextLine

LAYOUT = LAParams(line_margin=0.5, char_margin=2.0, word_margin=0.1, boxes_flow=0.5, all_texts=True)
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w")
_UNKNOWN = "\ufffd"
_BULLETS = frozenset("•◦▪▫‣∙·●○■□–—" + _UNKNOWN)
_CID = re.compile(r"\(cid:\d+\)")
_LEADER = re.compile(r"(?:\.\s?){4,}\s*\S*$")  # a table of contents' dots before a page number
# TeX's font names (cmbx12, cmti10, ecrm1000, sfss1095): family, weight and slant are in the letters.
_TEX = re.compile(r"^(?:cm|ec|lm|sf|tc)([a-z]*?)\d")


@dataclass(frozen=True)
class Block:
    """One paragraph (or table cell, heading, footer) of a page: its text and where and how it was drawn."""

    text: str
    rect: tuple[float, float, float, float]
    """x0, y0, x1, y1 of the lines it filled (x0 and x1 those of its box)."""
    size: float
    """Font size in points (the most common among its characters)."""
    lines: int
    font: str
    """The source font's name (e.g. ``Helvetica-Bold``), for the style of the font drawn instead."""
    color: tuple[float, ...] | None = None
    """Fill colour: one value (grey), three (RGB) or four (CMYK); None when pdfminer gave none usable."""
    pitch: float = 1.2
    """Line pitch as a share of the font size (the source block's own, within reason)."""
    parts: tuple[Block, ...] = ()
    """Its lines as one-line blocks (for cutting a block that overlaps another)."""
    room: tuple[float, float] = (0.0, 0.0)
    """x0, x1 a one-line block may grow into (up to its neighbours on the same line, or the margins)."""
    align: str = "left"
    """``left``, ``center``, ``right`` or ``justify``: how its lines stood (measured on a block of several
    lines; a one-line block's from its place on the page: a title, a page number)."""
    floor: float = 0.0
    """The lowest y its translation may run down to (above the next block or picture below it)."""


@dataclass
class PageLayout:
    """The blocks of one page in reading order, its size and how it turns (pdfminer's matrix)."""

    width: float
    height: float
    matrix: tuple[float, float, float, float, float, float]
    """User space → layout space (the page's rotation and media box offset)."""
    blocks: list[Block] = field(default_factory=list)
    images: int = 0
    """Images on the page (a page of images and no text is a scan)."""
    pictures: list[tuple[float, float, float, float]] = field(default_factory=list)
    """Rectangles of images and figures without text: a translation does not run into them."""


@dataclass
class _Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    font: str
    color: tuple[float, ...] | None


def page_layout(page: LTPage, matrix: tuple[float, float, float, float, float, float]) -> PageLayout:
    """The blocks of a laid-out page."""
    layout = PageLayout(page.width, page.height, matrix)
    boxes = [
        [part for item in box if isinstance(item, LTTextLine) for part in _lines(item)]
        for box in _boxes(page, layout)
    ]
    markers = [
        line for lines in boxes for line in lines if len(line.text) <= 3 and not _WORD.search(line.text)
    ]
    for lines in boxes:
        layout.blocks.extend(_paragraphs(lines, markers))
    layout.blocks = [_placed(block, layout) for block in _apart(layout.blocks)]
    return layout


def _placed(block: Block, layout: PageLayout) -> Block:
    """``block`` with the room it may grow into (sideways, downwards) and its alignment, from the other
    blocks and pictures of its page."""
    x0, y0, x1, y1 = block.rect
    gap = max(block.size, 6.0)
    left = min(other.rect[0] for other in layout.blocks)
    right = max(max(other.rect[2] for other in layout.blocks), layout.width - left)
    floor = min(y0, min(other.rect[1] for other in layout.blocks))
    alone = True
    others = [other.rect for other in layout.blocks if other is not block] + layout.pictures
    for ox0, oy0, ox1, oy1 in others:
        if oy1 <= y0 + 0.5 and ox0 < x1 and ox1 > x0:  # below it
            floor = max(floor, oy1 + 0.3 * block.size)
        elif oy0 >= y1 or oy1 <= y0:
            continue  # above or below, not beside it
        elif ox0 >= x1 - 0.5:
            right, alone = min(right, ox0 - gap), False
        elif ox1 <= x0 + 0.5:
            left, alone = max(left, ox1 + gap), False
    align = block.align
    if block.lines == 1:
        centred = abs((x0 + x1) / 2 - layout.width / 2) < 0.03 * layout.width
        if alone and centred and x0 > left + 2 * block.size:
            align = "center"
        elif x0 > layout.width / 2 and x1 >= right - 1:
            align = "right"
    return replace(block, room=(min(left, x0), max(right, x1)), align=align, floor=min(floor, y0))


def _apart(blocks: list[Block]) -> list[Block]:
    """Blocks that overlap another block (a column of section numbers beside their titles), and blocks of no
    word (a column of bullets), cut into their lines, each drawn where it stood."""
    out: list[Block] = []
    for block in blocks:
        if block.lines > 1 and (
            not _WORD.search(block.text)  # a column of bullets: each stays on its line
            or any(other is not block and _overlap(block.rect, other.rect) for other in blocks)
        ):
            out.extend(replace(block, text=line.text, rect=line.rect, lines=1) for line in block.parts)
        else:
            out.append(block)
    return out


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def _boxes(container, layout: PageLayout) -> Iterator[LTTextBox]:
    for element in container:
        if isinstance(element, LTTextBox):
            yield element
        elif isinstance(element, LTImage):
            layout.images += 1
            layout.pictures.append(element.bbox)
        elif isinstance(element, LTFigure):
            inner = list(_boxes(element, layout))
            if not inner:
                layout.pictures.append(element.bbox)
            yield from inner


def _paragraphs(lines: list[_Line], markers: list[_Line]) -> Iterator[Block]:
    """A box's lines cut into paragraphs; ``markers``: the page's bullets and other short lines of no word."""
    if not lines:
        return
    edges = (min(line.x0 for line in lines), max(line.x1 for line in lines))  # of the ink, not of spaces
    flush = _alignment(lines, lines[0].size) in ("left", "justify")  # else a centred or right-aligned box
    group: list[_Line] = []
    for line in lines:
        if group and (_starts_paragraph(group[-1], line, edges, flush) or _marked(line, markers)):
            yield _block(group, edges)
            group = []
        group.append(line)
    if group:
        yield _block(group, edges)


def _marked(line: _Line, markers: list[_Line]) -> bool:
    """Whether a bullet (or a dash, a number sign) stands just left of ``line``, on its baseline, or starts it."""
    if line.text[:1] in _BULLETS:
        return True
    return any(
        abs(mark.y0 - line.y0) < 0.5 * line.size and line.x0 - 3 * line.size <= mark.x1 <= line.x0 + 0.5
        for mark in markers
    )


def _starts_paragraph(previous: _Line, line: _Line, box: tuple[float, float], flush: bool) -> bool:
    """Whether ``line`` starts a paragraph after ``previous``; ``flush``: the box's lines start at its left
    edge (in a centred or right-aligned box every line but a paragraph's last fills the box's width)."""
    size = max(previous.size, line.size)
    short = max(3 * size, 0.15 * (box[1] - box[0]))
    return (
        abs(previous.size - line.size) > 0.15 * size
        or _bold(previous.font) != _bold(line.font)
        or (previous.x1 if flush else previous.x1 - previous.x0 + box[0]) < box[1] - short  # it ended early
        or (flush and line.x0 > box[0] + 1.5 * size)  # an indented first line
        or previous.y0 - line.y1 > 0.8 * size  # a gap between paragraphs
        or bool(_LEADER.search(previous.text))  # an entry of a table of contents
    )


def _lines(line: LTTextLine) -> list[_Line]:
    """A laid-out line as one :class:`_Line`, or two when it starts with a bullet (kept apart, never translated).
    A glyph pdfminer cannot map to text (``(cid:127)``) reads as U+FFFD, and as a bullet when it leads a line."""
    items = [item for item in line if isinstance(item, LTChar) and item.get_text().strip()]
    if not items:
        return []
    first = _CID.sub(_UNKNOWN, items[0].get_text())
    if len(items) > 1 and first in _BULLETS:
        bullet = (
            "•" if first == _UNKNOWN else first
        )  # an unmapped glyph leading a list item: drawn as a bullet
        return [_made(bullet, items[:1], line), _made(_text(items[1:]), items[1:], line)]
    return [_made(_SPACES.sub(" ", _CID.sub(_UNKNOWN, line.get_text())).strip(), items, line)]


def _text(items: list[LTChar]) -> str:
    """The text of ``items`` (characters of one line), a space where pdfminer saw a gap between words."""
    out, previous = "", None
    for item in items:
        if previous is not None and item.x0 - previous.x1 > 0.15 * item.size:
            out += " "
        out += _CID.sub(_UNKNOWN, item.get_text())
        previous = item
    return _SPACES.sub(" ", out).strip()


def _made(text: str, chars: list[LTChar], line: LTTextLine) -> _Line:
    sizes = Counter(round(char.size, 1) for char in chars)
    fonts = Counter(char.fontname for char in chars)
    return _Line(
        text,
        min(char.x0 for char in chars),
        line.y0,
        max(char.x1 for char in chars),
        line.y1,
        sizes.most_common(1)[0][0],
        fonts.most_common(1)[0][0],
        _color(chars[0]),
    )


def _color(char: LTChar) -> tuple[float, ...] | None:
    value = getattr(char.graphicstate, "ncolor", None)
    if isinstance(value, (int, float)):
        value = (value,)
    if (
        isinstance(value, (tuple, list))
        and len(value) in (1, 3, 4)
        and all(isinstance(v, (int, float)) and 0 <= v <= 1 for v in value)
    ):
        return tuple(float(v) for v in value)
    return None


def _block(lines: list[_Line], box: tuple[float, float]) -> Block:
    text = lines[0].text
    for line in lines[1:]:
        if text.endswith("-") and len(text) > 1 and text[-2].isalpha() and line.text[:1].islower():
            text = text[:-1] + line.text  # a word hyphenated at the end of a line
        else:
            text += " " + line.text
    sizes = Counter(line.size for line in lines)
    parts = tuple(
        Block(line.text, (line.x0, line.y0, line.x1, line.y1), line.size, 1, line.font, line.color)
        for line in lines
    )
    size = sizes.most_common(1)[0][0]
    pitch = (lines[0].y0 - lines[-1].y0) / (len(lines) - 1) / size if len(lines) > 1 else 1.2
    return Block(
        text,
        (
            min(line.x0 for line in lines),
            min(line.y0 for line in lines),
            box[1] if len(lines) > 1 else lines[0].x1,  # a one-line block grows into its room instead
            max(line.y1 for line in lines),
        ),
        size,
        len(lines),
        lines[0].font,
        lines[0].color,
        min(max(pitch, 1.0), 1.8),
        parts if len(lines) > 1 else (),
        align=_alignment(lines, size),
    )


def _alignment(lines: list[_Line], size: float) -> str:
    """How the lines of a block stand: ``justify`` (three or more, all but the last ending together),
    ``right`` or ``center`` (their ends or middles together, their starts not), else ``left``."""
    if len(lines) < 2:
        return "left"
    near = max(1.0, 0.1 * size)

    def even(values: list[float]) -> bool:
        return max(values) - min(values) <= near

    starts, ends = [line.x0 for line in lines], [line.x1 for line in lines]
    if even(starts):
        return "justify" if len(lines) >= 3 and even(ends[:-1]) else "left"
    if even(ends):
        return "right"
    if even([(line.x0 + line.x1) / 2 for line in lines]):
        return "center"
    return "left"


def _bold(font: str) -> bool:
    name = font.lower().split("+")[-1]
    tex = _TEX.match(name)
    if tex is not None:
        return "b" in tex.group(1)  # cmbx, cmb, cmssbx, cmmib
    return any(mark in name for mark in ("bold", "black", "heavy", "semibold"))


def style(font: str) -> tuple[str, bool, bool]:
    """(family: ``sans``, ``serif`` or ``mono``; bold; italic) of a source font by its name."""
    name = font.lower().split("+")[-1]  # "ABCDEF+Times-Bold": a subset's tag first
    tex = _TEX.match(name)
    if tex is not None:
        letters = tex.group(1)
        family = "mono" if "tt" in letters else "sans" if "ss" in letters else "serif"
        return family, _bold(name), any(mark in letters for mark in ("ti", "sl", "mi", "it"))
    family = (
        "mono"
        if any(mark in name for mark in ("courier", "mono", "consol", "typewriter"))
        else "serif"
        if any(mark in name for mark in ("times", "serif", "roman", "georgia", "garamond", "minion"))
        and "sans" not in name
        else "sans"
    )
    return family, _bold(name), any(mark in name for mark in ("italic", "oblique", "slant"))
