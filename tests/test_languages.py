"""Language codes: TranslateGemma's table, any BCP-47 language, normalization, aliases and helpful errors."""

import contextlib
import re
from pathlib import Path

import pytest

from tg_edge import LanguageError, resolve_language, supported_languages
from tg_edge.languages import (
    ALIASES,
    BCP47_TABLE,
    LANGUAGE_NAMES,
    TRANSLATEGEMMA_TABLE,
    WMT24PP_CODES,
    Language,
    base_code,
    normalize_code,
)
from tg_edge.prompts import ChatProfile, FewShotProfile, TranslateGemmaProfile

TEMPLATE = Path(__file__).parent / "data" / "translategemma_chat_template.jinja"


@pytest.mark.parametrize(
    ("typed", "code", "name"),
    [
        ("en", "en", "English"),
        ("DE", "de", "German"),
        ("en-GB", "en-GB", "English"),
        ("en_gb", "en-GB", "English"),
        ("pt-BR", "pt-BR", "Portuguese"),
        ("pt_pt", "pt-PT", "Portuguese"),
        ("zh-hans", "zh-Hans", "Chinese"),
        ("zh-Hant", "zh-Hant", "Chinese"),
        ("zh-CN", "zh-Hans", "Chinese"),
        ("zh_cn", "zh-Hans", "Chinese"),
        ("zh-TW", "zh-TW", "Chinese"),  # in the template itself, so kept as TranslateGemma was trained
        ("en-US", "en", "English"),
        ("is-IS", "is", "Icelandic"),
        ("fil", "fil-PH", "Filipino"),
        ("fil-PH", "fil-PH", "Filipino"),
        ("nb", "nb", "Norwegian Bokmål"),
        ("no-NO", "no-NO", "Norwegian"),
        ("nb-NO", "nb", "Norwegian Bokmål"),
        ("iw", "he", "Hebrew"),
        ("sr-Latn-ME", "sr-Latn-ME", "Serbian"),
        ("de-XX", "de", "German"),  # a region the table lacks falls back to the language
        ("es-419", "es", "Spanish"),
        ("German", "de", "German"),
        ("french", "fr", "French"),
    ],
)
def test_codes_resolve_to_codes_the_template_accepts(typed: str, code: str, name: str) -> None:
    language = resolve_language(typed)
    assert (language.code, language.name) == (code, name)
    assert language.code in LANGUAGE_NAMES


@pytest.mark.parametrize(
    ("typed", "suggestion"),
    [("germn", "'de'"), ("q", "'qu'"), ("frnch", "'fr'"), ("spansh", "'es'")],
)
@pytest.mark.parametrize("any_language", [False, True])
def test_unknown_code_names_close_matches(typed: str, suggestion: str, any_language: bool) -> None:
    with pytest.raises(LanguageError, match=rf"unknown language '{typed}'; did you mean {suggestion}\?"):
        resolve_language(typed, any_language=any_language)


@pytest.mark.parametrize(
    "typed", ["", "   ", "xx", "123", "klingon-XX", "und", "zxx", "mul", "qaa", "x-private", "gem"]
)
@pytest.mark.parametrize("any_language", [False, True])
def test_nonsense_is_a_language_error(typed: str, any_language: bool) -> None:
    # und/zxx/mul name no language, qaa is private use, gem (Germanic languages) a collection.
    with pytest.raises(LanguageError):
        resolve_language(typed, any_language=any_language)


