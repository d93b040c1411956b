"""Language facts, in one home: codes and names, ``auto`` and detection, look-alikes, base codes, lengths.

- :mod:`.codes`: :class:`Language`, resolving codes, aliases and names (TranslateGemma's table, any BCP-47
  language), base codes, close-match suggestions.
- :mod:`.language_table`: TranslateGemma's language table and the WMT24++ codes (generated data).
- :mod:`.detect`: which language a text is in; :mod:`.auto`: what ``source="auto"`` means.
- :mod:`.labels`: py3langid's labels, mapped into the table, and the languages it cannot tell apart.
- :mod:`.length`: how long a translation runs in each language.
- :mod:`.check`: whether a translation is in its target language (the language guard's test).
- :mod:`.profiles`: which languages each prompt profile accepts and is made for.

The names below come from here. :mod:`.check` and :mod:`.profiles` are imported by their own path
(``tg_edge.languages.check``): they build on :mod:`tg_edge.segment` and :mod:`tg_edge.prompts`, which in
turn build on :class:`Language`.
"""

from .auto import AUTO, detect_source, detection_sample, is_auto, refuse_auto_for_images
from .codes import (
    ALIASES,
    BCP47_TABLE,
    TRANSLATEGEMMA_TABLE,
    Language,
    base_code,
    language_code,
    normalize_code,
    resolve_language,
    same_language,
    suggestion,
    supported_languages,
)
from .detect import MIN_CONFIDENCE, Detection, detect_language, detect_languages, warm_up
from .language_table import LANGUAGE_NAMES, WMT24PP_CODES
from .length import LENGTH_FACTORS, length_factor

__all__ = [
    "ALIASES",
    "AUTO",
    "BCP47_TABLE",
    "LANGUAGE_NAMES",
    "LENGTH_FACTORS",
    "MIN_CONFIDENCE",
    "TRANSLATEGEMMA_TABLE",
    "WMT24PP_CODES",
    "Detection",
    "Language",
    "base_code",
    "detect_language",
    "detect_languages",
    "detect_source",
    "detection_sample",
    "is_auto",
    "language_code",
    "length_factor",
    "normalize_code",
    "refuse_auto_for_images",
    "resolve_language",
    "same_language",
    "suggestion",
    "supported_languages",
    "warm_up",
]
