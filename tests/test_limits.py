"""Limits before work, with no model: readers stop at the character and segment limits while reading,
a ZIP bomb is refused from its declared sizes, cancellation reaches what it watches, and the server
refuses oversized documents and foreign web origins before a translator is needed."""

from __future__ import annotations

import io
import threading
import zipfile
from collections.abc import Iterator

import pytest

from tg_edge.cancel import Cancellation
from tg_edge.errors import Cancelled, InputError, InputTooLarge, TextLimitExceeded
from tg_edge.formats import Limits, read
from tg_edge.server import ServerSettings

from .hostile import document_xml, inflating_docx, minimal_docx
from .servers import call, multipart, running_server
from .test_server_fast import Unreachable

# Each format's document of 400 segments of 20 characters ("Sentence number 123." and the like).
SENTENCES = [f"Sentence number {n:03d}." for n in range(400)]
DOCUMENTS = {
    "txt": "\n".join(SENTENCES),
    "md": "\n\n".join(SENTENCES),
    "html": "".join(f"<p>{s}</p>\n" for s in SENTENCES),
    "srt": "".join(f"{n + 1}\n00:00:01,000 --> 00:00:02,000\n{s}\n\n" for n, s in enumerate(SENTENCES)),
    "vtt": "WEBVTT\n\n" + "".join(f"00:01.000 --> 00:02.000\n{s}\n\n" for s in SENTENCES),
    "jsonl": "".join(f'{{"text": "{s}"}}\n' for s in SENTENCES),
    "docx": minimal_docx(SENTENCES),
}


def read_document(fmt: str, limits: Limits | None = None):
    options = {"fields": "text"} if fmt == "jsonl" else {}
    return read(DOCUMENTS[fmt], f"doc.{fmt}", fmt, limits=limits, **options)


@pytest.mark.parametrize("fmt", sorted(DOCUMENTS))
def test_every_format_stops_reading_at_the_character_and_segment_limits(fmt: str) -> None:
    assert len(read_document(fmt).segments) == 400  # no limits: the whole document (the CLI's way)
    assert len(read_document(fmt, Limits(max_chars=8000)).segments) == 400  # exactly at the limit
    with pytest.raises(TextLimitExceeded, match="more than 7999 characters"):
        read_document(fmt, Limits(max_chars=7999))
    with pytest.raises(TextLimitExceeded, match="more than 100 segments"):
        read_document(fmt, Limits(max_segments=100))


@pytest.mark.parametrize("fmt", sorted(DOCUMENTS))
def test_a_cancelled_read_stops(fmt: str) -> None:
    cancel = Cancellation()
    cancel.cancel("the client went away")
    with pytest.raises(Cancelled, match="the client went away"):
        read_document(fmt, Limits(cancel=cancel))


def test_an_inflating_docx_is_refused_before_anything_is_inflated() -> None:
    bomb = inflating_docx()
    assert len(bomb) < 2_000_000
    with pytest.raises(InputTooLarge, match=r"word/document\.xml would inflate .* \(more than 100 times\)"):
        read(bomb, "bomb.docx", "docx")  # the CLI's reader too: no character limit, still no bomb


