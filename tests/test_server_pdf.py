"""PDF through the server: LibreTranslate's ``/translate_file`` and DeepL's ``/v2/document`` (the official
client) translate a PDF made here and give back a PDF of the same pages; one over the limits is refused."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import deepl
import pytest
from pypdf import PdfReader

from tg_edge import formats
from tg_edge.server import ServerSettings

from .pdf_samples import text_pdf
from .servers import call, multipart, running_server

pytestmark = pytest.mark.integration

SETTINGS = ServerSettings(char_limit=1000, max_body_bytes=64 * 1024)


@pytest.fixture(scope="module")
def url(translator: object) -> Iterator[str]:
    with running_server(translator, SETTINGS) as (base, _):
        yield base


def pages(data: bytes) -> list[tuple[float, float]]:
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(io.BytesIO(data)).pages]


def assert_translated(source: bytes, translated: bytes) -> None:
    """The same pages and sizes, and most blocks' text changed (the demo model is weak, not silent)."""
    assert translated.startswith(b"%PDF-") and pages(translated) == pages(source)
    before = [segment.text for segment in formats.read(source, "in.pdf", "pdf").segments]
    after = {segment.text for segment in formats.read(translated, "out.pdf", "pdf").segments}
    assert sum(text not in after for text in before) >= len(before) // 2


def test_translate_file_gives_a_pdf_of_the_same_pages_back(url: str) -> None:
    source = text_pdf(2, 1)  # two pages: headings, a paragraph each, a footer (translated once)
    body, headers = multipart({"source": "en", "target": "de"}, "file", "report.pdf", source)
    reply = call("POST", f"{url}/translate_file", body, headers=headers, timeout=600)
    assert reply.status == 200, reply.body
    download = reply.json()["translatedFileUrl"]
    assert download.endswith("/report.pdf")
    assert_translated(source, call("GET", download).body)


def test_translate_file_refuses_a_pdf_over_the_character_limit(url: str) -> None:
    body, headers = multipart({"source": "en", "target": "de"}, "file", "long.pdf", text_pdf(3))
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 400 and "more than 1000 characters" in reply.json()["error"]


def test_deepl_document_api_translates_a_pdf(url: str, tmp_path: Path) -> None:
    timeout, retries = deepl.http_client.min_connection_timeout, deepl.http_client.max_network_retries
    deepl.http_client.min_connection_timeout, deepl.http_client.max_network_retries = 600.0, 0
    try:
        client = deepl.Translator("any-key", server_url=url)  # the server asks for no key
        source = tmp_path / "report.pdf"
        source.write_bytes(text_pdf(2, 1))
        translated = tmp_path / "report.de.pdf"
        status = client.translate_document_from_filepath(source, translated, target_lang="DE")
    finally:
        deepl.http_client.min_connection_timeout, deepl.http_client.max_network_retries = timeout, retries
    assert status.done and status.billed_characters
    assert_translated(source.read_bytes(), translated.read_bytes())
