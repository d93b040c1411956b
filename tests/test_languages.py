"""Language codes: TranslateGemma's table, normalization, aliases and helpful errors."""

import re
from pathlib import Path

import pytest

from tg_edge import LanguageError, resolve_language, supported_languages
from tg_edge.language_table import LANGUAGE_NAMES, WMT24PP_CODES
from tg_edge.languages import ALIASES, normalize_code

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
    [("dee", "'de'"), ("germn", "'de'"), ("q", "'qu'"), ("frr", "'fr'")],
)
def test_unknown_code_names_close_matches(typed: str, suggestion: str) -> None:
    with pytest.raises(LanguageError, match=rf"unknown language '{typed}'; did you mean {suggestion}\?"):
        resolve_language(typed)


@pytest.mark.parametrize("typed", ["", "   ", "xx", "123", "klingon-XX"])
def test_nonsense_is_a_language_error(typed: str) -> None:
    with pytest.raises(LanguageError):
        resolve_language(typed)


def test_language_errors_exit_with_status_2() -> None:
    assert LanguageError.exit_code == 2


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("EN", "en"), ("en_us", "en-US"), ("ZH-HANT-hk", "zh-Hant-HK"), ("be-TARASK", "be-TARASK"), (" de ", "de")],
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
    from tg_edge.coverage import display_name, profile_languages

    languages = profile_languages(profile)
    codes = [language.code for language in languages]
    assert len(codes) == count == len(set(codes)) and codes == sorted(codes)
    assert {"en", "de", "pt", "zh-Hans", "zh-Hant"} <= set(codes)
    assert all(resolve_language(code).code == code for code in codes)  # each listed code is accepted as listed
    assert len({display_name(language) for language in languages}) == count  # no two entries look alike
