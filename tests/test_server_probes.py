"""The server as an attacker probes it (issue 31), on loopback without a model: keys checked before bodies,
capped forms, escaped access logs without tokens, clean 4xx for malformed input, Host checks, request
heads and bodies bounded by the timeout, accept() floods logged once, translated files kept on disk for
their uploader, and /docs served offline."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tg_edge.server import ServerSettings
from tg_edge.server.errors import RequestError
from tg_edge.server.filestore import FileStore, StoredFile
from tg_edge.server.hosts import HostPolicy
from tg_edge.server.logs import QuietNoise
from tg_edge.server.settings import key_digest

from .servers import call, running_server
from .test_server_fast import Unreachable

KEY = "probe-key-a"
KEYED = ServerSettings(api_key_digests=frozenset({key_digest(KEY), key_digest("probe-key-b")}))


@pytest.fixture(scope="module")
def keyed_url() -> Iterator[str]:
    with running_server(Unreachable(), KEYED) as (url, _):
        yield url


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def raw_request(url: str, head: bytes, body: bytes = b"", *, wait: float = 10) -> bytes:
    """Send ``head`` and ``body`` on a fresh connection; the answer (head and body) that comes within ``wait``."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=wait) as conn:
        conn.sendall(head + body)
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
                answer_head, _, answer_body = received.partition(b"\r\n\r\n")
                length = re.search(rb"content-length: (\d+)", answer_head, re.IGNORECASE)
                if length and len(answer_body) >= int(length.group(1)):
                    break
        except TimeoutError:
            pass
        return received


def logged(caplog: pytest.LogCaptureFixture, text: str) -> None:
    """Wait until ``text`` is logged (the access log writes its line once the answer is sent)."""
    deadline = time.monotonic() + 10
    while text not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.02)


# -- 1: keys and cheap limits before parsing ---------------------------------------------------------------