# (typed, code, name, table) with any_language=True, as the chat and fewshot profiles resolve.
ANY_LANGUAGE = [
    ("bar", "bar", "Bavarian", BCP47_TABLE),
    ("gsw", "gsw", "Swiss German", BCP47_TABLE),
    ("nds", "nds", "Low German", BCP47_TABLE),
    ("frr", "frr", "Northern Frisian", BCP47_TABLE),
    ("BAR_at", "bar-AT", "Bavarian (Austria)", BCP47_TABLE),
    ("gsw-CH", "gsw-CH", "Swiss German (Switzerland)", BCP47_TABLE),
    ("bar-XY", "bar", "Bavarian", BCP47_TABLE),  # a private-use region falls back to the language
    ("Bavarian", "bar", "Bavarian", BCP47_TABLE),
    ("Bairisch", "bar", "Bavarian", BCP47_TABLE),  # names in other languages too
    ("swiss german", "gsw", "Swiss German", BCP47_TABLE),
    ("yue", "yue", "Cantonese", BCP47_TABLE),
    # TranslateGemma's table comes first, aliases and region fallback included.
    ("de-AT", "de-AT", "German", TRANSLATEGEMMA_TABLE),
    ("zh-CN", "zh-Hans", "Chinese", TRANSLATEGEMMA_TABLE),
    ("pt-BR", "pt-BR", "Portuguese", TRANSLATEGEMMA_TABLE),
    ("en-US", "en", "English", TRANSLATEGEMMA_TABLE),
    ("de-XX", "de", "German", TRANSLATEGEMMA_TABLE),
    ("German", "de", "German", TRANSLATEGEMMA_TABLE),
    # Deprecated codes langcodes replaces land in TranslateGemma's table, for every profile.
    ("mo", "ro", "Romanian", TRANSLATEGEMMA_TABLE),
    ("sh", "sr-Latn", "Serbian", TRANSLATEGEMMA_TABLE),
]


@pytest.mark.parametrize(("typed", "code", "name", "table"), ANY_LANGUAGE)
def test_any_language_takes_every_bcp47_language_with_a_name(
    typed: str, code: str, name: str, table: str
) -> None:
    assert resolve_language(typed, any_language=True) == Language(code, name, table)


@pytest.mark.parametrize(
    ("typed", "code", "name", "table"), [row for row in ANY_LANGUAGE if row[3] == TRANSLATEGEMMA_TABLE]
)
def test_translategemma_table_entries_resolve_alike_for_every_profile(
    typed: str, code: str, name: str, table: str
) -> None:
    assert resolve_language(typed) == resolve_language(typed, any_language=True) == Language(code, name)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "bar",
            r"^unknown language 'bar' for the translategemma prompt profile: Bavarian \('bar'\) is not in "
            r"TranslateGemma's language table \(",
        ),
        ("gsw", r"Swiss German \('gsw'\) is not in TranslateGemma's language table \("),
        (
            "Bavarian",
            r"^unknown language 'Bavarian' .*: Bavarian \('bar'\) is not in TranslateGemma's language table \(",
        ),
        ("nds-NL", r"Low German \(Netherlands\) \('nds-NL'\) is not in TranslateGemma's language table \("),
        (
            "dee",
            r"Dewoin \('dee'\) is not in TranslateGemma's language table; did you mean 'de'\?",
        ),  # a slip?
    ],
)
def test_a_language_outside_translategemmas_table_is_refused_saying_who_accepts_it(
    typed: str, message: str
) -> None:
    with pytest.raises(LanguageError, match=message) as info:
        resolve_language(typed)
    assert "chat or fewshot profile accept any BCP-47 language" in str(info.value)


def test_a_misspelt_name_suggests_languages_of_the_wider_table() -> None:
    with pytest.raises(
        LanguageError, match=r"unknown language 'bavarain'; did you mean .*'bar' \(Bavarian\)\?"
    ):
        resolve_language("bavarain", any_language=True)
    with pytest.raises(LanguageError) as info:
        resolve_language("bavarain")
    assert "'bar'" not in str(info.value)  # TranslateGemma's table lacks it: not a suggestion there


def test_a_language_object_passes_through_when_its_table_is_accepted() -> None:
    bavarian = resolve_language("bar", any_language=True)
    assert resolve_language(bavarian, any_language=True) is bavarian
    german = resolve_language("de")
    assert resolve_language(german) is german
    with pytest.raises(LanguageError, match="not in TranslateGemma's language table"):
        resolve_language(bavarian)


