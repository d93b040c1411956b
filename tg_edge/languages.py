"""Language codes and names: TranslateGemma's table, normalization, aliases, and helpful errors."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from types import MappingProxyType

from .errors import LanguageError
from .language_table import LANGUAGE_NAMES

# Codes people and other tools use that the template lacks, mapped to codes it accepts.
# (zh-TW, nb and no-NO are in the template itself, so they stay as they are.)
ALIASES = MappingProxyType({
    "zh-CN": "zh-Hans",
    "zh-SG": "zh-Hans-SG",
    "zh-HK": "zh-Hant-HK",
    "zh-MO": "zh-Hant-MO",
    "en-US": "en",
    "is-IS": "is",
    "nb-NO": "nb",
    "nn-NO": "nn",
    "fil": "fil-PH",
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "zt": "zh-Hant",  # LibreTranslate's code for Traditional Chinese
    "pb": "pt-BR",  # LibreTranslate's code for Brazilian Portuguese
})


@dataclass(frozen=True)
class Language:
    """A language tg-edge accepts: its canonical code and English name."""

    code: str
    name: str


def normalize_code(code: str) -> str:
    """Canonical spelling of a BCP 47-like code: ``EN_us`` → ``en-US``, ``zh-hans`` → ``zh-Hans``."""
    parts = code.strip().replace("_", "-").split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())  # script subtag
        elif len(part) in (2, 3):
            out.append(part.upper())  # region subtag
        else:
            out.append(part)
    return "-".join(out)


def resolve_language(code: str) -> Language:
    """The :class:`Language` for ``code``, accepting aliases and case/underscore variants.

    A regional code the table lacks falls back to its base language (``de-AT`` → ``de``).
    Raises :class:`LanguageError` naming close matches for anything else.
    """
    if not code or not code.strip():
        raise LanguageError("empty language code (`tg-edge languages` lists them all)")
    normalized = normalize_code(code)
    for candidate in (normalized, ALIASES.get(normalized), normalized.split("-")[0]):
        if candidate and candidate in LANGUAGE_NAMES:
            return Language(candidate, LANGUAGE_NAMES[candidate])
        if candidate and candidate in ALIASES:
            canonical = ALIASES[candidate]
            return Language(canonical, LANGUAGE_NAMES[canonical])
    by_name: dict[str, str] = {}
    for known, name in LANGUAGE_NAMES.items():
        by_name.setdefault(name.lower(), known)  # the first code of a name is its base code
    if code.strip().lower() in by_name:
        canonical = by_name[code.strip().lower()]
        return Language(canonical, LANGUAGE_NAMES[canonical])
    raise LanguageError(f"unknown language {code!r}{suggestion(code)} (`tg-edge languages` lists them all)")


def supported_languages() -> list[Language]:
    """Every language in the table, in the table's order."""
    return [Language(code, name) for code, name in LANGUAGE_NAMES.items()]


def suggestion(code: str) -> str:
    """'; did you mean ...?' for the codes (or names) closest to ``code``, best first."""
    typed = normalize_code(code)
    pool = list(LANGUAGE_NAMES) + list(ALIASES)
    if "-" not in typed:  # someone typing a bare code wants a bare code, not one of 400 regional variants
        pool = [c for c in pool if "-" not in c]
    scored: dict[str, float] = {}
    for candidate in pool:
        score = difflib.SequenceMatcher(None, typed.lower(), candidate.lower()).ratio()
        if typed.lower().startswith(candidate.lower()) or candidate.lower().startswith(typed.lower()):
            score += 0.2  # "dee" is far more likely a slip for "de" than for "ee"
        scored[candidate] = score
    name = code.strip().lower()
    for candidate, language in LANGUAGE_NAMES.items():
        if "-" not in candidate:
            scored[candidate] = max(scored.get(candidate, 0.0), difflib.SequenceMatcher(None, name, language.lower()).ratio())
    ranked = sorted((c for c in scored if scored[c] >= 0.6), key=lambda c: -scored[c])[:3]
    if not ranked:
        return ""
    if len(ranked) > 1 and scored[ranked[0]] - scored[ranked[1]] >= 0.15:
        ranked = ranked[:1]
    quoted = [f"'{m}'" for m in ranked]
    return "; did you mean " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]) + "?"
