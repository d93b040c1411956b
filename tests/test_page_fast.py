"""The translator page and the streaming endpoints without a model: what is served, and what is refused first."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tg_edge import TranslationOptions
from tg_edge.cli import main
from tg_edge.guards import Problem
from tg_edge.languages import resolve_language
from tg_edge.server.page import CONTENT_SECURITY_POLICY
from tg_edge.server.stream import event_bytes
from tg_edge.server.translation import Part, parts_of
from tg_edge.translator import SegmentResult, Translation

from .servers import call, multipart, running_server
from .test_server_fast import Unreachable

PAGE = Path(__file__).parent.parent / "tg_edge" / "server" / "page"
HOOKS = ("source-text", "source-language", "target-language", "translate", "translation", "file-input")


class NoImages(Unreachable):
    reads_images = False


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running_server(NoImages()) as (running, _):
        yield running


def test_the_page_is_served_at_the_root_with_a_policy_that_allows_this_origin_only(url: str) -> None:
    reply = call("GET", f"{url}/")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/html")
    assert reply.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "connect-src 'self'" in CONTENT_SECURITY_POLICY
    html = reply.body.decode()
    for hook in HOOKS:
        assert f'data-testid="{hook}"' in html
    for path in ("/page/page.css", "/page/page.js"):
        asset = call("GET", url + path)
        assert asset.status == 200 and asset.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert call("GET", f"{url}/page/nothing.js").status == 404


def test_nothing_in_the_page_points_at_another_host() -> None:
    for name in ("index.html", "page.css", "page.js"):
        text = (PAGE / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import", text, re.IGNORECASE), name


def test_the_settings_tell_the_page_the_limits_and_the_languages(url: str) -> None:
    settings = call("GET", f"{url}/page/settings").json()
    assert (
        settings["charLimit"] == 10_000 and settings["keyRequired"] is False and settings["images"] is False
    )
    assert ".docx" in settings["formats"] and ".jsonl" in settings["formats"]
    assert {"code": "de", "name": "German"} in settings["languages"]


def test_streaming_requests_over_a_limit_or_malformed_are_refused_before_translating(url: str) -> None:
    too_long = call("POST", f"{url}/translate_stream", {"q": "a" * 10_001, "source": "en", "target": "de"})
    assert too_long.status == 400 and "exceeds text limit (10000)" in too_long.json()["error"]
    missing = call("POST", f"{url}/translate_stream", {"source": "en", "target": "de"})
    assert missing.status == 400 and "missing q" in missing.json()["error"]
    body, headers = multipart({"source": "en", "target": "de"}, "file", "notes.xyz", b"hello")
    unknown = call("POST", f"{url}/translate_file_stream", body, headers=headers)
    assert unknown.status == 400 and "file format not supported (.xyz" in unknown.json()["error"]


def test_a_finished_translation_is_cut_into_segments_and_the_text_between() -> None:
    en, de = resolve_language("en"), resolve_language("de")

    def segment(source: str, text: str, stop: str = "stop", problem: Problem | None = None) -> SegmentResult:
        return SegmentResult(source, text, stop, 1, 1, 0, 0.0, problem=problem)  # type: ignore[arg-type]

    translation = Translation(
        "Guten Tag.\n\nLoop loop loop\n",
        en,
        de,
        "fewshot",
        TranslationOptions(),
        (
            segment("Good day.", "Guten Tag."),
            segment("Hello.", "Loop loop loop", stop="loop", problem=Problem.LOOP),
        ),
    )
    assert parts_of(translation) == [
        Part("Guten Tag."),
        Part("\n\n"),
        Part("Loop loop loop", "stopped by the repetition guard (the model was looping)", "loop"),
        Part("\n"),
    ]


def test_an_event_is_one_line_of_json() -> None:
    assert event_bytes("piece", {"text": "a\nb"}) == b'event: piece\ndata: {"text": "a\\nb"}\n\n'


def test_serve_can_open_the_page_in_the_browser() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--open" in result.output
