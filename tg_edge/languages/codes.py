"""Language codes and names: TranslateGemma's table, any BCP-47 language, normalization, aliases, helpful errors.

Two tables: TranslateGemma's (what its chat template accepts, so what the ``translategemma``
prompt profile keeps to) and, for the ``chat`` and ``fewshot`` profiles, every valid BCP-47 /
ISO 639 language with a known English name (langcodes and its language_data: ``bar`` → Bavarian).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from types import MappingProxyType

from ..errors import LanguageError
from .language_table import LANGUAGE_NAMES

# Codes people and other tools use that the template lacks, mapped to codes it accepts.
# (zh-TW, nb and no-NO are in the template itself, so they stay as they are.)
ALIASES = MappingProxyType(
    {
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
    }
)


TRANSLATEGEMMA_TABLE = "translategemma"
BCP47_TABLE = "bcp47"

# Codes that name no language (ISO 639's special codes) and names of ISO 639-5 collections
# ("Germanic languages", "Creoles and pidgins", "Chinese (family)"): no model translates into those.
_NOT_A_LANGUAGE = frozenset({"mis", "mul", "und", "zxx"})
_COLLECTION_NAME = re.compile(r"(languages|creoles and pidgins|\(family\))$", re.IGNORECASE)


@dataclass(frozen=True)
class Language:
    """A language tg-edge accepts: its canonical code, English name, and the table it came from.

    ``table`` is :data:`TRANSLATEGEMMA_TABLE` (TranslateGemma's own table: every profile takes it)
    or :data:`BCP47_TABLE` (any other BCP-47 language: the ``chat`` and ``fewshot`` profiles only).
    """

    code: str
    name: str
    table: str = TRANSLATEGEMMA_TABLE

    @property
    def base(self) -> str:
        """The base language subtag, lower-case: ``zh-Hant-HK`` → ``zh``, ``pt-BR`` → ``pt``."""
        return base_code(self.code)


def base_code(language: Language | str) -> str:
    """The base language subtag of a :class:`Language` or a code, lower-case (``pt_BR`` → ``pt``)."""
    code = language.code if isinstance(language, Language) else language
    return code.strip().replace("_", "-").split("-")[0].lower()


def same_language(source: Language, target: Language) -> bool:
    """Whether translating from ``source`` into ``target`` would change nothing: the same code once both are
    resolved (``en`` → ``en``; ``en-US`` resolves to ``en``). Another region or script is a translation of its
    own (``pt`` → ``pt-BR``, ``zh-Hans`` → ``zh-Hant``, ``de`` → ``de-CH``): spelling, words and characters
    differ, so those still go to the model."""
    return normalize_code(source.code) == normalize_code(target.code)


def language_code(language: Language | str) -> str:
    """The code of a :class:`Language`, or the code itself."""
    return language.code if isinstance(language, Language) else language


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


def resolve_language(code: Language | str, *, any_language: bool = False) -> Language:
    """The :class:`Language` for ``code``, accepting aliases and case/underscore variants.

    TranslateGemma's table comes first: a regional code it lacks falls back to its base language
    (``de-AT`` → ``de``), and English names work (``German``). With ``any_language`` (the ``chat``
    and ``fewshot`` profiles) any other valid BCP-47 code, or a language's name, gives a language of
    :data:`BCP47_TABLE` (``bar`` → Bavarian). Raises :class:`LanguageError` naming close matches
    for anything else, and saying so when a language exists but the table in use lacks it.
    A :class:`Language` comes back as it is when the table in use accepts it.
    """
    if isinstance(code, Language):
        if code.table == TRANSLATEGEMMA_TABLE or any_language:
            return code
        code = code.code
    if not code or not code.strip():
        raise LanguageError("empty language code (`tg-edge languages` lists them all)")
    found = _from_translategemma(code)
    if found is not None:
        return found
    wider = _from_bcp47(code)
    if wider is not None and wider.table == TRANSLATEGEMMA_TABLE:  # a deprecated or odd spelling: mo → ro
        return wider
    if wider is not None and any_language:
        slip = _slip_suggestion(code, wider)
        if slip:  # "dee" is Dewoin, but far more likely a slip for "de": make the rare meaning explicit
            raise LanguageError(
                f"unknown language {code!r}{slip} ({code!r} is also {wider.name}, a language few "
                f"tools know: give its name, {wider.name!r}, to mean it)"
            )
        return wider
    if wider is not None:
        raise LanguageError(
            f"unknown language {code!r} for the translategemma prompt profile: {wider.name} ({wider.code!r}) "
            f"is not in TranslateGemma's language table{_slip_suggestion(code, wider)} (models with the chat or "
            "fewshot profile accept any BCP-47 language; `tg-edge languages` lists TranslateGemma's)"
        )
    raise LanguageError(
        f"unknown language {code!r}{suggestion(code, any_language=any_language)} "
        + (
            "(any BCP-47 / ISO 639 language code or English name)"
            if any_language
            else "(`tg-edge languages` lists them all)"
        )
    )


def _slip_suggestion(code: str, language: Language) -> str:
    """A suggestion for a real language missing from TranslateGemma's table, when it may be a slip.

    Only for a bare short code of a language few locales have a name for (``dee``, Dewoin, next to
    ``de``): a well-known one (``bar``, ``gsw``), a name or a regional code meant that language.
    """
    from language_data.name_data import CODE_TO_NAMES

    typed = code.strip()
    if not (typed.isalpha() and len(typed) <= 3) or len(CODE_TO_NAMES.get(language.base, {})) >= 10:
        return ""
    return suggestion(typed)


def _from_translategemma(code: str) -> Language | None:
    """The entry of TranslateGemma's table for ``code`` (aliases, region fallback, names), if any."""
    normalized = normalize_code(code)
    for candidate in (normalized, ALIASES.get(normalized), normalized.split("-")[0]):
        if candidate and candidate in LANGUAGE_NAMES:
            return Language(candidate, LANGUAGE_NAMES[candidate])
        if candidate and candidate in ALIASES:
            canonical = ALIASES[candidate]
            return Language(canonical, LANGUAGE_NAMES[canonical])
    by_name = _codes_by_name().get(code.strip().lower())
    return Language(by_name, LANGUAGE_NAMES[by_name]) if by_name else None


@functools.cache
def _codes_by_name() -> dict[str, str]:
    by_name: dict[str, str] = {}
    for known, name in LANGUAGE_NAMES.items():
        by_name.setdefault(name.lower(), known)  # the first code of a name is its base code
    return by_name


def _from_bcp47(code: str) -> Language | None:
    """Any valid BCP-47 language with a known English name (by code or by name), or ``None``.

    A code langcodes spells differently (deprecated ``mo`` → ``ro``) that lands in TranslateGemma's
    table gives that table's entry. An invalid or unnamed region falls back to the language
    (``bar-XY`` → ``bar``). Names are looked up in any language (``Bairisch`` → ``bar``).
    """
    import langcodes  # imported only here: TranslateGemma's table needs none of its data

    try:
        tag = langcodes.Language.get(normalize_code(code))
        if not tag.is_valid() and tag.language:
            tag = langcodes.Language.get(tag.language)
    except ValueError:  # langcodes' LanguageTagError is one
        tag = None
    if (tag is None or not tag.is_valid()) and not re.search(r"[-_]", code):
        if not _is_language_name(code):
            return None  # langcodes.find would take "klingonx" for "Klingon": a near miss gets "did you mean"
        try:
            tag = langcodes.find(code.strip())
        except LookupError:
            return None
    if tag is None or not tag.is_valid():
        return None
    if "Unknown" in tag.display_name("en"):  # a private-use region or script: keep the language
        tag = langcodes.Language.get(tag.language or "und")
    if not tag.language or tag.language in _NOT_A_LANGUAGE or tag.language.startswith("x-"):
        return None
    name = tag.language_name("en")
    if name.startswith("Unknown language") or _COLLECTION_NAME.search(name):
        return None
    canonical = tag.to_tag()
    in_table = _from_translategemma(canonical) if normalize_code(canonical) != normalize_code(code) else None
    return in_table or Language(canonical, tag.display_name("en"), BCP47_TABLE)


def _is_language_name(text: str) -> bool:
    """Whether ``text`` is exactly the name of a language in some language (``Klingon``, ``Bairisch``,
    ``Brazilian Portuguese``), not merely one with something after it, as langcodes' lookup also accepts."""
    from language_data.names import normalize_name

    return normalize_name(text) in _language_names()


@functools.cache
def _language_names():  # a marisa trie of every language's name in every language, as langcodes.find uses
    from language_data.names import load_trie
    from language_data.util import data_filename

    return load_trie(data_filename("trie/und/name_to_language.marisa"))


def supported_languages() -> list[Language]:
    """Every language in the table, in the table's order."""
    return [Language(code, name) for code, name in LANGUAGE_NAMES.items()]


def suggestion(code: str, *, any_language: bool = False) -> str:
    """'; did you mean ...?' for the codes (or names) closest to ``code``, best first.

    From TranslateGemma's table; with ``any_language`` also from the English names of every
    BCP-47 language (``bavarain`` → ``'bar' (Bavarian)``).
    """
    ranked = _closest_in_translategemma(code)
    if any_language:
        ranked += [c for c in _closest_by_bcp47_name(code) if c not in ranked]
    ranked = ranked[:3]
    if not ranked:
        return ""
    names = _bcp47_names() if any_language else {}
    quoted = [f"'{c}' ({names[c]})" if c in names and c not in LANGUAGE_NAMES else f"'{c}'" for c in ranked]
    return (
        "; did you mean "
        + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1])
        + "?"
    )


