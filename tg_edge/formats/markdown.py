"""Markdown: headings, paragraphs, list items, block quotes and table cells are translated; their
markup stays byte for byte, and so do code blocks, inline code, link and image URLs, HTML,
front matter and everything else markdown-it-py does not parse as text.

markdown-it-py finds the blocks and their lines (its token maps); inside a block, the spans that
are not prose (code, URLs, tags, emphasis markers) are kept and the prose between them is
translated. Prose wrapped over several lines is translated as one and wrapped back over as
many lines, each keeping its prefix (``> ``, indentation).
"""

from __future__ import annotations

import logging
import re

from . import Builder, Document, Limits

log = logging.getLogger("tg_edge")

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\r?\n")
_TEXT_BLOCKS = {"paragraph_open", "heading_open", "th_open", "td_open"}
# Spans inside prose that are not prose.
_INLINE_KEEP = re.compile(
    r"(?P<code>(`+)[\s\S]*?(?<!`)\2(?!`))"  # inline code
    r"|<[A-Za-z][A-Za-z0-9+.-]*:[^<>\s]*>"  # autolink <https://...>
    r"|<[A-Za-z/!?][^<>]*>"  # inline HTML
    r"|\]\((?:[^()\s]|\([^()]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"  # ](url "title")
    r"|\]\[[^\]]*\]"  # ][reference]
    r"|\[\^[^\]]+\]:?"  # footnote reference or definition
    r"|!?\["  # [ and ![ opening link or image text
    r"|\]"
    r"|\bhttps?://[^\s<>()\[\]]+"  # bare URL
    r"|(?<![\w*~])[*_~]{1,3}(?=\S)|(?<=\S)[*_~]{1,3}(?![\w*~])"  # emphasis / strikethrough markers
    r"|\{#[^}]*\}"  # heading id
    r"|\\$"  # backslash hard break
)


def read(text: str, name: str, *, limits: Limits | None = None) -> Document:
    from markdown_it import MarkdownIt

    lines = _LINES.findall(text)
    if lines and lines[-1] == "":
        lines.pop()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    parse_text = _blank_front_matter(text, lines)
    # Blocks only: the reader needs each inline token's content and lines, not its parsed children, and
    # inline parsing is where markdown-it's time grows with the square of a hostile line ("[[[[...").
    tokens = MarkdownIt("commonmark").enable("table").disable("inline").parse(parse_text)
    regions = []
    cursors: dict[int, int] = {}  # line → column after the last text found on it (table cells share lines)
    for before, token in zip([None, *tokens], tokens, strict=False):
        if token.type != "inline" or token.map is None or before is None or before.type not in _TEXT_BLOCKS:
            continue
        spans = _locate(
            token.content, token.map[0], lines, starts, cursors, cells=before.type in ("th_open", "td_open")
        )
        if spans is None:
            log.warning(
                "%s, line %d: kept untranslated (could not map the text to its source)",
                name,
                token.map[0] + 1,
            )
            continue
        regions.append(spans)
    builder = Builder(limits=limits, name=name)
    pos = 0
    for spans in sorted(regions, key=lambda s: s[0][0]):
        if spans[0][0] < pos:  # overlapping regions (should not happen): keep the later one as is
            continue
        builder.keep(text[pos : spans[0][0]])
        _add_prose(builder, text, spans)
        pos = spans[-1][1]
    builder.keep(text[pos:])
    return builder.finish()


def _blank_front_matter(text: str, lines: list[str]) -> str:
    """The text with a leading YAML/TOML front matter block blanked (same line count) so it is not parsed."""
    opener = _FRONT_MATTER.match(text)
    if not opener:
        return text
    fence = opener.group().strip()
    for n, line in enumerate(lines[1:], start=1):
        if line.strip() == fence:
            return "\n" * (n + 1) + "".join(lines[n + 1 :])
    return text


def _locate(
    content: str, first: int, lines: list[str], starts: list[int], cursors: dict[int, int], *, cells: bool
):
    """Absolute (start, end) of each non-empty content line in the source, or None if one is not found."""
    spans = []
    for i, piece in enumerate(content.split("\n")):
        piece = piece.strip()
        if not piece:
            continue
        n = first + i
        if n >= len(lines):
            return None
        source = lines[n].rstrip("\r\n")
        cursor = cursors.get(n, 0)
        end = len(source.rstrip())
        if not cells and source.rstrip().endswith(piece) and end - len(piece) >= cursor:
            at = end - len(piece)
        else:
            at = source.find(piece, cursor)
        if at < 0:
            return None
        spans.append((starts[n] + at, starts[n] + at + len(piece)))
        cursors[n] = at + len(piece)
    return spans or None


def _add_prose(builder: Builder, text: str, spans: list[tuple[int, int]]) -> None:
    for k, (start, end) in enumerate(spans):
        line = text[start:end]
        pos = 0
        for match in _INLINE_KEEP.finditer(line):
            builder.text(line[pos : match.start()])
            builder.keep(match.group())
            pos = match.end()
        builder.text(line[pos:])
        if k + 1 < len(spans):
            between = text[end : spans[k + 1][0]]
            hard = line.endswith(("  ", "\\")) or text[end : end + 2] == "  "
            if hard:
                builder.keep(between)
            else:
                builder.soft_break(between)
