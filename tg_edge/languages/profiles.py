"""Languages by prompt profile: which a profile accepts, and which a model is made for (what the servers list).

A profile's table: ``translategemma`` keeps to TranslateGemma's table, ``chat`` and ``fewshot`` take any
BCP-47 language (:func:`accepted_language`). The languages a model is made for
(:func:`profile_languages`) are the short list a client shows its users; every code in TranslateGemma's
table stays accepted whatever the profile:

- ``translategemma``: English and the 55 WMT24++ targets TranslateGemma was evaluated on, each under the
  code clients send (``de``, not ``de-DE``), with the variants evaluated apart kept apart (``pt`` and
  ``pt-BR``, ``zh-Hans`` and ``zh-Hant``, ``fr`` and ``fr-CA``, ``ar`` and ``ar-EG``; Kenyan and Tanzanian
  Swahili are one written language: ``sw``).
- ``chat``: the same list. Instruct models (Gemma 3 IT, Llama 3.1, LFM2) are trained on the widely used
  languages; WMT24++ is the best-measured set of those.
- ``fewshot``: the languages :mod:`tg_edge.fewshot_examples` has example sentences for. A base model
  translates only with examples in its prompt; without them it copies or rambles.
"""

from __future__ import annotations

from types import MappingProxyType

from ..fewshot_examples import EXAMPLES
from ..prompts import FEWSHOT, TRANSLATEGEMMA
from .codes import Language, base_code, resolve_language
from .language_table import WMT24PP_CODES

# WMT24++ codes listed as a variant of their own; the others are listed by their base code.
_VARIANTS = MappingProxyType(
    {
        "ar-EG": "ar-EG",
        "fr-CA": "fr-CA",
        "pt-BR": "pt-BR",
        "zh-Hans": "zh-Hans",
        "zh-TW": "zh-Hant",
    }
)

_DISPLAY_NAMES = MappingProxyType(
    {
        "ar-EG": "Arabic (Egypt)",
        "fr-CA": "French (Canada)",
        "pt-BR": "Portuguese (Brazil)",
        "zh-Hans": "Chinese (Simplified)",
        "zh-Hant": "Chinese (Traditional)",
    }
)


def accepted_language(language: Language | str, profile: str | None = None) -> Language:
    """``language`` resolved (a code) or checked (a :class:`Language`) for a prompt ``profile``; ``None``: any
    language some profile accepts (for checking a command line before a model is loaded)."""
    return resolve_language(language, any_language=profile is None or profile != TRANSLATEGEMMA)


def profile_languages(profile: str) -> list[Language]:
    """The languages a model of prompt ``profile`` is made for, each once, by code."""
    codes = (
        EXAMPLES if profile == FEWSHOT else ["en", *(_VARIANTS.get(c, base_code(c)) for c in WMT24PP_CODES)]
    )
    languages: dict[str, Language] = {}
    for code in codes:
        language = resolve_language(code)
        languages.setdefault(language.code, language)
    return sorted(languages.values(), key=lambda language: language.code)


def display_name(language: Language) -> str:
    """The name a listing shows: the table's name, told apart where one language is listed twice."""
    return _DISPLAY_NAMES.get(language.code, language.name)
