"""How long a translation runs in each language, relative to English: what the length guard expects."""

from __future__ import annotations

from types import MappingProxyType

from .codes import Language, base_code, language_code

# Characters of a translation per character of English, measured on FLORES-200 devtest
# (total characters of each language's 1012 sentences over English's). Languages not listed
# count as 1.0, which the ratio guard's wide bounds tolerate for alphabetic scripts.
LENGTH_FACTORS = MappingProxyType(
    {
        "en": 1.0,
        "de": 1.166,
        "fr": 1.195,
        "es": 1.19,
        "pt": 1.087,
        "it": 1.15,
        "nl": 1.12,
        "ru": 1.077,
        "uk": 1.05,
        "tr": 1.029,
        "sw": 1.047,
        "ar": 0.881,
        "he": 0.8,
        "hi": 0.993,
        "ja": 0.431,
        "ko": 0.5,
        "zh": 0.328,
        "zh-Hans": 0.328,
        "zh-Hant": 0.309,
        "th": 0.9,
    }
)


def length_factor(language: Language | str) -> float:
    """Characters of ``language`` per character of English (1.0 for languages not measured)."""
    return LENGTH_FACTORS.get(language_code(language)) or LENGTH_FACTORS.get(base_code(language), 1.0)