def test_a_wrong_key_in_a_header_is_refused_before_the_body_is_sent(keyed_url: str) -> None:
    # 1 MB announced, one byte sent: the answer must come without the body (before: it waited for it).
    for path, auth in (("/translate", "Bearer nope"), ("/v2/translate", "DeepL-Auth-Key nope")):
        head = (
            f"POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        ).encode()
        answer = raw_request(keyed_url, head, b"{", wait=10)
        assert answer.startswith(b"HTTP/1.1 403 "), answer[:200]


def test_a_form_body_with_too_many_fields_is_refused(keyed_url: str) -> None:
    body = b"&".join(b"f%d=x" % n for n in range(5000))
    reply = call(
        "POST",
        f"{keyed_url}/translate",
        body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Bearer {KEY}"},
    )
    assert reply.status == 400 and reply.json()["error"] == "Invalid request: more than 1000 form fields"


# -- 3, 4: the access log -------------------------------------------------------------------------------


def test_the_access_log_escapes_paths_and_shows_no_token_or_file_name(
    keyed_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tg_edge.server"):
        call("GET", f"{keyed_url}/x%0AERROR:forged%00line")
        call("GET", f"{keyed_url}/download_file/AbCdEfGhIjKlMnOpQrStUv/private%00notes.txt")
        logged(caplog, "GET /download_file/")  # the line follows the answer
    lines = [record.getMessage() for record in caplog.records if record.name == "tg_edge.server"]
    assert "GET /x\\nERROR:forged\\x00line 404" in "\n".join(lines)
    assert all("\n" not in line and "\x00" not in line for line in lines)
    assert any(line.startswith("GET /download_file/{token}/{filename} 400") for line in lines), lines
    assert not any("AbCdEf" in line or "notes" in line for line in lines)


# -- 5: malformed input ----------------------------------------------------------------------------------


def test_malformed_input_gets_a_clean_4xx_and_logs_no_error(
    keyed_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    surrogate = b'"\\ud800"'
    with caplog.at_level(logging.DEBUG):
        nested = call(
            "POST", f"{keyed_url}/translate", b"[" * 100_000, headers={"Content-Type": "application/json"}
        )
        libre = call(
            "POST",
            f"{keyed_url}/translate",
            b'{"q": "Hi", "source": "en", "target": "de", "api_key": ' + surrogate + b"}",
            headers={"Content-Type": "application/json"},
        )
        deepl = call(
            "POST",
            f"{keyed_url}/v2/translate",
            b'{"text": ["Hi"], "target_lang": "DE", "auth_key": ' + surrogate + b"}",
            headers={"Content-Type": "application/json"},
        )
        document = call(
            "POST",
            f"{keyed_url}/v2/document/AbCdEfGhIjKlMnOpQrStUv",
            {"document_key": "clé"},
            headers={"Authorization": f"DeepL-Auth-Key {KEY}"},
        )
    assert (nested.status, nested.json()) == (400, {"error": "Invalid JSON format: nested too deeply"})
    assert libre.status == 403 and deepl.status == 403
    assert document.status == 404 and "Document not found" in document.json()["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_client_gone_mid_body_leaves_no_traceback(keyed_url: str, caplog: pytest.LogCaptureFixture) -> None:
    head = (
        f"POST /translate HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {KEY}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    ).encode()
    with caplog.at_level(logging.DEBUG):
        with socket.create_connection(("127.0.0.1", port_of(keyed_url))) as conn:
            conn.sendall(head + b'{"q": "' + b"a" * 1000)
            time.sleep(0.2)  # the server is reading the body when the client goes
        logged(caplog, "POST /translate 499")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info], caplog.text


# -- 8: Host headers -------------------------------------------------------------------------------------


def test_foreign_host_names_are_refused_and_loopback_ones_answered(keyed_url: str) -> None:
    port = port_of(keyed_url)
    for host in ("evil.com", f"evil.com:{port}", "127.0.0.1.nip.io"):
        reply = call("GET", f"{keyed_url}/health", headers={"Host": host})
        assert reply.status == 403 and "host name" in reply.json()["error"], host
    assert call("GET", f"{keyed_url}/v2/languages", headers={"Host": "evil.com"}).status == 403
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}", "app.localhost"):
        assert call("GET", f"{keyed_url}/health", headers={"Host": host}).status == 200, host


def test_host_policy_names() -> None:
    loopback = HostPolicy("127.0.0.1", ["translate.lan"])
    assert (
        loopback.allows("translate.lan:5000") and loopback.allows("LOCALHOST.") and loopback.allows("[::1]")
    )
    assert not loopback.allows("192.168.1.20:5000") and not loopback.allows("evil.com")
    lan = HostPolicy("0.0.0.0")
    assert lan.allows("192.168.1.20:5000") and lan.allows("[fe80::1]:80") and not lan.allows("evil.com")
    assert HostPolicy("127.0.0.1", ["*"]).allows("anything.example")


# -- 2: slow clients -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def impatient_url() -> Iterator[str]:
    with running_server(Unreachable(), ServerSettings(timeout=0.5)) as (url, _):
        yield url


def test_a_request_head_sent_too_slowly_is_cut_off(impatient_url: str) -> None:
    with socket.create_connection(("127.0.0.1", port_of(impatient_url)), timeout=10) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: loc")
        started = time.monotonic()
        assert conn.recv(1024) == b""  # closed by the server (before: open until this 10 s timeout)
        assert time.monotonic() - started < 9


def test_a_body_sent_too_slowly_gets_408(impatient_url: str) -> None:
    head = b"POST /translate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"
    answer = raw_request(impatient_url, head, b'{"q": "Good ', wait=10)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"did not arrive within 0.5 s" in answer
    assert call("GET", f"{impatient_url}/health").status == 200


def test_accept_errors_are_logged_once_not_per_attempt() -> None:
    quiet = QuietNoise(every=3600)
    logger = logging.getLogger("tg-edge-test-accept")
    logger.addFilter(quiet)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        for _ in range(1000):
            try:
                raise OSError(24, "Too many open files")
            except OSError:
                logger.error("socket.accept() out of system resource", exc_info=True)
    finally:
        logger.removeHandler(handler)
    assert len(records) == 1 and records[0].exc_info is None
    assert "Too many open files" in records[0].getMessage()


# -- 6, 7: translated files on disk ----------------------------------------------------------------------


def test_stored_files_survive_a_restart_for_their_uploader_only(tmp_path: Path) -> None:
    alice, bob = key_digest("alice"), key_digest("bob")
    token = FileStore(tmp_path).put(StoredFile("a.txt", b"Hallo", "text/plain", 5), alice)
    restarted = FileStore(tmp_path)
    stored = restarted.get(token, alice)
    assert stored == StoredFile("a.txt", b"Hallo", "text/plain", 5)
    assert restarted.get(token, bob) is None and restarted.get(token, None) is None
    assert restarted.get("../secret", alice) is None and restarted.get("é" * 22, alice) is None
    open_token = restarted.put(
        StoredFile("b.txt", b"x", "text/plain"), None
    )  # keys off: anyone with the token
    assert restarted.get(open_token, None) is not None
    assert not [p for p in tmp_path.iterdir() if "alice" in p.read_bytes().decode("latin-1")]


def test_a_full_store_refuses_new_files_instead_of_evicting(tmp_path: Path) -> None:
    now = [1000.0]
    store = FileStore(tmp_path, max_bytes=100, max_bytes_per_key=60, clock=lambda: now[0])
    alice, bob, carol = key_digest("alice"), key_digest("bob"), key_digest("carol")
    first = store.put(StoredFile("a.txt", b"a" * 50, "text/plain"), alice)
    with pytest.raises(RequestError) as per_key:
        store.put(StoredFile("a2.txt", b"a" * 20, "text/plain"), alice)
    assert per_key.value.status == 429
    store.put(StoredFile("b.txt", b"b" * 50, "text/plain"), bob)
    with pytest.raises(RequestError) as overall:
        store.check_room(carol)  # before any work is done
    assert overall.value.status == 503
    assert store.get(first, alice) is not None  # nothing was evicted
    now[0] += store.keep_seconds + 1
    assert store.get(first, alice) is None  # expired after its time
    assert store.put(StoredFile("c.txt", b"c" * 50, "text/plain"), carol)
    assert len(list(tmp_path.glob("*.data"))) == 1


# -- 9: /docs offline ------------------------------------------------------------------------------------


def test_docs_load_nothing_from_other_hosts(keyed_url: str) -> None:
    page = call("GET", f"{keyed_url}/docs")
    assert page.status == 200
    html = page.body.decode()
    assert "http://" not in html and "https://" not in html
    pytest.importorskip("swagger_ui_bundle")
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        assert asset in html and call("GET", f"{keyed_url}{asset}").status == 200
    assert json.loads(call("GET", f"{keyed_url}/openapi.json").body)["paths"]
