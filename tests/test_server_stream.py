"""The streaming endpoints as an app sees them: server-sent events from a real server and the demo model."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tg_edge.server import ServerSettings
from tg_edge.server.admission import Admission

from .servers import call, multipart, running_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(translator: object) -> Iterator[tuple[str, Admission]]:
    with running_server(translator, ServerSettings(char_limit=2000)) as running:
        yield running


def events(body: bytes) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a text/event-stream body."""
    pairs = []
    for block in body.decode().split("\n\n"):
        if block:
            name, data = block.split("\n")
            assert name.startswith("event: ") and data.startswith("data: ")
            pairs.append((name[7:], json.loads(data[6:])))
    return pairs


def test_a_text_streams_as_pieces_then_its_parts(server: tuple[str, Admission]) -> None:
    url, _ = server
    text = "Where is the train station?\nThe museum opens at nine."
    reply = call("POST", f"{url}/translate_stream", {"q": text, "source": "auto", "target": "de"})
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/event-stream")
    stream = events(reply.body)
    names = [name for name, _ in stream]
    assert names[0] == "detected" and names[-1] == "done" and names.count("piece") >= 3, names
    assert stream[0][1]["language"] == "en" and stream[0][1]["confidence"] > 50
    done = stream[-1][1]
    pieces = "".join(data["text"] for name, data in stream if name == "piece")
    assert pieces == done["translatedText"] == "".join(part["text"] for part in done["parts"])
    assert "\n" in [part["text"] for part in done["parts"]]  # the line break stays between the two segments
    assert all(set(part) <= {"text", "problem", "finding"} for part in done["parts"])


def test_a_file_streams_its_progress_then_the_link_to_its_translation(server: tuple[str, Admission]) -> None:
    url, _ = server
    lines = "".join(f"Line number {n} is here.\n" for n in range(1, 21))
    body, headers = multipart({"source": "en", "target": "de"}, "file", "notes.txt", lines.encode())
    reply = call("POST", f"{url}/translate_file_stream", body, headers=headers)
    stream = events(reply.body)
    progress = [(data["done"], data["total"]) for name, data in stream if name == "progress"]
    assert progress[0] == (0, 20) and progress[-1] == (20, 20) and len(progress) >= 3, progress
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    name, done = stream[-1]
    assert name == "done" and done["filename"] == "notes.txt"
    translated = call("GET", done["translatedFileUrl"])
    assert translated.status == 200 and translated.body.decode().count("\n") == 20


def test_a_file_over_a_limit_found_while_reading_ends_the_stream_with_one_error(
    server: tuple[str, Admission],
) -> None:
    url, _ = server
    body, headers = multipart({"source": "en", "target": "de"}, "file", "long.txt", b"word " * 500)
    stream = events(call("POST", f"{url}/translate_file_stream", body, headers=headers).body)
    assert [name for name, _ in stream] == ["error"]
    assert stream[0][1]["status"] == 400 and "2000" in stream[0][1]["error"]


def test_a_client_that_leaves_mid_stream_frees_its_place(server: tuple[str, Admission]) -> None:
    url, admission = server
    translated_before = call("GET", f"{url}/v2/usage").json()["character_count"]
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    text = " ".join(["The children are playing football in the park behind the school."] * 12)
    connection.request(
        "POST",
        "/translate_stream",
        json.dumps({"q": text, "source": "en", "target": "de"}),
        {"Content-Type": "application/json"},
    )
    response = connection.getresponse()
    seen = b""
    while b"event: piece" not in seen:
        seen += response.read1(65536)  # what has come so far (read() would wait for the whole answer)
    assert admission.admitted == 1
    connection.sock.shutdown(2)
    connection.close()
    deadline = time.monotonic() + 120  # a bound on a hang, not a race
    while admission.admitted and time.monotonic() < deadline:
        time.sleep(0.05)
    assert admission.admitted == 0
    # Stopped, not finished: a finished translation would count its characters.
    assert call("GET", f"{url}/v2/usage").json()["character_count"] == translated_before
