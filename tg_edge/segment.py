"""Split text into translatable units and the whitespace skeleton between them.

Every character of the input lands in exactly one piece, so joining the pieces gives the
input back; translating means replacing the text of the translatable pieces.

Each line is a paragraph. A paragraph over the token budget (or every paragraph, with
``sentences=True``) is cut into sentences by :func:`split_sentences`; a sentence over the
budget is cut at clause punctuation, then between words, and only as a last resort (text
without spaces) between characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .languages import Language, base_code

# Used only when the sentence splitter library cannot be imported or gives pieces that do not
# add up to its input: ., !, ? (optionally followed by closing quotes/brackets) and whitespace,
# or right after a CJK full stop.
_SENTENCE_END = re.compile(r"(?<=[.!?…][\"'”’»)\]])\s+|(?<=[.!?…])\s+|(?<=[。！？])\s*")
# A clause ends at a comma, semicolon, colon or dash followed by whitespace, or after CJK clause marks.
_CLAUSE_END = re.compile(r"(?<=[,;:])\s+|\s+(?=[–—]\s)|(?<=[、，；：])\s*")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
# A byte-order mark at the start of a text is skeleton too: it goes back out, never to the model.
_EDGES = re.compile(r"^([\s\ufeff]*)(.*?)(\s*)$", re.DOTALL)
_WORD = re.compile(r"\S+\s*")
MIN_WORDS_TO_HALVE = 8

CountTokens = Callable[[str], int]


@dataclass(frozen=True)
class Piece:
    """A run of the input: text to translate, or skeleton to keep byte for byte."""

    text: str
    translate: bool


def split_sentences(text: str, language: Language | str | None = None) -> list[str]:
    """Cut ``text`` into sentences whose concatenation is ``text`` exactly.

    The one place tg-edge finds sentence boundaries: sentencex (rules for ~300 languages,
    abbreviations included) for ``language`` (a :class:`Language` or a code such as ``en``); whitespace
    after a sentence stays at the end of that sentence.
    """
    if not text:
        return []
    try:
        from sentencex import segment
    except ImportError:  # pragma: no cover - a core dependency; the regex keeps tg-edge usable without it
        return _regex_sentences(text)
    parts = [part for part in segment(base_code(language or "en"), text) if part]
    if "".join(parts) != text:  # never lose or invent a character, whatever the library does
        return _regex_sentences(text)
    return parts


def split_text(
    text: str,
    count_tokens: CountTokens,
    max_tokens: int,
    *,
    language: Language | str | None = None,
    sentences: bool = False,
) -> list[Piece]:
    """Cut ``text`` into pieces: each non-empty line is translated, whitespace is kept.

    A line longer than ``max_tokens`` is cut at sentence ends (neighbouring sentences are
    packed back together while they fit), then clauses, then spaces, so no unit exceeds the
    budget and no word is cut (unless a single word alone is over budget). ``sentences=True``
    makes every sentence its own unit (for models that translate one sentence at a time).
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be at least 1")
    pieces: list[Piece] = []
    for line in _LINE.findall(text):
        lead, body, trail = _EDGES.match(line).groups()  # type: ignore[union-attr]  # _EDGES matches any line
        _add(pieces, lead, False)
        for part in _fit(body, count_tokens, max_tokens, language, sentences):
            _add(pieces, part.text, part.translate)
        _add(pieces, trail, False)
    return pieces


