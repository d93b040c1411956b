"""Which language a text is in, for ``source=auto``: py3langid's shipped model, mapped into TranslateGemma's table.

py3langid (see :mod:`.labels`) classifies a sentence in well under a millisecond. It knows 97 languages.
Short texts carry few n-grams, so below :data:`SHORT_TEXT_LETTERS` letters only the widely used
languages TranslateGemma was evaluated on compete: "Guten Tag" is German, not Kabyle.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..errors import DetectionError, LanguageError
from .codes import Language, resolve_language
from .labels import LABEL_CODES, identifier, label
from .language_table import WMT24PP_CODES

SHORT_TEXT_LETTERS = 40
"""Texts with fewer letters than this are only matched against :data:`COMMON_LANGUAGES`."""

COMMON_LANGUAGES = frozenset({"en", *(label(code) for code in WMT24PP_CODES)})
"""The languages of WMT24++, which TranslateGemma was evaluated on, as py3langid labels (``tl``: Filipino)."""

MIN_CONFIDENCE = 0.15
"""Below this, :func:`detect_language` gives up (seven times the chance level among the common languages).
Single words such as "Hallo", "Danke" or "ok" are shared by too many languages to tell."""


@dataclass(frozen=True)
class Detection:
    """A language a text may be in, and how sure the model is (0 to 1)."""

    language: Language
    confidence: float


def detect_language(text: str) -> Detection:
    """The language of ``text``; :class:`DetectionError` when no language reaches :data:`MIN_CONFIDENCE`."""
    candidates = detect_languages(text)
    best = candidates[0]
    if best.confidence < MIN_CONFIDENCE:
        guesses = ", ".join(f"{c.language.name} {c.confidence:.0%}" for c in candidates)
        raise DetectionError(_undeterminable(text, f"too short or too ambiguous: {guesses}"))
    return best


def detect_languages(text: str, *, limit: int = 3) -> list[Detection]:
    """Up to ``limit`` candidate languages for ``text``, most likely first, however unsure.

    Confidences are the model's probabilities among the languages it considered (the common
    languages for a short text). Only a text without letters raises :class:`DetectionError`.
    """
    letters = sum(ch.isalpha() for ch in text)
    if letters == 0:
        raise DetectionError(_undeterminable(text, "it has no letters"))
    short = letters < SHORT_TEXT_LETTERS
    scores: dict[str, float] = {}
    languages: dict[str, Language] = {}
    for name, probability in identifier().rank(text):
        if short and name not in COMMON_LANGUAGES:
            continue
        language = _language_for(name)
        if language is None:
            continue
        languages[language.code] = language
        scores[language.code] = scores.get(language.code, 0.0) + probability
    total = sum(scores.values())
    best = sorted(scores, key=lambda code: -scores[code])[:limit]
    return [Detection(languages[code], scores[code] / total if total > 0 else 0.0) for code in best]


def warm_up() -> None:
    """Load the model now (about half a second) rather than on the first detection."""
    identifier()


@functools.cache
def _language_for(name: str) -> Language | None:
    try:
        return resolve_language(LABEL_CODES.get(name, name))
    except LanguageError:
        return None


def _undeterminable(text: str, why: str) -> str:
    shown = text.strip()
    shown = shown if len(shown) <= 40 else shown[:39] + "…"
    return f"cannot tell which language {shown!r} is in ({why}); give the source language instead of auto"
