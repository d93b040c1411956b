"""DeepL's v3 multilingual glossaries on the server, driven by the official ``deepl`` client's
``DeepLClient``. Managing glossaries needs no model (:class:`Unreachable` stands in); the translations run the
session's demo model."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import deepl
import pytest
from deepl.api_data import MultilingualGlossaryDictionaryEntries as Dictionary
from deepl.api_data import MultilingualGlossaryInfo

from tg_edge.server import ServerSettings
from tg_edge.server.settings import key_digest

from .servers import call, glossary_settings, running_server
from .test_server_fast import Unreachable

KEY, OTHER = "multilingual-key", "other-key"
AUTH = {"Authorization": f"DeepL-Auth-Key {KEY}"}
EN_DE = {"invoice": "Rechnung", "car": "Kraftfahrzeug"}
DE_EN = {"Rechnung": "invoice"}


def _settings(root: Path, **limits: int) -> ServerSettings:
    return glossary_settings(root, (KEY, OTHER), **limits)


@pytest.fixture
def managed(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with running_server(Unreachable(), _settings(tmp_path / "glossaries", glossary_entry_limit=6)) as (
        base,
        _,
    ):
        yield base, tmp_path / "glossaries"


def _entries(
    client: deepl.DeepLClient, glossary: str | MultilingualGlossaryInfo, source: str, target: str
) -> dict[str, str]:
    """One dictionary's entries: DeepL sends them as TSV inside the JSON, and the client passes that on."""
    (dictionary,) = client.get_multilingual_glossary_entries(glossary, source, target).dictionaries
    assert (dictionary.source_lang, dictionary.target_lang) == (source.lower(), target.lower())
    return deepl.convert_tsv_to_dict(dictionary.entries)


def _pairs(info: MultilingualGlossaryInfo) -> dict[tuple[str, str], int]:
    return {(d.source_lang, d.target_lang): d.entry_count for d in info.dictionaries}


def test_official_client_creates_lists_reads_and_deletes(managed: tuple[str, Path]) -> None:
    url, root = managed
    client = deepl.DeepLClient(KEY, server_url=url)
    info = client.create_multilingual_glossary(
        "house terms", [Dictionary("EN-GB", "DE", EN_DE), Dictionary("DE", "EN", DE_EN)]
    )
    assert info.name == "house terms"
    assert _pairs(info) == {("EN", "DE"): 2, ("DE", "EN"): 1}  # variants dropped: glossaries are per language
    assert [g.glossary_id for g in client.list_multilingual_glossaries()] == [info.glossary_id]
    assert _pairs(client.get_multilingual_glossary(info.glossary_id)) == _pairs(info)
    assert _entries(client, info, "EN", "DE") == EN_DE
    assert _entries(client, info.glossary_id, "DE", "EN") == DE_EN
    assert deepl.DeepLClient(OTHER, server_url=url).list_multilingual_glossaries() == []  # apart per key
    assert not any(KEY in path.name for path in root.rglob("*"))
    client.delete_multilingual_glossary(info)
    assert client.list_multilingual_glossaries() == []
    with pytest.raises(deepl.GlossaryNotFoundException):
        client.get_multilingual_glossary(info.glossary_id)


