"""HTML: tags, attributes, comments, scripts and styles stay byte for byte; text nodes and the
``alt``, ``title``, ``placeholder`` and ``aria-label`` attributes are translated.

The standard library's ``html.parser`` gives each construct's position in the source; the
text between two constructs is the raw text node. Text inside ``code``, ``pre``, ``kbd``,
``samp``, ``var``, ``script``, ``style``, ``textarea`` or an element with ``translate="no"``
is not translated.

The text is fed to the parser a piece at a time, each piece ending before a ``<``, and the segments
are built as the events come, so a reader's :class:`~tg_edge.formats.Limits` stop it early.
"""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser

from ..cancel import Cancellation
from . import Builder, Document, Limits

TRANSLATED_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label")
_NO_TRANSLATE = {"code", "pre", "kbd", "samp", "var", "script", "style", "textarea", "svg", "math"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_ATTRIBUTE = re.compile(
    r"""(?<=[\s"'])(?P<name>[^\s"'>/=]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'=<>`]+))"""
)
_LINE_BREAK = re.compile(r"[ \t]*(?:\r\n|\r|\n)\s*")
_FEED = 1 << 16  # characters fed to the parser at once (about; a piece ends before a "<")


class _Events(HTMLParser):
    """Records where each construct starts, and which text is inside a non-translated element."""

    def __init__(self, cancel: Cancellation | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[int, int, str, bool]] = []  # (line, column, kind, translatable)
        self._stack: list[tuple[str, bool]] = []  # open elements: (tag, whether its text is not translated)
        self._skips = 0  # entries of the stack whose text is not translated
        self._open: dict[str, list[int]] = {}  # tag → where it is open in the stack (no scans: "<b>" * 10**5)
        self._cancel = cancel
        self._count = 0

    def _record(self, kind: str, translatable: bool = False) -> None:
        line, column = self.getpos()
        self.events.append((line, column, kind, translatable))
        self._count += 1
        if self._cancel is not None and self._count % 4096 == 0:
            self._cancel.check()

    def _skipping(self) -> bool:
        return self._skips > 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record("tag", not self._skipping())
        if tag not in _VOID:
            skip = tag in _NO_TRANSLATE or any(
                k == "translate" and (v or "").lower() == "no" for k, v in attrs
            )
            self._open.setdefault(tag, []).append(len(self._stack))
            self._stack.append((tag, skip))
            self._skips += skip

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._record("tag", not self._skipping())

    def handle_endtag(self, tag: str) -> None:
        self._record("end")
        where = self._open.get(tag)
        if where:  # close it and everything opened inside it
            start = where[-1]
            for inner, skip in reversed(self._stack[start:]):
                self._open[inner].pop()
                self._skips -= skip
            del self._stack[start:]

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


def read(text: str, name: str, *, limits: Limits | None = None) -> Document:
    parser = _Events(limits.cancel if limits else None)
    line_starts = [0]
    for line in text.split("\n"):
        line_starts.append(line_starts[-1] + len(line) + 1)
    builder = Builder(limits=limits, name=name)
    started = False  # whether the text before the first construct is kept
    pos, last = 0, False
    while not last:
        cut = text.find("<", pos + _FEED)
        end = len(text) if cut < 0 else cut
        parser.feed(text[pos:end])
        pos = end
        last = pos >= len(text)
        if last:
            parser.close()
        events = parser.events
        offsets = [line_starts[line - 1] + column for line, column, _, _ in events]
        if offsets and not started:
            builder.keep(text[: offsets[0]])
            started = True
        # An event's text runs to the next event: the last one's is known only after the next piece.
        done = len(events) if last else len(events) - 1
        for n in range(done):
            stop = offsets[n + 1] if n + 1 < len(offsets) else len(text)
            _build(builder, events[n][2], events[n][3], text[offsets[n] : stop])
        del events[: max(done, 0)]
    if not started:
        builder.keep(text)
    return builder.finish()


def _build(builder: Builder, kind: str, translatable: bool, raw: str) -> None:
    if kind == "data" and translatable:
        _add_text(builder, raw)
    elif kind == "tag" and translatable:
        _add_tag(builder, raw)
    else:
        builder.keep(raw)


def _add_text(builder: Builder, raw: str) -> None:
    pos = 0
    for match in _LINE_BREAK.finditer(raw):
        builder.text(raw[pos : match.start()], escape=_escape_text, unescape=html.unescape)
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
        builder.slot(
            value, " ".join(html.unescape(value).split()), functools.partial(_escape_attribute, quote=quote)
        )
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
