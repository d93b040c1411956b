"""Glossaries on the server: DeepL's glossary API driven by the official ``deepl`` client, LibreTranslate's
inline ``glossary``/``keep``. Managing glossaries needs no model (:class:`Unreachable` stands in); the
translations run the session's demo model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import deepl
import pytest

from tg_edge.server import ServerSettings

from .servers import call, glossary_settings, running_server
from .test_server_fast import Unreachable

KEY, OTHER = "glossary-key", "other-key"
ENTRIES = {"invoice": "Rechnung", "car": "Kraftfahrzeug"}


def _settings(root: Path, **limits: int) -> ServerSettings:
    return glossary_settings(root, (KEY, OTHER), **limits)


@pytest.fixture
def managed(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with running_server(Unreachable(), _settings(tmp_path / "glossaries", glossary_entry_limit=3)) as (
        base,
        _,
    ):
        yield base, tmp_path / "glossaries"


def test_official_client_creates_lists_reads_and_deletes(managed: tuple[str, Path]) -> None:
    url, root = managed
    client = deepl.Translator(KEY, server_url=url)
    info = client.create_glossary("house terms", "EN", "DE", ENTRIES)
    assert (info.name, info.source_lang, info.target_lang, info.entry_count, info.ready) == (
        "house terms",
        "EN",
        "DE",
        2,
        True,
    )
    assert [g.glossary_id for g in client.list_glossaries()] == [info.glossary_id]
    assert client.get_glossary(info.glossary_id).name == "house terms"
    assert client.get_glossary_entries(info) == ENTRIES
    pairs = {(p.source_lang, p.target_lang) for p in client.get_glossary_languages()}
    assert ("en", "de") in pairs and ("de", "fr") in pairs
    assert deepl.Translator(OTHER, server_url=url).list_glossaries() == []  # apart per key
    assert not any(KEY in path.name for path in root.rglob("*"))  # folders by digest, never the key
    client.delete_glossary(info)
    assert client.list_glossaries() == []
    with pytest.raises(deepl.GlossaryNotFoundException):
        client.get_glossary(info.glossary_id)


def test_glossaries_outlive_the_server(tmp_path: Path) -> None:
    root = tmp_path / "glossaries"
    with running_server(Unreachable(), _settings(root)) as (url, _):
        created = deepl.Translator(KEY, server_url=url).create_glossary(
            "kept", "EN", "FR", {"car": "automobile"}
        )
    with running_server(Unreachable(), _settings(root)) as (url, _):
        assert deepl.Translator(KEY, server_url=url).get_glossary_entries(created.glossary_id) == {
            "car": "automobile"
        }


def test_bad_glossaries_get_clear_errors(managed: tuple[str, Path]) -> None:
    url, _ = managed
    client = deepl.Translator(KEY, server_url=url)
    with pytest.raises(deepl.DeepLException, match="limit of 3"):
        client.create_glossary("big", "EN", "DE", {f"term{i}": f"Wort{i}" for i in range(4)})
    with pytest.raises(deepl.DeepLException, match="not supported: XX"):
        client.create_glossary("odd pair", "EN", "XX", ENTRIES)
    auth = {"Authorization": f"DeepL-Auth-Key {KEY}"}
    body = {"name": "broken", "source_lang": "en", "target_lang": "de", "entries": "invoice\tRechnung\ncar\n"}
    reply = call("POST", f"{url}/v2/glossaries", body, headers=auth)
    assert reply.status == 400 and "entries line 2" in reply.json()["message"]
    missing = call(
        "POST",
        f"{url}/v2/translate",
        {
            "text": ["Hi"],
            "source_lang": "EN",
            "target_lang": "DE",
            "glossary_id": "00000000-0000-4000-8000-000000000000",
        },
        headers=auth,
    )
    assert missing.status == 404
    unauthorized = call("GET", f"{url}/v2/glossaries")
    assert unauthorized.status == 403


def test_libretranslate_refuses_a_malformed_inline_glossary(managed: tuple[str, Path]) -> None:
    url, _ = managed
    for glossary in (42, [["only one"]], {"invoice": 7}):
        reply = call(
            "POST",
            f"{url}/translate",
            {"q": "Hi", "source": "en", "target": "de", "glossary": glossary, "api_key": KEY},
        )
        assert reply.status == 400 and "glossary" in reply.json()["error"]


@pytest.mark.integration
def test_translate_text_follows_a_glossary(
    translator: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # patient with a CPU-bound demo model: the client would time out after 10 s and resend
    monkeypatch.setattr(deepl.http_client, "min_connection_timeout", 300.0)
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)
    with running_server(translator, _settings(tmp_path)) as (url, _):
        client = deepl.Translator(KEY, server_url=url)
        info = client.create_glossary("billing", "EN", "DE", {"invoice": "Rechnung"})
        result = client.translate_text(
            "Please send the invoice today.", source_lang="EN", target_lang="DE", glossary=info
        )
        assert "Rechnung" in result.text
        reply = call(
            "POST",
            f"{url}/translate",
            {
                "q": "Tesla builds a car.",
                "source": "en",
                "target": "fr",
                "glossary": {"car": "automobile"},
                "keep": ["Tesla"],
                "api_key": KEY,
            },
        )
        assert reply.status == 200
        assert "Tesla" in reply.json()["translatedText"]