def test_a_docx_is_refused_past_its_unpacked_limit_and_when_entries_lie_about_their_size() -> None:
    honest = minimal_docx(SENTENCES)
    with pytest.raises(InputTooLarge, match="unpacks to"):
        read(honest, "big.docx", "docx", limits=Limits(max_unpacked=1000))
    # An entry declaring fewer bytes than it inflates to: zipfile stops at the declared size, the CRC fails.
    data = bytearray(honest)
    with zipfile.ZipFile(io.BytesIO(honest)) as archive:
        info = archive.getinfo("word/document.xml")
    declared = info.file_size.to_bytes(4, "little")
    smaller = (info.file_size // 2).to_bytes(4, "little")
    data[:] = data.replace(declared, smaller)
    with pytest.raises(InputError):
        read(bytes(data), "liar.docx", "docx")


def test_a_zip_of_absurdly_many_entries_is_refused_from_its_end_record() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for n in range(10_001):
            archive.writestr(f"{n}", b"")
    with pytest.raises(InputTooLarge, match="10001 entries"):
        read(out.getvalue(), "many.docx", "docx")


def test_docx_text_boxes_keep_their_reading_order() -> None:
    box = (
        "<w:p><w:r><w:t>Outer before</w:t></w:r><w:r><w:pict><w:txbxContent><w:p><w:r><w:t>Inside box"
        "</w:t></w:r></w:p></w:txbxContent></w:pict></w:r><w:r><w:t>Outer after</w:t></w:r></w:p>"
    )
    xml = document_xml(["First"]).replace(b"</w:body>", box.encode() + b"</w:body>")
    document = read(minimal_docx([], xml=xml), "box.docx", "docx")
    assert [(s.text, s.line) for s in document.segments] == [
        ("First", 1),
        ("Outer before", 2),
        ("Outer after", 2),
        ("Inside box", 3),
    ]


class _Job:
    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def cancel(self) -> None:
        self.cancelled.set()


def test_a_cancellation_reaches_the_jobs_it_watches_and_only_while_it_watches() -> None:
    cancel, before, during, after = Cancellation(), _Job(), _Job(), _Job()
    with cancel.watch([before]):
        pass
    with cancel.watch([during]):
        cancel.check()  # not cancelled yet
        cancel.cancel("the request's time ran out")
        assert during.cancelled.is_set()
    assert not before.cancelled.is_set()
    with cancel.watch([after]):  # cancelled already: at once
        assert after.cancelled.is_set()
    with pytest.raises(Cancelled, match="time ran out"):
        cancel.check()


# -- the server, with a translator that must never be reached -------------------------------------


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with running_server(Unreachable(), ServerSettings(char_limit=2000)) as (running, _):
        yield running


def upload(url: str, filename: str, data: bytes, **headers: str):
    body, content = multipart({"source": "en", "target": "de"}, "file", filename, data)
    return call("POST", f"{url}/translate_file", body, headers={**content, **headers})


@pytest.mark.parametrize("fmt", sorted(DOCUMENTS))
def test_a_document_over_the_char_limit_gets_400_before_any_translation(url: str, fmt: str) -> None:
    data = DOCUMENTS[fmt]
    body, content = multipart(
        {"source": "en", "target": "de", "fields": "text"},
        "file",
        f"doc.{fmt}",
        data if isinstance(data, bytes) else data.encode(),
    )
    reply = call("POST", f"{url}/translate_file", body, headers=content)
    assert reply.status == 400, reply.body
    assert (
        reply.json()["error"] == f"Invalid request: doc.{fmt} holds more than 2000 characters to translate "
        "(the limit)"
    )


def test_an_inflating_docx_gets_413_at_once(url: str) -> None:
    reply = upload(url, "bomb.docx", inflating_docx())
    assert reply.status == 413
    assert reply.json()["error"].startswith(
        "Request entity too large: bomb.docx: its entry word/document.xml"
    )


def test_a_page_from_a_foreign_origin_is_refused_and_gets_no_cors_header(url: str) -> None:
    foreign = call(
        "POST",
        f"{url}/translate",
        {"q": "Hi", "source": "en", "target": "de"},
        headers={"Origin": "https://example.org"},
    )
    assert foreign.status == 403 and "access-control-allow-origin" not in {k.lower() for k in foreign.headers}
    assert "--cors-origin" in foreign.json()["error"]
    for origin in (
        "http://localhost:3000",
        "http://127.0.0.1:8080",
        "http://[::1]:5000",
        "moz-extension://1b2c3d",
    ):
        local = call("POST", f"{url}/translate", {"source": "en", "target": "de"}, headers={"Origin": origin})
        assert local.status == 400 and local.headers["access-control-allow-origin"] == origin  # missing q
    assert "access-control-allow-origin" not in call("GET", f"{url}/languages").headers  # no Origin: no CORS


def test_private_network_preflights_are_answered_only_for_allowed_origins(url: str) -> None:
    def preflight(origin: str):
        return call(
            "OPTIONS",
            f"{url}/translate",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
                "Access-Control-Request-Private-Network": "true",
            },
        )

    allowed = preflight("http://localhost:3000")
    assert allowed.status == 200 and allowed.headers["access-control-allow-private-network"] == "true"
    refused = preflight("https://example.org")
    assert refused.status == 400 and "access-control-allow-private-network" not in {
        k.lower() for k in refused.headers
    }


@pytest.mark.parametrize("origins", [("*",), ("https://*.example.org",)])
def test_cors_origin_opens_more_and_star_restores_every_origin(origins: tuple[str, ...]) -> None:
    with running_server(Unreachable(), ServerSettings(cors_origins=origins)) as (opened, _):
        reply = call(
            "POST",
            f"{opened}/translate",
            {"source": "en", "target": "de"},
            headers={"Origin": "https://app.example.org"},
        )
        assert reply.status == 400
        assert reply.headers["access-control-allow-origin"] in ("*", "https://app.example.org")
        if origins == ("*",):
            assert reply.headers["access-control-allow-origin"] == "*"
        else:
            assert (
                call("POST", f"{opened}/translate", {}, headers={"Origin": "https://example.com"}).status
                == 403
            )
