"""The LibreTranslate-compatible server: real uvicorn on loopback, the real demo model, real HTTP requests."""

from __future__ import annotations

import gzip
import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tg_edge import formats
from tg_edge.server import ServerSettings, load_api_keys
from tg_edge.server.admission import Admission

from .servers import CountingTranslator, call, multipart, running_server

pytestmark = pytest.mark.integration

LONG_TEXT = "\n".join(
    [
        "The weather is very nice in the summer and we often go to the lake.",
        "My brother works in a big hospital in the city centre.",
        "We would like to book a table for four people tonight.",
        "The train to Berlin leaves from platform seven at nine o'clock.",
        "She reads a book every week and writes about it in her blog.",
        "The children are playing football in the park behind the school.",
    ]
)


@pytest.fixture(scope="module")
def server(translator: object) -> Iterator[tuple[str, Admission]]:
    with running_server(translator, ServerSettings(char_limit=2000, max_body_bytes=64 * 1024)) as running:
        yield running


@pytest.fixture(scope="module")
def url(server: tuple[str, Admission]) -> str:
    return server[0]


def test_an_unmodified_libretranslate_curl_request_gets_a_libretranslate_answer(url: str) -> None:
    # curl -X POST /translate -d '{"q":"Hello","source":"en","target":"de"}' sends a form content type
    reply = call(
        "POST",
        f"{url}/translate",
        b'{"q":"Where is the train station?","source":"en","target":"de"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    assert list(reply.json()) == ["translatedText"] and "Bahnhof" in reply.json()["translatedText"]


def test_json_batch_with_auto_detection(url: str) -> None:
    reply = call(
        "POST",
        f"{url}/translate",
        {
            "q": ["Good morning.", "Where is the train station?"],
            "source": "auto",
            "target": "de",
            "format": "text",
        },
    )
    assert reply.status == 200, reply.body
    data = reply.json()
    assert len(data["translatedText"]) == 2 and "Bahnhof" in data["translatedText"][1]
    assert [d["language"] for d in data["detectedLanguage"]] == ["en", "en"]
    assert 50 < data["detectedLanguage"][0]["confidence"] <= 100


def test_form_fields_and_alternatives(url: str) -> None:
    reply = call(
        "POST",
        f"{url}/translate",
        b"q=Thank+you.&source=en&target=es&alternatives=2",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 200, reply.body
    assert reply.json()["translatedText"].strip() and reply.json()["alternatives"] == []


def test_languages_lists_the_models_languages_and_all_on_request(url: str) -> None:
    reply = call("GET", f"{url}/languages")
    assert reply.status == 200 and len(reply.body) <= 50_000
    languages = reply.json()
    assert set(languages[0]) == {"code", "name", "targets"}
    by_code = {lang["code"]: lang for lang in languages}  # the demo model is few-shot: its example languages
    assert len(by_code) == 29 and by_code["de"]["name"] == "German"
    assert by_code["zh-Hant"]["name"] == "Chinese (Traditional)" and "zh-Hant" in by_code["de"]["targets"]
    assert "de" not in by_code["de"]["targets"] and len(by_code["pt"]["targets"]) == 28

    reply = call("GET", f"{url}/languages?all=true", headers={"Accept-Encoding": "gzip"})
    assert reply.status == 200 and reply.headers.get("content-encoding") == "gzip"
    every = {lang["code"]: lang for lang in json.loads(gzip.decompress(reply.body))}
    assert len(every) == 581 and len(every["pt-BR"]["targets"]) == 580


@pytest.mark.parametrize("code", ["zh-CN", "zt", "pb", "nb", "ku"])
def test_codes_clients_send_work_whether_listed_or_not(url: str, code: str) -> None:
    reply = call("POST", f"{url}/translate", {"q": "Thank you.", "source": "en", "target": code})
    assert reply.status == 200, reply.body


def test_detect_ranks_candidates_like_libretranslate(url: str) -> None:
    reply = call("POST", f"{url}/detect", {"q": "Wo ist der Bahnhof, bitte?"})
    assert reply.status == 200
    candidates = reply.json()
    assert candidates[0]["language"] == "de" and candidates[0]["confidence"] > 90
    assert all(set(c) == {"confidence", "language"} for c in candidates)


@pytest.mark.parametrize(
    ("body", "headers", "status", "error"),
    [
        ({"source": "en", "target": "de"}, None, 400, "Invalid request: missing q parameter"),
        ({"q": "Hi", "target": "de"}, None, 400, "Invalid request: missing source parameter"),
        ({"q": "Hi", "source": "en"}, None, 400, "Invalid request: missing target parameter"),
        ({"q": "Hi", "source": "en", "target": "xx"}, None, 400, "xx is not supported"),
        ({"q": "Hi", "source": "english-ish", "target": "de"}, None, 400, "english-ish is not supported"),
        ({"q": 5, "source": "en", "target": "de"}, None, 400, "q must be a string or an array of strings"),
        (
            {"q": "Hi", "source": "en", "target": "de", "format": "pdf"},
            None,
            400,
            "pdf format is not supported",
        ),
        (
            {"q": "Hi", "source": "en", "target": "de", "alternatives": "x"},
            None,
            400,
            "alternatives parameter",
        ),
        (
            {"q": "x" * 2001, "source": "en", "target": "de"},
            None,
            400,
            "request (2001) exceeds text limit (2000)",
        ),
        ({"q": "12345", "source": "auto", "target": "de"}, None, 400, "cannot tell which language"),
        (b'{"q": "Hi", "source": "en"', {"Content-Type": "application/json"}, 400, "Invalid JSON format"),
        (b'["Hi"]', {"Content-Type": "application/json"}, 400, "Invalid JSON format"),
        (
            b"q=" + b"x" * (70 * 1024),
            {"Content-Type": "application/x-www-form-urlencoded"},
            413,
            "Request entity too large",
        ),
    ],
)
def test_bad_requests_get_libretranslate_statuses_and_json_errors(
    url: str, body: object, headers: dict | None, status: int, error: str
) -> None:
    reply = call("POST", f"{url}/translate", body, headers=headers)  # type: ignore[arg-type]
    assert reply.status == status and reply.headers["content-type"] == "application/json"
    assert error in reply.json()["error"]


def test_html_keeps_its_markup_and_translates_the_text(url: str) -> None:
    source = '<p class="x">Good <b>morning</b>.</p>\n<ul><li>I like apples.</li></ul>'
    reply = call("POST", f"{url}/translate", {"q": source, "source": "en", "target": "de", "format": "html"})
    assert reply.status == 200, reply.body
    translated = reply.json()["translatedText"]
    assert re.sub(r">[^<]*<", "><", translated) == re.sub(r">[^<]*<", "><", source)  # same tags, same order
    assert "apples" not in translated and "morning" not in translated


def test_translate_file_keeps_subtitle_timing(url: str) -> None:
    srt = "1\n00:00:01,000 --> 00:00:02,500\nGood morning.\n\n2\n00:00:03,000 --> 00:00:04,000\nThank you.\n"
    body, headers = multipart({"source": "en", "target": "de"}, "file", "talk.srt", srt.encode())
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 200, reply.body
    fetched = call("GET", reply.json()["translatedFileUrl"]).body.decode()
    timing = [line for line in fetched.split("\n") if "-->" in line or line.isdigit()]
    assert timing == [line for line in srt.split("\n") if "-->" in line or line.isdigit()]
    assert "Good morning" not in fetched


def test_translate_file_writes_a_word_document_back(url: str) -> None:
    from .test_formats_docx import make_docx

    original = make_docx()
    body, headers = multipart({"source": "en", "target": "de"}, "file", "report.docx", original)
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 200, reply.body
    fetched = call("GET", reply.json()["translatedFileUrl"]).body
    before = formats.read(original, "in.docx", "docx").segments
    after = formats.read(fetched, "out.docx", "docx").segments
    assert (
        len(after) == len(before)
        and sum(a.text != b.text for a, b in zip(before, after, strict=False)) >= len(before) // 2
    )
    body, headers = multipart({"source": "en", "target": "de"}, "file", "x.docx", b"text")
    broken = call("POST", f"{url}/translate_file", body, headers=headers)
    assert broken.status == 400 and "x.docx is not a DOCX file" in broken.json()["error"]


def test_translate_file_reads_jsonl_fields_named_in_the_request(url: str) -> None:
    record = b'{"id": 3, "q": "Thank you very much.", "note": "keep me"}\n'
    body, headers = multipart({"source": "en", "target": "de"}, "file", "data.jsonl", record)
    missing = call("POST", f"{url}/translate_file", body, headers=headers)
    assert missing.status == 400 and "needs the form field 'fields'" in missing.json()["error"]
    body, headers = multipart({"source": "en", "target": "de", "fields": "q"}, "file", "data.jsonl", record)
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 200, reply.body
    translated = json.loads(call("GET", reply.json()["translatedFileUrl"]).body)
    assert (
        translated["id"] == 3
        and translated["note"] == "keep me"
        and translated["q"] != "Thank you very much."
    )


def test_unknown_paths_and_methods_are_json_errors_and_the_server_keeps_serving(url: str) -> None:
    assert call("GET", f"{url}/nope").json() == {"error": "Not Found"}
    wrong = call("GET", f"{url}/translate")
    assert wrong.status == 405 and wrong.json() == {"error": "Method Not Allowed"}
    chunked = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    chunked.sendall(b"GARBAGE / HTTP/9\r\n\r\n")  # not HTTP at all
    chunked.recv(1024)
    chunked.close()
    health = call("GET", f"{url}/health")
    assert health.status == 200 and health.json()["status"] == "ok" and health.json()["requests"] == 0
    assert (
        call("POST", f"{url}/translate", {"q": "Good night.", "source": "en", "target": "fr"}).status == 200
    )


def test_a_slow_client_does_not_hold_up_others(url: str) -> None:
    slow = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))
    try:  # headers and a third of the body, then nothing more for now
        slow.sendall(
            b"POST /translate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b'Content-Length: 60\r\n\r\n{"q": "Good '
        )
        reply = call(
            "POST", f"{url}/translate", {"q": "Thank you.", "source": "en", "target": "de"}, timeout=60
        )
        assert reply.status == 200
    finally:
        slow.close()