def test_official_client_edits_names_and_dictionaries(managed: tuple[str, Path]) -> None:
    url, _ = managed
    client = deepl.DeepLClient(KEY, server_url=url)
    info = client.create_multilingual_glossary("draft", [Dictionary("EN", "DE", EN_DE)])
    renamed = client.update_multilingual_glossary_name(info, "final")
    assert (renamed.name, client.get_multilingual_glossary(info.glossary_id).name) == ("final", "final")

    # update: new terms join the pair's dictionary, a term it holds takes the new translation
    updated = client.update_multilingual_glossary_dictionary(
        info, Dictionary("EN", "DE", {"car": "Auto", "tyre": "Reifen"})
    )
    assert _pairs(updated) == {("EN", "DE"): 3}
    assert _entries(client, info, "EN", "DE") == {"invoice": "Rechnung", "car": "Auto", "tyre": "Reifen"}
    updated = client.update_multilingual_glossary_dictionary(info, Dictionary("EN", "FR", {"car": "voiture"}))
    assert _pairs(updated) == {("EN", "DE"): 3, ("EN", "FR"): 1}

    # replace: the pair's dictionary becomes exactly these entries
    replaced = client.replace_multilingual_glossary_dictionary(info, Dictionary("EN", "DE", {"car": "Wagen"}))
    assert (replaced.source_lang, replaced.target_lang, replaced.entry_count) == ("EN", "DE", 1)
    assert _entries(client, info, "EN", "DE") == {"car": "Wagen"}
    client.replace_multilingual_glossary_dictionary(info, Dictionary("DE", "EN", DE_EN))
    assert _pairs(client.get_multilingual_glossary(info.glossary_id)) == {
        ("EN", "DE"): 1,
        ("EN", "FR"): 1,
        ("DE", "EN"): 1,
    }

    client.delete_multilingual_glossary_dictionary(info, source_lang="EN", target_lang="FR")
    remaining = client.get_multilingual_glossary(info.glossary_id)
    client.delete_multilingual_glossary_dictionary(info, remaining.dictionaries[0])
    assert _pairs(client.get_multilingual_glossary(info.glossary_id)) == {("DE", "EN"): 1}
    with pytest.raises(deepl.GlossaryNotFoundException):
        client.delete_multilingual_glossary_dictionary(info, source_lang="EN", target_lang="FR")
    with pytest.raises(deepl.GlossaryNotFoundException):
        client.get_multilingual_glossary_entries(info, "EN", "FR")


def test_v2_and_v3_share_the_glossaries(managed: tuple[str, Path]) -> None:
    url, root = managed
    client = deepl.DeepLClient(KEY, server_url=url)
    monolingual = client.create_glossary("v2", "EN", "DE", {"invoice": "Rechnung"})
    multilingual = client.create_multilingual_glossary(
        "v3", [Dictionary("EN", "DE", EN_DE), Dictionary("DE", "EN", DE_EN)]
    )
    listed = {g.glossary_id: _pairs(g) for g in client.list_multilingual_glossaries()}
    assert listed == {
        monolingual.glossary_id: {("EN", "DE"): 1},
        multilingual.glossary_id: _pairs(multilingual),
    }
    # v2 shows the glossaries it can describe: one language pair
    assert [g.glossary_id for g in client.list_glossaries()] == [monolingual.glossary_id]
    with pytest.raises(deepl.DeepLException, match="use /v3/glossaries"):
        client.get_glossary(multilingual.glossary_id)
    # a v2 glossary can be edited through v3, and v2 still reads it
    client.update_multilingual_glossary_dictionary(
        monolingual.glossary_id, Dictionary("EN", "DE", {"car": "Auto"})
    )
    assert client.get_glossary_entries(monolingual.glossary_id) == {"invoice": "Rechnung", "car": "Auto"}

    # a record written before glossaries had dictionaries reads as one dictionary
    owner = root / key_digest(KEY).hex()[:32]
    old_id = "0f0e0d0c-0b0a-4908-8706-050403020100"
    record = {
        "glossary_id": old_id,
        "name": "from before",
        "ready": True,
        "source_lang": "en",
        "target_lang": "fr",
        "creation_time": "2026-01-02T03:04:05.678Z",
        "entry_count": 1,
        "entries": [["car", "voiture"]],
    }
    (owner / f"{old_id}.json").write_text(json.dumps(record), encoding="utf-8")
    assert _pairs(client.get_multilingual_glossary(old_id)) == {("EN", "FR"): 1}
    assert client.get_glossary(old_id).source_lang == "EN"
    assert client.get_glossary_entries(old_id) == {"car": "voiture"}


