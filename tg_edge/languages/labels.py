"""py3langid, the language detector: its model, what its labels mean in TranslateGemma's table, and which
labels it cannot tell apart.

py3langid (a maintained fork of langid.py) is a naive Bayes model over byte n-grams that ships inside its
wheel (no downloads). Its labels are ISO 639 codes, mostly the base codes of TranslateGemma's table; the
few that are not are mapped here once (:data:`LABEL_CODES`), and the detection (:mod:`.detect`) and the
language guard (:mod:`.check`) both read them from here.
"""

from __future__ import annotations

import functools
import threading
from types import MappingProxyType
from typing import Any

from .codes import base_code

# py3langid labels that TranslateGemma's table lacks, mapped to the nearest code it has. Labels
# neither have nor map (Nigerian Pidgin, Ancient Greek, "no linguistic content", ...) never win.
LABEL_CODES = MappingProxyType(
    {
        "arz": "ar-EG",  # Egyptian Arabic
        "ary": "ar-MA",  # Moroccan Arabic
        "hbo": "he",  # Ancient Hebrew: modern Hebrew text often scores here too
        "wuu": "zh",  # Wu Chinese, written with the same characters
        "yue": "zh-Hant-HK",  # Cantonese, written in traditional characters
        "gug": "gn",  # Paraguayan Guaraní
        "uzs": "uz",  # Southern Uzbek
        "sdh": "ku",  # Southern Kurdish
        "kik": "ki",  # Kikuyu
        "ltg": "lv",  # Latgalian
    }
)

# Base codes the detector labels otherwise: it knows Norwegian as one language, and Filipino as Tagalog.
_CODE_LABELS = MappingProxyType({"nb": "no", "nn": "no", "fil": "tl"})

# Languages the detector confuses with each other on FLORES references (gl: Portuguese), or that it
# cannot tell apart; each label of :data:`LABEL_CODES` joins the group of the language it maps to.
_CONFUSED = (
    {"pt", "gl"},
    {"es", "gl", "an", "ast", "ext"},
    {"ca", "oc"},
    {"hr", "sr", "bs"},
    {"ms", "id"},
    {"no", "nb", "nn", "da"},
)


def label(code: str) -> str:
    """The detector's label for a code: its base code (``zh-Hant-HK`` → ``zh``), but Norwegian Bokmål and
    Nynorsk → ``no`` and Filipino → ``tl``."""
    base = base_code(code)
    return _CODE_LABELS.get(base, base)


def _groups() -> list[set[str]]:
    same: dict[str, set[str]] = {}
    for name, code in LABEL_CODES.items():
        same.setdefault(label(code), {label(code)}).add(name)
    return [*_CONFUSED, *same.values()]


_GROUPS = _groups()
LOOKALIKES = MappingProxyType(
    {
        name: frozenset().union(*(group for group in _GROUPS if name in group))
        for group in _GROUPS
        for name in group
    }
)
"""Each label the detector confuses with others: the labels read as the same language (itself among them)."""


def indistinguishable(a: str, b: str) -> bool:
    """Whether the detector cannot tell code ``a`` from code ``b`` (the same language, or look-alikes)."""
    a, b = label(a), label(b)
    return a == b or b in LOOKALIKES.get(a, ())


_LOCK = threading.Lock()


@functools.cache
def _loaded_identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def identifier() -> Any:
    """py3langid's identifier (normalized probabilities), loaded on first use (about half a second)."""
    with (
        _LOCK
    ):  # the first call loads the model; concurrent first callers wait for it instead of loading again
        return _loaded_identifier()
