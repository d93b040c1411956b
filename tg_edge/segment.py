"""Split text into translatable units and the whitespace skeleton between them.

Every character of the input lands in exactly one piece, so joining the pieces gives the
input back; translating means replacing the text of the translatable pieces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# A sentence ends at ., !, ? (optionally followed by closing quotes/brackets) and whitespace,
# or right after a CJK full stop. Issue 6 replaces this with a multilingual splitter.
_SENTENCE_END = re.compile(r"(?<=[.!?…][\"'”’»)\]])\s+|(?<=[.!?…])\s+|(?<=[。！？])\s*")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)


@dataclass(frozen=True)
class Piece:
    """A run of the input: text to translate, or skeleton to keep byte for byte."""

    text: str
    translate: bool


def split_text(
    text: str, count_tokens: Callable[[str], int], max_tokens: int
) -> list[Piece]:
    """Cut ``text`` into pieces: each non-empty line is translated, whitespace is kept.

    A line longer than ``max_tokens`` is cut at sentence ends, then at spaces, so no unit
    exceeds the budget and no word is cut (unless a single word alone is over budget).
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    pieces: list[Piece] = []
    for line in _LINE.findall(text):
        lead, body, trail = _EDGES.match(line).groups()  # type: ignore[union-attr]
        _add(pieces, lead, False)
        for part in _fit(body, count_tokens, max_tokens):
            _add(pieces, part.text, part.translate)
        _add(pieces, trail, False)
    return pieces


def join_pieces(pieces: Iterable[Piece], translations: Iterable[str]) -> str:
    """Rebuild the text, taking the next translation for each translatable piece."""
    out: list[str] = []
    replacements = iter(translations)
    for piece in pieces:
        out.append(next(replacements) if piece.translate else piece.text)
    return "".join(out)


def _add(pieces: list[Piece], text: str, translate: bool) -> None:
    if not text:
        return
    if not translate and pieces and not pieces[-1].translate:
        pieces[-1] = Piece(pieces[-1].text + text, False)
    else:
        pieces.append(Piece(text, translate))


def _fit(body: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[Piece]:
    if not body:
        return []
    if count_tokens(body) <= max_tokens:
        return [Piece(body, True)]
    out: list[Piece] = []
    for unit, gap in _split_keep_gaps(body, _SENTENCE_END):
        if count_tokens(unit) <= max_tokens:
            out.append(Piece(unit, True))
        else:
            out.extend(_fit_words(unit, count_tokens, max_tokens))
        if gap:
            out.append(Piece(gap, False))
    return _merge_small(out, count_tokens, max_tokens)


def _fit_words(unit: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[Piece]:
    """Greedily pack words (with their following spaces) into chunks within the budget."""
    words = re.findall(r"\S+\s*", unit) or [unit]
    if len(words) == 1:
        return _fit_chars(unit, count_tokens, max_tokens)
    chunks: list[str] = []
    for word in words:
        if chunks and count_tokens(chunks[-1] + word) <= max_tokens:
            chunks[-1] += word
        elif count_tokens(word) > max_tokens:
            chunks.extend(p.text for p in _fit_chars(word, count_tokens, max_tokens))
        else:
            chunks.append(word)
    out: list[Piece] = []
    for chunk in chunks:
        stripped = chunk.rstrip()
        out.append(Piece(stripped, True))
        if len(stripped) < len(chunk):
            out.append(Piece(chunk[len(stripped):], False))
    return out


def _fit_chars(word: str, count_tokens: Callable[[str], int], max_tokens: int) -> list[Piece]:
    """Last resort for text without spaces (e.g. Chinese or Japanese without punctuation)."""
    out: list[Piece] = []
    start = 0
    while start < len(word):
        end = len(word)
        while end - start > 1 and count_tokens(word[start:end]) > max_tokens:
            end = start + max(1, (end - start) * 3 // 4)
        out.append(Piece(word[start:end], True))
        start = end
    return out


def _split_keep_gaps(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    units: list[tuple[str, str]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() == pos and not match.group():
            continue
        units.append((text[pos:match.start()], match.group()))
        pos = match.end()
    if pos < len(text):
        units.append((text[pos:], ""))
    return [(unit, gap) for unit, gap in units if unit or gap]


def _merge_small(pieces: list[Piece], count_tokens: Callable[[str], int], max_tokens: int) -> list[Piece]:
    """Join neighbouring sentences back together while they fit, so units stay large."""
    out: list[Piece] = []
    for piece in pieces:
        if (
            piece.translate
            and len(out) >= 2
            and not out[-1].translate
            and out[-2].translate
            and "\n" not in out[-1].text
        ):
            merged = out[-2].text + out[-1].text + piece.text
            if count_tokens(merged) <= max_tokens:
                out[-2:] = [Piece(merged, True)]
                continue
        out.append(piece)
    return out