def test_language_keeps_its_two_field_constructor() -> None:
    assert Language("de", "German") == Language("de", "German", TRANSLATEGEMMA_TABLE)


@pytest.mark.parametrize(
    ("code", "base"),
    [
        ("zh-Hant-HK", "zh"),
        ("pt-BR", "pt"),
        ("en", "en"),
        ("fil-PH", "fil"),
        ("bar-AT", "bar"),
        ("PT_br", "pt"),
    ],
)
def test_base_is_the_lower_case_language_subtag(code: str, base: str) -> None:
    assert Language(code, "x").base == base == base_code(code) == base_code(Language(code, "x"))


def test_only_the_translategemma_profile_keeps_to_its_table() -> None:
    assert TranslateGemmaProfile.any_language is False
    assert ChatProfile.any_language is FewShotProfile.any_language is True


def test_the_collection_filter_covers_every_collection_in_the_iana_registry() -> None:
    # Scope "collection" and "special" subtags (Germanic languages, Chinese (family), No linguistic
    # content ...) are no language to translate into; the filter works from their English names.
    from language_data.registry_parser import parse_registry

    refused = [
        entry["Subtag"]
        for entry in parse_registry()
        if entry.get("Type") == "language" and entry.get("Scope") in ("collection", "special")
    ]
    assert len(refused) > 100
    accepted = []
    for code in refused:
        with contextlib.suppress(LanguageError):
            accepted.append(resolve_language(code, any_language=True))
    # Only codes TranslateGemma's table itself lists (or aliases into it) get through.
    assert all(language.table == TRANSLATEGEMMA_TABLE for language in accepted), accepted


def test_language_errors_exit_with_status_2() -> None:
    assert LanguageError.exit_code == 2


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("EN", "en"),
        ("en_us", "en-US"),
        ("ZH-HANT-hk", "zh-Hant-HK"),
        ("be-TARASK", "be-TARASK"),
        (" de ", "de"),
    ],
)
def test_normalize_code(raw: str, normalized: str) -> None:
    assert normalize_code(raw) == normalized


def test_table_is_exactly_the_published_templates_map() -> None:
    published = re.findall(r'^\s+"([^"]+)": "([^"]*)",?$', TEMPLATE.read_text(encoding="utf-8"), re.M)
    assert list(LANGUAGE_NAMES.items()) == published
    assert len(published) == 581


def test_every_wmt24pp_language_is_in_the_table() -> None:
    assert len(WMT24PP_CODES) == 55 == len(set(WMT24PP_CODES))
    assert all(code in LANGUAGE_NAMES for code in WMT24PP_CODES)


def test_aliases_point_into_the_table_and_only_cover_codes_it_lacks() -> None:
    for alias, target in ALIASES.items():
        assert target in LANGUAGE_NAMES, alias
        assert alias not in LANGUAGE_NAMES, alias


def test_supported_languages_lists_the_whole_table_in_order() -> None:
    languages = supported_languages()
    assert [lang.code for lang in languages] == list(LANGUAGE_NAMES)


@pytest.mark.parametrize(("profile", "count"), [("translategemma", 55), ("chat", 55), ("fewshot", 29)])
def test_each_profile_lists_the_languages_its_models_are_made_for(profile: str, count: int) -> None:
    from tg_edge.languages.profiles import display_name, profile_languages

    languages = profile_languages(profile)
    codes = [language.code for language in languages]
    assert len(codes) == count == len(set(codes)) and codes == sorted(codes)
    assert {"en", "de", "pt", "zh-Hans", "zh-Hant"} <= set(codes)
    assert all(
        resolve_language(code).code == code for code in codes
    )  # each listed code is accepted as listed
    assert len({display_name(language) for language in languages}) == count  # no two entries look alike
