"""Document formats: each module reads a file into segments plus a skeleton, and writes it back.

Every format module has the same two verbs::

    document = read(text, name)          # Document: segments to translate + the skeleton around them
    output = document.render(translations)  # the same format, translations in place

Binary formats (:data:`BINARY`: DOCX, PDF) read and render ``bytes`` instead of ``str``. Every reader
takes :class:`Limits` and stops as soon as one is passed (the server's character limit, a ZIP
entry that would inflate absurdly, a cancelled request), before the rest of the file is read.

The skeleton is everything that is not translated (markup, timestamps, JSON fields, whitespace),
kept byte for byte. A segment whose translation equals its text gets its original bytes back, so
an identity translation gives the input file back exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from ..cancel import Cancellation
from ..errors import InputError, TextLimitExceeded

# name → (module, file extensions)
FORMATS = {
    "txt": ("txt", (".txt", ".text")),
    "md": ("markdown", (".md", ".markdown", ".mdown", ".mkd")),
    "html": ("html", (".html", ".htm", ".xhtml")),
    "srt": ("srt", (".srt",)),
    "vtt": ("vtt", (".vtt",)),
    "jsonl": ("jsonl", (".jsonl", ".ndjson")),
    "docx": ("docx", (".docx", ".docm")),
    "pdf": ("pdf", (".pdf",)),
}
BINARY = frozenset({"docx", "pdf"})
_HAS_WORD = re.compile(r"\w")
_CHECK_EVERY = 256  # segments between two checks of the cancellation


@dataclass(frozen=True)
class Limits:
    """What reading one file may produce; a reader stops at the first one passed.

    The CLI reads with the defaults (no text limit: a user's own big file is translated whole); the
    server passes its character and segment limits and its request's :class:`~tg_edge.cancel.Cancellation`.
    """

    max_chars: int | None = None
    """Most characters of translatable text (all segments together); None: no limit."""
    max_segments: int | None = None
    """Most segments; None: no limit."""
    max_unpacked: int = 1 << 30
    """Archives (DOCX): most bytes all entries may unpack to, declared and actually inflated."""
    cancel: Cancellation | None = None
    """Checked while reading: a request whose client left or whose time ran out stops reading."""


class Tally:
    """Counts a reader's segments and characters against its :class:`Limits`."""

    def __init__(self, limits: Limits | None, name: str) -> None:
        self.limits = limits or Limits()
        self.name = name
        self.chars = 0
        self.segments = 0

    def add(self, text: str) -> None:
        """One more segment of ``text``: raises :class:`TextLimitExceeded` past a limit."""
        limits = self.limits
        self.chars += len(text)
        self.segments += 1
        if limits.max_chars is not None and self.chars > limits.max_chars:
            raise TextLimitExceeded(
                f"{self.name} holds more than {limits.max_chars} characters to translate (the limit)"
            )
        if limits.max_segments is not None and self.segments > limits.max_segments:
            raise TextLimitExceeded(
                f"{self.name} holds more than {limits.max_segments} segments to translate (the limit)"
            )
        if limits.cancel is not None and self.segments % _CHECK_EVERY == 0:
            limits.cancel.check()


@dataclass(frozen=True)
class Segment:
    """A piece of text to translate and the line of the file where it starts (1-based)."""

    text: str
    line: int


@dataclass(frozen=True)
class Slot:
    """The place of one segment in the skeleton: its original text and how a translation is written there."""

    index: int
    raw: str
    fill: Callable[[str], str]


@dataclass
class Document:
    """Segments to translate and the skeleton (kept strings and slots) that puts them back."""

    parts: list[str | Slot] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)

    def render(self, translations: Sequence[str]) -> str:
        """The document with each segment replaced by its translation (an unchanged one keeps its bytes).

        An empty translation also keeps the segment's bytes: a slot is never written emptier than it was
        (the guards flag and replace empty outputs before; this holds for any caller).
        """
        if len(translations) != len(self.segments):
            raise ValueError(f"{len(translations)} translations for {len(self.segments)} segments")
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                translation = translations[part.index]
                unchanged = translation == self.segments[part.index].text or not translation.strip()
                out.append(part.raw if unchanged else part.fill(translation))
        return "".join(out)

    @property
    def source(self) -> str:
        """The original text (what rendering with an identity translation gives)."""
        return "".join(part if isinstance(part, str) else part.raw for part in self.parts)