def test_translate_file_answers_a_download_url_like_libretranslate(url: str) -> None:
    text = "Good morning.\n\n  I like apples.\n"
    body, headers = multipart({"source": "en", "target": "de"}, "file", "notes.txt", text.encode())
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 200, reply.body
    download = reply.json()["translatedFileUrl"]
    assert download.startswith(url) and download.endswith("/notes.txt")
    fetched = call("GET", download)
    assert fetched.status == 200 and "notes.txt" in fetched.headers["content-disposition"]
    lines = fetched.body.decode().split("\n")
    assert len(lines) == 4 and lines[1] == "" and lines[2].startswith("  ") and lines[0].strip()
    assert call("GET", download.replace("/download_file/", "/download_file/x")).status == 404


def test_translate_file_refuses_what_it_cannot_read(url: str) -> None:
    body, headers = multipart({"source": "en", "target": "de"}, "file", "slides.pptx", b"PK\x03\x04")
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 400 and "file format not supported" in reply.json()["error"]
    body, headers = multipart({"source": "en", "target": "de"}, "file", "scan.pdf", b"%PDF-1.4")
    reply = call("POST", f"{url}/translate_file", body, headers=headers)  # a PDF now, but a broken one
    assert reply.status == 400 and "is not a readable PDF file" in reply.json()["error"]
    body, headers = multipart({"source": "en", "target": "zh"}, "file", "scan.pdf", b"%PDF-1.4")
    reply = call("POST", f"{url}/translate_file", body, headers=headers)  # Chinese: no font to draw it
    assert reply.status == 400 and "DejaVu" in reply.json()["error"]
    body, headers = multipart(
        {"source": "en", "target": "de"}, "file", "latin1.txt", "café".encode("latin-1")
    )
    reply = call("POST", f"{url}/translate_file", body, headers=headers)
    assert reply.status == 400 and "not valid UTF-8" in reply.json()["error"]
    body, headers = multipart({"target": "de"}, "file", "a.txt", b"Hi")
    assert (
        call("POST", f"{url}/translate_file", body, headers=headers).json()["error"]
        == "Invalid request: missing source parameter"
    )