def test_bad_multilingual_glossaries_get_clear_errors(
    managed: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    url, _ = managed
    caplog.set_level(logging.DEBUG)
    client = deepl.DeepLClient(KEY, server_url=url)
    with pytest.raises(deepl.DeepLException, match="limit of 6"):  # all dictionaries together
        client.create_multilingual_glossary(
            "big",
            [Dictionary("EN", "DE", {f"t{i}": f"W{i}" for i in range(5)}), Dictionary("DE", "EN", EN_DE)],
        )
    with pytest.raises(deepl.DeepLException, match="not supported: XX"):
        client.create_multilingual_glossary("odd pair", [Dictionary("EN", "XX", EN_DE)])
    with pytest.raises(deepl.DeepLException, match="two dictionaries for one language pair"):
        client.create_multilingual_glossary(
            "twice", [Dictionary("EN", "DE", EN_DE), Dictionary("EN-US", "DE", EN_DE)]
        )
    info = client.create_multilingual_glossary("kept", [Dictionary("EN", "DE", EN_DE)])
    with pytest.raises(deepl.DeepLException, match="limit of 6"):
        client.update_multilingual_glossary_dictionary(
            info, Dictionary("EN", "FR", {f"t{i}": f"m{i}" for i in range(5)})
        )
    assert _pairs(client.get_multilingual_glossary(info.glossary_id)) == {("EN", "DE"): 2}  # unchanged

    glossary = f"{url}/v3/glossaries/{info.glossary_id}"
    refusals = [
        ("POST", f"{url}/v3/glossaries", {"name": "x", "dictionaries": "invoice\tRechnung"}, 400, "array"),
        ("POST", f"{url}/v3/glossaries", {"name": "x", "dictionaries": []}, 400, "'dictionaries' not"),
        ("POST", f"{url}/v3/glossaries", {"dictionaries": [{}]}, 400, "'name' not"),
        (
            "POST",
            f"{url}/v3/glossaries",
            {
                "name": "x",
                "dictionaries": [{"source_lang": "en", "target_lang": "de", "entries": "a\tb\nc\n"}],
            },
            400,
            "dictionaries[0].entries line 2",
        ),
        ("PATCH", glossary, {}, 400, "'name' or 'dictionaries'"),
        ("PATCH", glossary, {"name": 7}, 400, "name must be a string"),
        ("GET", f"{glossary}/entries?source_lang=en", None, 400, "'target_lang' not"),
        ("GET", f"{glossary}/entries?source_lang=en&target_lang=fr", None, 404, "dictionary not found"),
        ("PUT", f"{glossary}/dictionaries", {"source_lang": "en", "target_lang": "de"}, 400, "'entries' not"),
        ("DELETE", f"{url}/v3/glossaries/not-an-id", None, 404, "Glossary not found"),
    ]
    for method, address, body, status, message in refusals:
        reply = call(method, address, body, headers=AUTH)
        assert reply.status == status, (method, address, reply.body)
        text = reply.json()["message"]  # DeepL's error body
        assert message in text and "\n" not in text
    assert call("GET", f"{url}/v3/glossaries").status == 403
    no_pair = call(
        "POST",
        f"{url}/v2/translate",
        {"text": ["Hi"], "source_lang": "DE", "target_lang": "FR", "glossary_id": info.glossary_id},
        headers=AUTH,
    )
    assert no_pair.status == 400 and "no dictionary for de to fr" in no_pair.json()["message"]
    server_logs = [r.getMessage() for r in caplog.records if r.name.startswith(("tg_edge", "uvicorn"))]
    assert server_logs and not any("Rechnung" in line or "invoice" in line for line in server_logs)


@pytest.mark.integration
def test_translate_text_and_documents_follow_the_pairs_dictionary(
    translator: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # patient with a CPU-bound demo model: the client would time out after 10 s and resend
    monkeypatch.setattr(deepl.http_client, "min_connection_timeout", 300.0)
    monkeypatch.setattr(deepl.http_client, "max_network_retries", 0)
    with running_server(translator, _settings(tmp_path / "glossaries")) as (url, _):
        client = deepl.DeepLClient(KEY, server_url=url)
        info = client.create_multilingual_glossary(
            "billing",
            [Dictionary("FR", "EN", {"facture": "bill"}), Dictionary("EN", "DE", {"invoice": "Rechnung"})],
        )
        result = client.translate_text(
            "Please send the invoice today.", source_lang="EN", target_lang="DE", glossary=info
        )
        assert "Rechnung" in result.text
        source, translated = tmp_path / "note.txt", tmp_path / "note.de.txt"
        source.write_text("The invoice is late.\n", encoding="utf-8")
        client.translate_document_from_filepath(
            source, translated, source_lang="EN", target_lang="DE", glossary=info.glossary_id
        )
        assert "Rechnung" in translated.read_text(encoding="utf-8")
        with pytest.raises(deepl.DeepLException, match="no dictionary for de to en"):
            client.translate_text("Hallo", source_lang="DE", target_lang="EN-US", glossary=info.glossary_id)