class Builder:
    """Assembles a :class:`Document` from a left-to-right walk over the file's text.

    A format calls :meth:`keep` for skeleton, :meth:`text` for translatable text and
    :meth:`soft_break` for a line break inside a run of text (it reads as a space and is put back
    when the translation is written: see :func:`reflow`). Skeleton between two runs ends a segment.
    """

    def __init__(self, first_line: int = 1, *, limits: Limits | None = None, name: str = "the input") -> None:
        self.document = Document()
        self.tally = Tally(limits, name)
        self._kept: list[str] = []  # skeleton since the last slot, joined once (not copied on every append)
        self._run: list[tuple[bool, str]] = []  # (is_break, raw)
        self._pos_line = first_line
        self._escape: Callable[[str], str] = _identity
        self._unescape: Callable[[str], str] = _identity

    def keep(self, raw: str) -> None:
        if raw:
            self._flush()
            self._append(raw)

    def text(
        self,
        raw: str,
        *,
        escape: Callable[[str], str] | None = None,
        unescape: Callable[[str], str] | None = None,
    ) -> None:
        """Translatable source text; ``unescape`` turns its raw form into plain text, ``escape`` back."""
        if raw:
            if not self._run:
                self._escape = escape or _identity
                self._unescape = unescape or _identity
            self._run.append((False, raw))

    def soft_break(self, raw: str) -> None:
        if raw:
            if self._run:
                self._run.append((True, raw))
            else:
                self.keep(raw)

    def slot(self, raw: str, text: str, fill: Callable[[str], str]) -> None:
        """A segment with its own plain text and writer (e.g. a JSON string literal and its value)."""
        self._flush()
        self._add_segment(raw, text, fill)

    def finish(self) -> Document:
        self._flush()
        self._close_kept()
        return self.document

    def _append(self, raw: str) -> None:
        self._kept.append(raw)
        self._pos_line += raw.count("\n")

    def _close_kept(self) -> None:
        if self._kept:
            self.document.parts.append("".join(self._kept))
            self._kept = []

    def _add_segment(self, raw: str, text: str, fill: Callable[[str], str]) -> None:
        if not _HAS_WORD.search(text):  # punctuation, symbols or nothing: not worth a translation
            self._append(raw)
            return
        self.tally.add(text)
        self._close_kept()
        index = len(self.document.segments)
        self.document.segments.append(Segment(text, self._pos_line))
        self.document.parts.append(Slot(index, raw, fill))
        self._pos_line += raw.count("\n")

    def _flush(self) -> None:
        run, self._run = self._run, []
        while run and (run[0][0] or not run[0][1].strip()):
            self._append(run.pop(0)[1])
        tail: list[str] = []
        while run and (run[-1][0] or not run[-1][1].strip()):
            tail.insert(0, run.pop()[1])
        if run:
            first = run[0][1]
            lead = first[: len(first) - len(first.lstrip())]
            run[0] = (False, first[len(lead) :])
            last = run[-1][1]
            trail = last[len(last.rstrip()) :]
            run[-1] = (False, last[: len(last) - len(trail)])
            lines, breaks = [""], []
            for is_break, raw in run:
                if is_break:
                    breaks.append(raw)
                    lines.append("")
                else:
                    lines[-1] += raw
            self._append(lead)
            self._add_segment(
                "".join(raw for _, raw in run),
                " ".join(" ".join(self._unescape(line).split()) for line in lines),
                _Reflow(self._escape, tuple(breaks), tuple(len(line) for line in lines)),
            )
            self._append(trail)
        for raw in tail:
            self._append(raw)


