"""The issue-31 probes that need the demo model: DeepLX clients, translated files across a restart for their
uploader only, download URLs from the configured address, slow and idle clients under a low descriptor
limit, and SIGTERM with half-sent bodies."""

from __future__ import annotations

import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tg_edge.server import ServerSettings
from tg_edge.server.settings import key_digest

from .servers import call, multipart, running_server

pytestmark = pytest.mark.integration

ALICE, BOB = "alice-key", "bob-key"


def keyed(**kwargs: object) -> ServerSettings:
    return ServerSettings(api_key_digests=frozenset({key_digest(ALICE), key_digest(BOB)}), **kwargs)  # type: ignore[arg-type]


def test_deeplx_requests_as_pdfmathtranslate_and_pot_send_them(translator: object) -> None:
    with running_server(translator, keyed()) as (url, _):
        # PDFMathTranslate: POST {endpoint}?token=KEY, JSON, lower-case codes, reads ["data"]
        pdf = call(
            "POST",
            f"{url}/translate?token={ALICE}",
            {"source_lang": "en", "target_lang": "de", "text": "Where is the train station?"},
        )
        assert pdf.status == 200, pdf.body
        body = pdf.json()
        assert body["code"] == 200 and body["data"].strip() and body["method"] == "tg-edge"
        assert body["alternatives"] == [] and isinstance(body["id"], int)
        assert (body["source_lang"], body["target_lang"]) == ("EN", "DE")
        # pot: Bearer token, upper-case codes, auto source
        pot = call(
            "POST",
            f"{url}/deeplx/translate",
            {"text": "Guten Morgen, wie geht es Ihnen heute?", "source_lang": "auto", "target_lang": "EN"},
            headers={"Authorization": f"Bearer {BOB}"},
        )
        assert pot.status == 200 and pot.json()["source_lang"] == "DE" and pot.json()["data"].strip()
        refused = call("POST", f"{url}/deeplx/translate", {"text": "Hi", "target_lang": "DE"})
        assert refused.status == 401 and refused.json() == {"message": "Invalid access token"}
        wrong = call("POST", f"{url}/translate?token=nope", {"text": "Hi", "target_lang": "DE"})
        assert wrong.status == 403
        libre = call(
            "POST", f"{url}/translate", {"q": "Hello.", "source": "en", "target": "de", "api_key": ALICE}
        )
        assert list(libre.json()) == ["translatedText"]  # LibreTranslate's body still gets its answer


def test_translated_files_outlive_a_restart_for_their_uploader_only(
    translator: object, tmp_path: Path
) -> None:
    settings = keyed(data_dir=tmp_path)
    body, headers = multipart({"source": "en", "target": "de"}, "file", "notes.txt", b"Good morning.\n")
    with running_server(translator, settings) as (url, _):
        upload = call(
            "POST", f"{url}/translate_file", body, headers={**headers, "Authorization": f"Bearer {ALICE}"}
        )
        assert upload.status == 200, upload.body
        download = upload.json()["translatedFileUrl"]
        deepl_body, deepl_headers = multipart({"target_lang": "DE"}, "file", "memo.txt", b"Thank you.\n")
        document = call(
            "POST",
            f"{url}/v2/document",
            deepl_body,
            headers={**deepl_headers, "Authorization": f"DeepL-Auth-Key {ALICE}"},
        ).json()
    with running_server(translator, settings) as (url, _):  # a restart on the same data directory
        download = re.sub(r"^http://[^/]+", url, download)
        assert call("GET", download, headers={"Authorization": f"Bearer {ALICE}"}).status == 200
        assert call("GET", f"{download}?api_key={ALICE}").status == 200
        assert call("GET", download, headers={"Authorization": f"Bearer {BOB}"}).status == 404
        assert call("GET", download).status == 400  # no key at all
        path = f"{url}/v2/document/{document['document_id']}"
        fields = {"document_key": document["document_key"]}
        for key, expected in ((ALICE, 200), (BOB, 404)):
            auth = {"Authorization": f"DeepL-Auth-Key {key}"}
            status = call("POST", path, fields, headers=auth)
            result = call("POST", f"{path}/result", fields, headers=auth)
            assert (status.status, result.status) == (expected, expected), key
            if expected == 200:
                assert status.json()["status"] == "done" and result.body.strip()


def test_download_urls_name_the_configured_address_not_the_host_header(translator: object) -> None:
    body, headers = multipart({"source": "en", "target": "de"}, "file", "a.txt", b"Hello.\n")
    with running_server(translator) as (url, _):
        port = url.rsplit(":", 1)[1]
        reply = call("POST", f"{url}/translate_file", body, headers={**headers, "Host": f"localhost:{port}"})
        assert reply.json()["translatedFileUrl"].startswith(f"{url}/download_file/")
        evil = call("POST", f"{url}/translate_file", body, headers={**headers, "Host": "evil.com"})
        assert evil.status == 403


@contextmanager
def low_fd_server(
    demo_model: Path, stderr: Path, *args: str
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``tg-edge serve`` with 256 file descriptors at most (soft and hard), its stderr going to ``stderr``."""

    def lower_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tg_edge", "serve", "--port", "0", "--model", str(demo_model)]
            + ["--threads", "2", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=lower_limit,
        )
    try:
        deadline = time.monotonic() + 120
        while not (match := re.search(r"on (http://127\.0\.0\.1:\d+) ", stderr.read_text(errors="replace"))):
            assert proc.poll() is None and time.monotonic() < deadline, stderr.read_text(errors="replace")
            time.sleep(0.1)
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_slow_and_idle_clients_under_a_low_descriptor_limit(demo_model: Path, tmp_path: Path) -> None:
    stderr = tmp_path / "stderr.log"
    with low_fd_server(demo_model, stderr, "--timeout", "30") as (_, url):
        port = int(url.rsplit(":", 1)[1])
        request = {"q": "Good morning.", "source": "en", "target": "de"}
        assert call("GET", f"{url}/health").status == 200
        before = stderr.stat().st_size
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
        for conn in slow:
            conn.sendall(b"GET /health HTTP/1.1\r\nHost: loc")  # and nothing more
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(300)]
        try:
            started = time.monotonic()
            health = call("GET", f"{url}/health", timeout=30)
            answered = time.monotonic() - started
            translated = call("POST", f"{url}/translate", request, timeout=90)
            for conn in slow:  # the head deadline (30 s) closes them; 90 s is the generous bound
                conn.settimeout(90)
                assert conn.recv(1024) == b""
        finally:
            for conn in slow + idle:
                conn.close()
        grown = stderr.stat().st_size - before
    assert health.status == 200 and answered < 2, answered  # before: no answer at all (30 s timeout)
    assert translated.status == 200
    assert grown < 100_000, grown  # before: ~130 MB of accept() tracebacks
    print(f"\n/health under 20 slow + 300 idle connections (256 fds): {answered:.3f} s; stderr +{grown} B")


def test_sigterm_with_half_sent_bodies_logs_no_traceback(demo_model: Path, tmp_path: Path) -> None:
    stderr = tmp_path / "stderr.log"
    with low_fd_server(demo_model, stderr) as (proc, url):
        port = int(url.rsplit(":", 1)[1])
        half = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        for conn in half:
            conn.sendall(
                b"POST /translate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b'Content-Length: 500\r\n\r\n{"q": "Good '
            )
        threading.Event().wait(0.5)  # the server reads their bodies
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        for conn in half:
            conn.close()
    text = stderr.read_text(errors="replace")
    assert "Traceback" not in text and "CancelledError" not in text, text
    assert "tg-edge serve stopped" in text
