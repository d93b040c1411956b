"""Which languages a model is made for, by prompt profile: what the servers list by default.

Every code in TranslateGemma's table stays accepted whatever the profile; this is the short list a
client shows its users:

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

from .fewshot_examples import EXAMPLES
from .language_table import WMT24PP_CODES
from .languages import Language, resolve_language
from .prompts import FEWSHOT

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


def profile_languages(profile: str) -> list[Language]:
    """The languages a model of prompt ``profile`` is made for, each once, by code."""
    codes = (
        EXAMPLES
        if profile == FEWSHOT
        else ["en", *(_VARIANTS.get(c, c.split("-")[0]) for c in WMT24PP_CODES)]
    )
    languages: dict[str, Language] = {}
    for code in codes:
        language = resolve_language(code)
        languages.setdefault(language.code, language)
    return sorted(languages.values(), key=lambda language: language.code)


def display_name(language: Language) -> str:
    """The name a listing shows: the table's name, told apart where one language is listed twice."""
    return _DISPLAY_NAMES.get(language.code, language.name)