@dataclass(frozen=True)
class _Reflow:
    """Writes a translation over the lines of the original run (see :func:`reflow`)."""

    escape: Callable[[str], str]
    breaks: tuple[str, ...]
    widths: tuple[int, ...]

    def __call__(self, translation: str) -> str:
        return reflow(self.escape(translation), self.breaks, self.widths)


def reflow(text: str, breaks: Sequence[str], widths: Sequence[int]) -> str:
    """Put ``text`` on as many lines as the original had, joined by the original breaks.

    Lines break where their share of the characters is nearest the original lines' share, so a
    two-line subtitle stays two balanced lines and a wrapped paragraph keeps its prefixes
    (``> ``, indentation). A translation with fewer words than lines gets fewer lines.
    """
    words = text.split()
    lines = min(len(breaks) + 1, len(words))
    if lines <= 1:
        return text
    before = [0]  # characters before each word, counting one space between words
    for word in words:
        before.append(before[-1] + len(word) + 1)
    total, width = before[-1] - 1, sum(widths[:lines]) or 1
    starts = [0]
    for k in range(1, lines):
        target = sum(widths[:k]) / width * total
        lowest, highest = starts[-1] + 1, len(words) - (lines - k)
        starts.append(min(range(lowest, highest + 1), key=lambda j: abs(before[j] - target)))
    starts.append(len(words))
    out = " ".join(words[starts[0] : starts[1]])
    for k in range(1, lines):
        out += breaks[k - 1] + " ".join(words[starts[k] : starts[k + 1]])
    return out


def _identity(text: str) -> str:
    return text


def format_for(path: str | Path | None, explicit: str | None = None) -> str:
    """The format name for a file: ``explicit`` if given, else by extension (unknown ones are plain text)."""
    if explicit:
        if explicit not in FORMATS:
            raise InputError(f"unknown format {explicit!r}; choose one of {', '.join(FORMATS)}")
        return explicit
    suffix = Path(path).suffix.lower() if path else ""
    for name, (_, suffixes) in FORMATS.items():
        if suffix in suffixes:
            return name
    return "txt"


_FENCE = re.compile(r"^ {0,3}(?:`{3,}|~{3,})", re.MULTILINE)
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)
_MARKDOWN_SIGNS = (
    re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+\S", re.MULTILINE),  # list item
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),  # [link](url)
    re.compile(r"\*\*[^*\n]+\*\*"),  # **bold**
    re.compile(r"`[^`\n]+`"),  # `inline code`
    re.compile(r"^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*\|", re.MULTILINE),  # table delimiter row
)


def looks_like_markdown(text: str) -> bool:
    """Whether plain ``text`` is most likely Markdown: a fenced code block (an opening and a closing fence),
    or an ATX heading (``# Title``) together with another sign (a list item, a link, bold, inline code, a
    table). Conservative: a lone fence or a ``# comment`` line is not enough."""
    if len(_FENCE.findall(text)) >= 2:
        return True
    return bool(_ATX_HEADING.search(text)) and any(sign.search(text) for sign in _MARKDOWN_SIGNS)


def read(
    text: str | bytes, name: str, format_name: str, *, limits: Limits | None = None, **options: object
) -> Document:
    """Read ``text`` (from file ``name``, for messages) in format ``format_name`` into a :class:`Document`.

    Formats in :data:`BINARY` take the file's bytes and give a document whose ``render`` returns bytes.
    Reading stops at the first of ``limits`` passed: :class:`~tg_edge.errors.TextLimitExceeded`,
    :class:`~tg_edge.errors.InputTooLarge` (an archive), :class:`~tg_edge.errors.Cancelled`.
    """
    module = import_module(f".{FORMATS[format_name][0]}", __name__)
    if limits is not None and limits.cancel is not None:
        limits.cancel.check()
    document: Document = module.read(text, name, limits=limits, **options)  # each format's read()
    return document


def known_suffixes() -> tuple[str, ...]:
    return tuple(suffix for _, suffixes in FORMATS.values() for suffix in suffixes)
