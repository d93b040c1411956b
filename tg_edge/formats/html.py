"""HTML: tags, attributes, comments, scripts and styles stay byte for byte; text nodes and the
``alt``, ``title``, ``placeholder`` and ``aria-label`` attributes are translated.

The standard library's ``html.parser`` gives each construct's position in the source; the
text between two constructs is the raw text node. Text inside ``code``, ``pre``, ``kbd``,
``samp``, ``var``, ``script``, ``style``, ``textarea`` or an element with ``translate="no"``
is not translated.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from . import Builder, Document

TRANSLATED_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")
_NO_TRANSLATE = {"code", "pre", "kbd", "samp", "var", "script", "style", "textarea", "svg", "math"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_ATTRIBUTE = re.compile(
    r"""(?<=[\s"'])(?P<name>[^\s"'>/=]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+))""")
_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")


class _Events(HTMLParser):
    """Records where each construct starts, and which text is inside a non-translated element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[int, int, str, bool]] = []  # (line, column, kind, translatable)
        self._stack: list[tuple[str, bool]] = []

    def _record(self, kind: str, translatable: bool = False) -> None:
        line, column = self.getpos()
        self.events.append((line, column, kind, translatable))

    def _skipping(self) -> bool:
        return any(skip for _, skip in self._stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record("tag", not self._skipping())
        if tag not in _VOID:
            skip = tag in _NO_TRANSLATE or any(k == "translate" and (v or "").lower() == "no" for k, v in attrs)
            self._stack.append((tag, skip))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record("tag", not self._skipping())

    def handle_endtag(self, tag: str) -> None:
        self._record("end")
        for n in range(len(self._stack) - 1, -1, -1):
            if self._stack[n][0] == tag:
                del self._stack[n:]
                break

    def handle_data(self, data: str) -> None:
        self._record("data", not self._skipping())

    def handle_comment(self, data: str) -> None:
        self._record("other")

    def handle_decl(self, decl: str) -> None:
        self._record("other")

    def handle_pi(self, data: str) -> None:
        self._record("other")

    def unknown_decl(self, data: str) -> None:
        self._record("other")


def read(text: str, name: str) -> Document:
    parser = _Events()
    parser.feed(text)
    parser.close()
    line_starts = [0]
    for line in text.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    offsets = [line_starts[line - 1] + column for line, column, _, _ in parser.events]
    builder = Builder()
    builder.keep(text[: offsets[0]] if offsets else text)
    for n, (_, _, kind, translatable) in enumerate(parser.events):
        raw = text[offsets[n]: offsets[n + 1] if n + 1 < len(offsets) else len(text)]
        if kind == "data" and translatable:
            _add_text(builder, raw)
        elif kind == "tag" and translatable:
            _add_tag(builder, raw)
        else:
            builder.keep(raw)
    return builder.finish()


def _add_text(builder: Builder, raw: str) -> None:
    pos = 0
    for match in _LINE_BREAK.finditer(raw):
        builder.text(raw[pos:match.start()], escape=_escape_text, unescape=html.unescape)
        builder.soft_break(match.group())
        pos = match.end()
    builder.text(raw[pos:], escape=_escape_text, unescape=html.unescape)


def _add_tag(builder: Builder, raw: str) -> None:
    """A start tag: kept, except the values of the attributes people read."""
    end = raw.find(">") + 1 or len(raw)
    tag, rest = raw[:end], raw[end:]
    pos = 0
    for match in _ATTRIBUTE.finditer(tag):
        if match.group("name").lower() not in TRANSLATED_ATTRIBUTES:
            continue
        group = next(g for g in ("dq", "sq", "bare") if match.group(g) is not None)
        start, stop = match.span(group)
        quote = '"' if group == "dq" else "'" if group == "sq" else None
        builder.keep(tag[pos:start])
        value = tag[start:stop]
        builder.slot(value, " ".join(html.unescape(value).split()),
                     lambda t, q=quote: _escape_attribute(t, q))
        pos = stop
    builder.keep(tag[pos:])
    if rest:  # text the parser delivered with the tag (should not happen with convert_charrefs)
        _add_text(builder, rest)


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_attribute(text: str, quote: str | None) -> str:
    escaped = _escape_text(text)
    if quote == "'":
        return escaped.replace("'", "&#x27;")
    if quote == '"':
        return escaped.replace('"', "&quot;")
    return '"' + escaped.replace('"', "&quot;") + '"'  # a bare value gets quotes: the translation has spaces
