"""Source = target: the text comes back byte for byte without the model, on every path (API, CLI, servers)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import run_cli
from tests.servers import call, multipart, running_server
from tg_edge import formats
from tg_edge.languages import resolve_language, same_language

# Spacing and no full stop: what the model would "fix" (issue 29 item 7: a full stop was added).
HOTEL = "  Welcome to our hotel\n\nWe hope you enjoy your stay with us in the heart of the old town  \n"


@pytest.mark.parametrize(
    ("source", "target", "same"),
    [
        ("en", "en", True),
        ("EN", "en", True),
        ("en-US", "en", True),  # an alias of en
        ("zh-CN", "zh-Hans", True),  # an alias of zh-Hans
        ("de_at", "de-AT", True),
        ("bar", "bar", True),
        ("pt", "pt-BR", False),  # another region: its own spelling and words
        ("zh-Hans", "zh-Hant", False),  # another script
        ("zh", "zh-Hant", False),
        ("de", "de-CH", False),
        ("en", "de", False),
    ],
)
def test_same_language_means_the_same_resolved_code(source: str, target: str, same: bool) -> None:
    src, tgt = resolve_language(source, any_language=True), resolve_language(target, any_language=True)
    assert same_language(src, tgt) is same


def decode_steps(translator: object) -> int:
    """llama.cpp decode steps the translator has run so far (unchanged: the model was not called)."""
    return translator.stats.decode_steps  # type: ignore[attr-defined]


@pytest.mark.integration
@pytest.mark.parametrize("source", ["en", "auto"])
def test_text_in_the_target_language_comes_back_byte_for_byte_without_the_model(
    translator: object, source: str
) -> None:
    steps = decode_steps(translator)
    result = translator.translate(HOTEL, source=source, target="en")  # type: ignore[attr-defined]
    batch = translator.translate_many([HOTEL, "Good night."], source=source, target="en-US")  # type: ignore[attr-defined]
    stream = translator.translate_stream(HOTEL, source=source, target="en")  # type: ignore[attr-defined]
    assert result.text == HOTEL and result.segments == () and result.target.code == "en"
    assert [t.text for t in batch] == [HOTEL, "Good night."]
    assert "".join(stream) == HOTEL and stream.result is not None and stream.result.text == HOTEL
    assert (result.detected is not None) is (source == "auto")
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_a_document_in_the_target_language_comes_back_byte_for_byte(translator: object) -> None:
    text = "# Welcome\n\nOur hotel lies in the *old town*, close to the river\n\n- Breakfast from seven\n"
    document = formats.read(text, "hotel.md", "md")
    steps = decode_steps(translator)
    [result] = translator.translate_documents([document], source="auto", target="en")  # type: ignore[attr-defined]
    assert result.rendered == text and result.detected is not None
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_another_region_or_script_of_the_language_is_still_translated(translator: object) -> None:
    steps = decode_steps(translator)
    result = translator.translate("Bom dia, como vai?", source="pt", target="pt-BR")  # type: ignore[attr-defined]
    assert result.segments and decode_steps(translator) > steps


@pytest.mark.integration
def test_the_cli_prints_text_in_the_target_language_as_it_is(translator: object) -> None:
    steps = decode_steps(translator)
    run = run_cli("translate", "-s", "en", "-t", "en", "Welcome to our hotel", translator=translator)
    assert run.returncode == 0 and run.stdout == b"Welcome to our hotel\n"
    piped = run_cli("translate", "-s", "auto", "-t", "en", input=HOTEL.encode(), translator=translator)
    assert piped.returncode == 0 and piped.stdout == HOTEL.encode()
    assert decode_steps(translator) == steps


@pytest.fixture(scope="module")
def url(translator: object) -> Iterator[str]:
    with running_server(translator) as (address, _):
        yield address


@pytest.mark.integration
def test_libretranslate_gives_text_in_the_target_language_back_unchanged(
    url: str, translator: object
) -> None:
    steps = decode_steps(translator)
    given = call("POST", f"{url}/translate", {"q": "Welcome to our hotel", "source": "en", "target": "en"})
    assert given.status == 200 and given.json() == {"translatedText": "Welcome to our hotel"}
    detected = call("POST", f"{url}/translate", {"q": [HOTEL], "source": "auto", "target": "en"})
    assert detected.status == 200 and detected.json()["translatedText"] == [HOTEL]
    assert detected.json()["detectedLanguage"][0]["language"] == "en"
    html = "<p>Welcome to <b>our</b> hotel</p>"
    marked = call("POST", f"{url}/translate", {"q": html, "source": "en", "target": "en", "format": "html"})
    assert marked.status == 200 and marked.json()["translatedText"] == html
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_libretranslate_gives_a_file_in_the_target_language_back_unchanged(
    url: str, translator: object
) -> None:
    steps = decode_steps(translator)
    body, headers = multipart({"source": "auto", "target": "en"}, "file", "hotel.txt", HOTEL.encode())
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 200, reply.body
    assert call("GET", reply.json()["translatedFileUrl"]).body == HOTEL.encode()
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_deepl_gives_text_in_the_target_language_back_unchanged(url: str, translator: object) -> None:
    steps = decode_steps(translator)
    given = call(
        "POST", f"{url}/v2/translate", {"text": [HOTEL], "source_lang": "EN", "target_lang": "EN-US"}
    )
    guessed = call("POST", f"{url}/v2/translate", {"text": [HOTEL], "target_lang": "EN-US"})
    for reply in (given, guessed):
        assert reply.status == 200, reply.body
        [translation] = reply.json()["translations"]
        assert translation["text"] == HOTEL and translation["detected_source_language"] == "EN"
    assert decode_steps(translator) == steps


@pytest.mark.integration
def test_deepl_gives_a_document_in_the_target_language_back_unchanged(url: str, translator: object) -> None:
    steps = decode_steps(translator)
    body, headers = multipart({"target_lang": "EN-US"}, "file", "hotel.txt", HOTEL.encode())
    uploaded = call("POST", f"{url}/v2/document", body, headers=headers)
    assert uploaded.status == 200, uploaded.body
    document = uploaded.json()
    result = call("POST", f"{url}/v2/document/{document['document_id']}/result", document)
    assert result.status == 200 and result.body == HOTEL.encode()
    assert decode_steps(translator) == steps