def test_pages_of_this_machine_may_call_it_from_a_browser(url: str) -> None:
    preflight = call(
        "OPTIONS",
        f"{url}/translate",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert (
        preflight.status == 200
        and preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    )
    listing = call("GET", f"{url}/health", headers={"Origin": "http://127.0.0.1:8080"})
    assert listing.headers["access-control-allow-origin"] == "http://127.0.0.1:8080"


def test_openapi_spec_and_docs_are_served(url: str) -> None:
    spec = call("GET", f"{url}/openapi.json").json()
    assert {"/translate", "/detect", "/languages", "/translate_file", "/health"} <= set(spec["paths"])
    assert {"/v2/translate", "/v2/languages", "/v2/usage", "/v2/document"} <= set(spec["paths"])
    assert "requestBody" in spec["paths"]["/translate"]["post"]
    assert call("GET", f"{url}/spec").json()["paths"] == spec["paths"]
    assert call("GET", f"{url}/docs").status == 200


def test_api_keys_are_required_checked_and_never_logged(
    translator: object, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    keys = tmp_path / "keys.txt"
    keys.write_text("# keys for the test\nsecret-key-one\n\nsecret-key-two\n", encoding="utf-8")
    settings = ServerSettings(api_key_digests=load_api_keys(keys))
    request = {"q": "Good night.", "source": "en", "target": "de"}
    with caplog.at_level(logging.DEBUG), running_server(translator, settings) as (url, _):
        missing = call("POST", f"{url}/translate", request)
        assert missing.status == 400 and "API key" in missing.json()["error"]
        wrong = call("POST", f"{url}/translate", {**request, "api_key": "secret-key-on"})
        assert wrong.status == 403 and wrong.json() == {"error": "Invalid API key"}
        assert call("POST", f"{url}/translate", {**request, "api_key": "secret-key-two"}).status == 200
        bearer = call(
            "POST",
            f"{url}/detect",
            {"q": "Guten Morgen, wie geht es Ihnen?"},
            headers={"Authorization": "Bearer secret-key-one"},
        )
        assert bearer.status == 200
        assert call("POST", f"{url}/translate?api_key=secret-key-one", request).status == 200
        assert call("GET", f"{url}/languages").status == 200  # listing needs no key, as in LibreTranslate
    assert "POST /translate 200" in caplog.text and "POST /translate 403" in caplog.text
    assert "secret-key" not in caplog.text


def wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_a_full_queue_answers_429_and_then_serves_again(translator: object) -> None:
    settings = ServerSettings(max_queue=1, workers=1)
    with running_server(translator, settings) as (url, state):
        slow: dict[str, object] = {}
        worker = threading.Thread(
            target=lambda: slow.update(
                reply=call("POST", f"{url}/translate", {"q": LONG_TEXT, "source": "en", "target": "de"})
            )
        )
        worker.start()
        wait_for(lambda: state.admitted == 1)
        refused = call("POST", f"{url}/translate", {"q": "Hello there.", "source": "en", "target": "de"})
        worker.join()
        assert refused.status == 429 and refused.json()["error"].startswith("Slowdown:")
        assert slow["reply"].status == 200  # type: ignore[union-attr]
        assert (
            call("POST", f"{url}/translate", {"q": "Thank you.", "source": "en", "target": "de"}).status
            == 200
        )


def test_a_request_past_its_timeout_fails_and_its_queued_work_is_dropped(translator: object) -> None:
    counting = CountingTranslator(translator)
    with running_server(counting, ServerSettings(workers=1, timeout=0.3)) as (url, state):
        replies: list[object] = []
        threads = [
            threading.Thread(
                target=lambda q=q: replies.append(
                    call("POST", f"{url}/translate", {"q": q, "source": "en", "target": "de"})
                )
            )
            for q in (LONG_TEXT, "Hi.")
        ]
        for thread in threads:
            thread.start()
            wait_for(lambda n=len(replies) + 1: state.admitted >= n or len(replies) >= n)  # noqa: B008 - n is bound now, on purpose
        for thread in threads:
            thread.join()
        assert [r.status for r in replies] == [500, 500]  # type: ignore[attr-defined]
        assert all("no result within 0.3 s" in r.json()["error"] for r in replies)  # type: ignore[attr-defined]
        wait_for(lambda: state.admitted == 0)
    # The running translation was stopped; the queued one never ran to an answer: dropped where its time ran
    # out in the queue, or cut on the worker when the running one's cancel freed it just before its own end.
    assert counting.texts[0] == [LONG_TEXT] and counting.texts[1:] in ([], [["Hi."]])


def test_a_client_that_disconnects_does_not_wedge_the_server(translator: object) -> None:
    counting = CountingTranslator(translator)
    with running_server(counting, ServerSettings(workers=1, max_queue=4)) as (url, state):
        port = int(url.rsplit(":", 1)[1])
        body = json.dumps({"q": LONG_TEXT, "source": "en", "target": "de"}).encode()
        clients = []
        for _ in range(2):  # the first starts translating, the second waits in the queue; then both hang up
            gone = socket.create_connection(("127.0.0.1", port))
            gone.sendall(
                b"POST /translate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )
            wait_for(lambda n=_ + 1: state.admitted == n)
            clients.append(gone)
        clients[1].close()
        wait_for(lambda: state.admitted == 1)  # the queued request of the client that left is dropped
        clients[0].close()
        wait_for(lambda: state.admitted == 0)  # the running one stops at its next decoding step
        reply = call("POST", f"{url}/translate", {"q": "Good night.", "source": "en", "target": "fr"})
        assert reply.status == 200
        wait_for(lambda: state.admitted == 0)
    assert counting.texts == [[LONG_TEXT], ["Good night."]]  # the queued request never reached the translator


def test_serve_command_starts_answers_and_stops_on_sigint(demo_model: Path, tmp_path: Path) -> None:
    """Started with SIGINT ignored, as a job sent to the background is: uvicorn still stops on it, and the
    command must still say so (with Python's own handler the same path runs)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tg_edge",
            "serve",
            "--port",
            "0",
            "--model",
            str(demo_model),
            "--threads",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        line = proc.stderr.readline().decode()  # type: ignore[union-attr]
        match = re.search(r"on (http://127\.0\.0\.1:\d+) ", line)
        assert match, line
        reply = call(
            "POST", f"{match.group(1)}/translate", {"q": "Good morning.", "source": "en", "target": "de"}
        )
        assert reply.status == 200 and reply.json()["translatedText"].strip()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        rest = proc.stderr.read().decode()  # type: ignore[union-attr]
        assert "Traceback" not in rest and "tg-edge serve stopped" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
