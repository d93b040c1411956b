"""DeepL's API v2 on tg-edge, driven by the official ``deepl`` client; LibreTranslate's by ``libretranslatepy``.

Both clients talk HTTP to a real server on a loopback port. The refusals need no model (the
translator behind them is :class:`Unreachable`); the translations run the session's demo model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import deepl
import pytest
from libretranslatepy import LibreTranslateAPI

from tg_edge.server import ServerSettings
from tg_edge.server.settings import key_digest

from .servers import call, multipart, running_server
from .test_server_fast import Unreachable

KEY = "tg-edge-test-key"
SETTINGS = ServerSettings(
    api_key_digests=frozenset({key_digest(KEY)}), char_limit=2000, max_body_bytes=64 * 1024
)
AUTH = {"Authorization": f"DeepL-Auth-Key {KEY}"}


@pytest.fixture(scope="module")
def url(translator: object) -> Iterator[str]:
    with running_server(translator, SETTINGS) as (base, _):
        yield base


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[deepl.Translator]:
    """The official client, patient with a CPU-bound demo model: it would time out after 10 s and resend."""
    timeout, retries = deepl.http_client.min_connection_timeout, deepl.http_client.max_network_retries
    deepl.http_client.min_connection_timeout, deepl.http_client.max_network_retries = 300.0, 0
    try:
        yield deepl.Translator(KEY, server_url=url)
    finally:
        deepl.http_client.min_connection_timeout, deepl.http_client.max_network_retries = timeout, retries


@pytest.fixture(scope="module")
def refusing_url() -> Iterator[str]:
    with running_server(Unreachable(), SETTINGS) as (base, _):
        yield base


# -- the official DeepL client ------------------------------------------------------------------------------


@pytest.mark.integration
def test_translate_text_single_and_list(client: deepl.Translator) -> None:
    one = client.translate_text("Where is the train station?", source_lang="EN", target_lang="DE")
    assert one.text.strip() and one.detected_source_lang == "EN"
    assert one.billed_characters == len("Where is the train station?")
    many = client.translate_text(
        ["Thank you.", "The weather is nice today."], source_lang="EN", target_lang="FR"
    )
    assert len(many) == 2 and all(r.text.strip() for r in many)


@pytest.mark.integration
def test_html_keeps_its_markup(client: deepl.Translator) -> None:
    result = client.translate_text(
        "<p>The weather is <b>nice</b> today.</p>", source_lang="EN", target_lang="DE", tag_handling="html"
    )
    assert result.text.startswith("<p>") and result.text.endswith("</p>")
    assert "<b>" in result.text and "</b>" in result.text


@pytest.mark.integration
def test_without_a_source_language_the_answer_names_the_detected_one(client: deepl.Translator) -> None:
    results = client.translate_text(
        ["Wo ist der Bahnhof?", "Ich möchte eine Tasse Kaffee."], target_lang="EN-US"
    )
    assert [r.detected_source_lang for r in results] == ["DE", "DE"]
    # Too short to tell for LibreTranslate's /detect; DeepL's clients get the best guess among the model's languages.
    short = client.translate_text("Hallo", target_lang="EN-GB")
    sources = {language.code for language in client.get_source_languages()}
    assert short.detected_source_lang in sources


def test_languages_in_deepls_spelling(refusing_url: str) -> None:
    client = deepl.Translator(KEY, server_url=refusing_url)
    sources = {language.code for language in client.get_source_languages()}
    assert {"EN", "DE", "PT", "ZH", "NB"} <= sources and all(code.isupper() for code in sources)
    targets = {language.code: language for language in client.get_target_languages()}
    assert {"EN-US", "EN-GB", "PT-BR", "PT-PT", "ZH", "ZH-HANS", "ZH-HANT", "DE"} <= set(targets)
    assert "EN" not in targets and targets["DE"].supports_formality is False


@pytest.mark.integration
def test_usage_counts_what_was_translated(client: deepl.Translator) -> None:
    before = client.get_usage().character
    client.translate_text("Good morning.", source_lang="EN", target_lang="ES")
    after = client.get_usage().character
    assert after.count == before.count + len("Good morning.") and after.limit == 10**12
    assert not after.limit_reached


@pytest.mark.integration
def test_translate_document_uploads_polls_and_downloads(client: deepl.Translator, tmp_path: Path) -> None:
    source = tmp_path / "talk.srt"
    source.write_text(
        "1\n00:00:01,000 --> 00:00:02,500\nGood morning.\n\n2\n00:00:03,000 --> 00:00:04,000\nThank you.\n",
        encoding="utf-8",
    )
    translated = tmp_path / "talk.de.srt"
    status = client.translate_document_from_filepath(source, translated, target_lang="DE")
    assert status.done and status.billed_characters == len("Good morning.") + len("Thank you.")
    lines = translated.read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["1", "00:00:01,000 --> 00:00:02,500"] and lines[4:6] == [
        "2",
        "00:00:03,000 --> 00:00:04,000",
    ]
    assert lines[2].strip() and lines[6].strip()


@pytest.mark.integration
def test_form_bodies_repeat_text(url: str) -> None:
    reply = call(
        "POST",
        f"{url}/v2/translate",
        b"text=Thank+you.&text=Good+night.&target_lang=DE&source_lang=EN",
        headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200, reply.body
    assert [t["detected_source_language"] for t in reply.json()["translations"]] == ["EN", "EN"]


def test_a_wrong_key_is_an_authorization_failure(refusing_url: str) -> None:
    with pytest.raises(deepl.AuthorizationException):
        deepl.Translator("not-the-key", server_url=refusing_url).translate_text("Hello", target_lang="DE")


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"target_lang": "DE"}, AUTH, 400, "Parameter 'text' not specified."),
        ({"text": [], "target_lang": "DE"}, AUTH, 400, "Parameter 'text' not specified."),
        ({"text": ["Hello"]}, AUTH, 400, "Parameter 'target_lang' not specified."),
        ({"text": ["Hello"], "target_lang": "XX"}, AUTH, 400, "Value for 'target_lang' not supported: XX"),
        (
            {"text": ["Hello"], "target_lang": "DE", "source_lang": "QQ"},
            AUTH,
            400,
            "'source_lang' not supported",
        ),
        ({"text": ["a" * 2001], "target_lang": "DE"}, AUTH, 413, "exceeds text limit (2000)"),
        (b"text=" + b"a" * 70_000 + b"&target_lang=DE", AUTH, 413, "Request entity too large"),
        (
            {"text": ["Hello"], "target_lang": "DE"},
            {"Authorization": "DeepL-Auth-Key wrong"},
            403,
            "Authorization failure",
        ),
        ({"text": ["Hello"], "target_lang": "DE"}, None, 403, "Authorization failure"),
        (
            b'{"text": ["Hello"], "target_lang": ',
            {**AUTH, "Content-Type": "application/json"},
            400,
            "Invalid JSON format",
        ),
        (
            {"text": ["Hello"], "target_lang": "DE", "formality": "more"},
            AUTH,
            400,
            "'formality' is not supported",
        ),
        (
            {"text": ["Hello"], "target_lang": "DE", "glossary_id": "g1"},
            AUTH,
            400,
            "requires the source_lang",
        ),
        ({"text": ["Hello"], "target_lang": "DE", "tag_handling": "markdown"}, AUTH, 400, "'tag_handling'"),
    ],
)
def test_bad_requests_get_deepls_status_and_shape(
    refusing_url: str, body: object, headers: dict | None, status: int, message: str
) -> None:
    reply = call("POST", f"{refusing_url}/v2/translate", body, headers=headers)
    assert reply.status == status, reply.body
    assert set(reply.json()) == {"message"} and message in reply.json()["message"]


def test_other_v2_paths_answer_in_deepls_shape(refusing_url: str) -> None:
    reply = call("POST", f"{refusing_url}/v2/document/abc", {"document_key": "nope"}, headers=AUTH)
    assert reply.status == 404 and "Document not found" in reply.json()["message"]
    body, headers = multipart({"target_lang": "DE"}, "file", "slides.pptx", b"PK")
    reply = call("POST", f"{refusing_url}/v2/document", body, headers={**AUTH, **headers})
    assert reply.status == 400 and "File type not supported: .pptx" in reply.json()["message"]
    reply = call("GET", f"{refusing_url}/v2/glossaries/g1", headers=AUTH)
    assert reply.status == 404 and set(reply.json()) == {"message"}
    reply = call("GET", f"{refusing_url}/v2/write/rephrase", headers=AUTH)
    assert reply.status == 404 and set(reply.json()) == {"message"}
    reply = call("GET", f"{refusing_url}/v2/languages?type=both", headers=AUTH)
    assert reply.status == 400 and "'type'" in reply.json()["message"]


# -- the LibreTranslate client ------------------------------------------------------------------------------


@pytest.mark.integration
def test_libretranslatepy_translates_detects_and_lists(url: str) -> None:
    api = LibreTranslateAPI(url, api_key=KEY)
    assert api.translate("Thank you very much.", "en", "de").strip()
    assert api.detect("Wo ist der Bahnhof, bitte?")[0]["language"] == "de"
    codes = {language["code"] for language in api.languages()}
    assert {"en", "de", "zh-Hans", "zh-Hant"} <= codes


@pytest.mark.parametrize("profile", ["fewshot", "chat", "translategemma"])
def test_language_listings_stay_small_for_every_profile(profile: str) -> None:
    translator = Unreachable()
    translator.profile = profile
    with running_server(translator) as (base, _):
        listing = call("GET", f"{base}/languages")
        assert listing.status == 200 and len(listing.body) <= 50_000
        codes = {language["code"] for language in json.loads(listing.body)}
        assert {"en", "de", "zh-Hans", "zh-Hant", "pt"} <= codes
        assert len(codes) == (29 if profile == "fewshot" else 55)
        assert len(call("GET", f"{base}/languages?all=true").body) > 1_000_000
        assert call("GET", f"{base}/v2/languages?type=target").status == 200


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["Wo ist der Bahnhof?", "Ich möchte eine Tasse Kaffee."], "de"),
        (["12345", "!!"], "en"),  # nothing to tell by: English, with confidence 0
    ],
)
def test_the_best_guess_never_refuses(texts: list[str], expected: str) -> None:
    from tg_edge.server.translation import TranslationService

    guess = TranslationService(Unreachable()).guess_source(texts)  # type: ignore[arg-type]
    assert guess.language.code == expected


def test_a_short_ambiguous_text_is_guessed_among_the_models_languages() -> None:
    from tg_edge.server.translation import TranslationService

    service = TranslationService(Unreachable())  # type: ignore[arg-type]
    own = {language.code.split("-")[0] for language in service.languages()}
    for text in ("Hallo", "ok", "Danke"):
        assert service.guess_source([text]).language.code.split("-")[0] in own