def _closest_in_translategemma(code: str) -> list[str]:
    typed = normalize_code(code)
    pool = list(LANGUAGE_NAMES) + list(ALIASES)
    if "-" not in typed:  # someone typing a bare code wants a bare code, not one of 400 regional variants
        pool = [c for c in pool if "-" not in c]
    scored: dict[str, float] = {}
    for candidate in pool:
        score = difflib.SequenceMatcher(None, typed.lower(), candidate.lower()).ratio()
        prefix = typed.lower().startswith(candidate.lower()) or candidate.lower().startswith(typed.lower())
        code_like = len(typed) <= 3 or "-" in typed or len(typed) - len(candidate) <= 2
        if prefix and code_like:  # "klingonx" is a name, no slip for "kl"
            score += 0.2  # "dee" is far more likely a slip for "de" than for "ee"
        scored[candidate] = score
    name = code.strip().lower()
    for candidate, language in LANGUAGE_NAMES.items():
        if "-" not in candidate:
            scored[candidate] = max(
                scored.get(candidate, 0.0), difflib.SequenceMatcher(None, name, language.lower()).ratio()
            )
    ranked = sorted((c for c in scored if scored[c] >= 0.6), key=lambda c: -scored[c])[:3]
    if len(ranked) > 1 and scored[ranked[0]] - scored[ranked[1]] >= 0.15:
        ranked = ranked[:1]
    return ranked


def _closest_by_bcp47_name(text: str) -> list[str]:
    """Codes of the languages whose English names are closest to ``text`` (a misspelt name)."""
    typed = text.strip().lower()
    if len(typed) < 4:  # a code, not a name: thousands of three-letter codes are all "close"
        return []
    by_name: dict[str, str] = {}
    for code, name in _bcp47_names().items():
        by_name.setdefault(name.lower(), code)
    return [by_name[name] for name in difflib.get_close_matches(typed, list(by_name), n=3, cutoff=0.8)]


@functools.cache
def _bcp47_names() -> dict[str, str]:
    """English names of every language subtag language_data names (about 8,000)."""
    from language_data.name_data import CODE_TO_NAMES

    return {
        code: names["en"]
        for code, names in CODE_TO_NAMES.items()
        if "en" in names
        and code.isalpha()
        and code.islower()
        and len(code) <= 3
        and code not in _NOT_A_LANGUAGE
        and not _COLLECTION_NAME.search(names["en"])
    }