def split_finer(text: str, language: Language | str | None = None) -> list[Piece]:
    """Cut one unit at the next finer level that gives more than one piece: sentences, clauses, words.

    Used to retry a unit whose translation failed a guard. The last level halves a clause of at least
    :data:`MIN_WORDS_TO_HALVE` words; a shorter one comes back as it is.
    """
    body = text.strip()
    for cut in (lambda t: _gapped(split_sentences(t, language)), lambda t: _split_keep_gaps(t, _CLAUSE_END)):
        parts = cut(body)
        if sum(1 for unit, _ in parts if unit) > 1:
            return _with_edges(text, _as_pieces(parts))
    words = _WORD.findall(body)
    if len(words) < MIN_WORDS_TO_HALVE:  # halves of a short sentence translate no better than the whole
        return [Piece(text, True)] if body == text else _with_edges(text, [Piece(body, True)])
    half = (len(words) + 1) // 2
    first, second = "".join(words[:half]), "".join(words[half:])
    stripped = first.rstrip()
    return _with_edges(
        text, [Piece(stripped, True), Piece(first[len(stripped) :], False), Piece(second, True)]
    )


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


def _fit(
    body: str, count_tokens: CountTokens, max_tokens: int, language: Language | str | None, sentences: bool
) -> list[Piece]:
    if not body:
        return []
    if not sentences and count_tokens(body) <= max_tokens:
        return [Piece(body, True)]
    out: list[Piece] = []
    for unit, gap in _gapped(split_sentences(body, language)):
        if count_tokens(unit) <= max_tokens:
            out.append(Piece(unit, True))
        else:
            out.extend(_fit_clauses(unit, count_tokens, max_tokens))
        if gap:
            out.append(Piece(gap, False))
    return out if sentences else _merge_small(out, count_tokens, max_tokens)


def _fit_clauses(sentence: str, count_tokens: CountTokens, max_tokens: int) -> list[Piece]:
    """A sentence over budget: clauses packed together while they fit, words for a clause still too long."""
    out: list[Piece] = []
    for unit, gap in _split_keep_gaps(sentence, _CLAUSE_END):
        if count_tokens(unit) <= max_tokens:
            out.append(Piece(unit, True))
        else:
            out.extend(_fit_words(unit, count_tokens, max_tokens))
        if gap:
            out.append(Piece(gap, False))
    return _merge_small(out, count_tokens, max_tokens)


def _fit_words(unit: str, count_tokens: CountTokens, max_tokens: int) -> list[Piece]:
    """Greedily pack words (with their following spaces) into chunks within the budget."""
    words = _WORD.findall(unit) or [unit]
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
            out.append(Piece(chunk[len(stripped) :], False))
    return out


def _fit_chars(word: str, count_tokens: CountTokens, max_tokens: int) -> list[Piece]:
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


def _gapped(parts: list[str]) -> list[tuple[str, str]]:
    """Sentences with their trailing whitespace separated out as the gap after them."""
    out = []
    for part in parts:
        unit = part.rstrip()
        if unit:
            out.append((unit, part[len(unit) :]))
        elif out:
            out[-1] = (out[-1][0], out[-1][1] + part)
        else:
            out.append(("", part))
    return out


def _regex_sentences(text: str) -> list[str]:
    return [unit + gap for unit, gap in _split_keep_gaps(text, _SENTENCE_END)]


def _split_keep_gaps(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    units: list[tuple[str, str]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() == pos and not match.group():
            continue
        units.append((text[pos : match.start()], match.group()))
        pos = match.end()
    if pos < len(text):
        units.append((text[pos:], ""))
    return [(unit, gap) for unit, gap in units if unit or gap]


def _as_pieces(parts: list[tuple[str, str]]) -> list[Piece]:
    pieces: list[Piece] = []
    for unit, gap in parts:
        _add(pieces, unit, True)
        _add(pieces, gap, False)
    return pieces


def _with_edges(text: str, pieces: list[Piece]) -> list[Piece]:
    """Pieces of ``text.strip()`` with ``text``'s own leading and trailing whitespace put back around them."""
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    out: list[Piece] = []
    _add(out, lead, False)
    for piece in pieces:
        _add(out, piece.text, piece.translate)
    _add(out, trail, False)
    return out


def _merge_small(pieces: list[Piece], count_tokens: CountTokens, max_tokens: int) -> list[Piece]:
    """Join neighbouring units back together while they fit, so units stay large."""
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
