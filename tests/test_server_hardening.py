"""Server hardening on the real demo model: a client that leaves frees its worker, SIGTERM with requests in
flight ends the process within seconds, a ZIP bomb costs the server no memory, and mutated files of every
format get a clean answer from the server and from ``tg-edge translate``."""

from __future__ import annotations

import http.client
import io
import json
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tg_edge.errors import Cancelled
from tg_edge.server import ServerSettings

from .conftest import run_cli
from .hostile import inflating_docx, minimal_docx
from .servers import call, multipart, running_server
from .test_server import LONG_TEXT, wait_for

pytestmark = pytest.mark.integration


class Recording:
    """The real translator; records when ``translate_many`` starts and how each call ended."""

    def __init__(self, translator: object) -> None:
        self._translator = translator
        self.started = threading.Event()
        self.outcomes: list[str] = []

    def translate_many(self, texts: list[str], **kwargs: object) -> list:
        self.started.set()
        try:
            results = self._translator.translate_many(texts, **kwargs)  # type: ignore[attr-defined]
        except Cancelled as exc:
            self.outcomes.append(f"cancelled: {exc}")
            raise
        self.outcomes.append("finished")
        return results

    def __getattr__(self, name: str) -> object:
        return getattr(self._translator, name)


def test_a_client_that_disconnects_mid_translation_frees_its_worker(translator: object) -> None:
    recording = Recording(translator)
    with running_server(recording, ServerSettings(workers=1, max_queue=4)) as (url, admission):
        port = int(url.rsplit(":", 1)[1])
        body = json.dumps({"q": [LONG_TEXT] * 4, "source": "en", "target": "de"}).encode()
        gone = socket.create_connection(("127.0.0.1", port))
        gone.sendall(
            b"POST /translate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        assert recording.started.wait(60)  # it is translating
        gone.close()
        wait_for(lambda: admission.busy == 0 and admission.admitted == 0)
        # It stopped where it was (at the next decoding step) instead of translating 40 sentences to the end.
        assert recording.outcomes == ["cancelled: the client went away"]
        reply = call("POST", f"{url}/translate", {"q": "Good night.", "source": "en", "target": "fr"})
        assert reply.status == 200 and reply.json()["translatedText"].strip()
        assert recording.outcomes[-1] == "finished"


@contextmanager
def serve_process(demo_model: Path, *args: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``tg-edge serve`` as a real process on a free port; yields it and its URL, kills it if still running."""
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
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = proc.stderr.readline().decode()  # type: ignore[union-attr]
        match = re.search(r"on (http://127\.0\.0\.1:\d+) ", line)
        assert match, line
        yield proc, match.group(1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
def test_an_inflating_docx_gets_413_at_once_and_costs_the_server_no_memory(demo_model: Path) -> None:
    bomb = inflating_docx()
    body, headers = multipart({"source": "en", "target": "de"}, "file", "bomb.docx", bomb)
    with serve_process(demo_model) as (proc, url):
        small = minimal_docx(["Hello there."] * 3000)  # over the char limit: the same code paths, warmed up
        warm_body, warm_headers = multipart({"source": "en", "target": "de"}, "file", "warm.docx", small)
        assert call("POST", f"{url}/translate_file", warm_body, headers=warm_headers).status == 400
        before = rss_bytes(proc.pid)
        started = time.monotonic()
        reply = call("POST", f"{url}/translate_file", body, headers=headers, timeout=30)
        took = time.monotonic() - started
        grown = rss_bytes(proc.pid) - before
        assert reply.status == 413 and "ZIP bomb" in reply.json()["error"]
        assert took < 2, took
        assert grown < 100 * (1 << 20), grown
        print(
            f"\nbomb: {len(bomb)} bytes -> 413 in {took:.3f} s, server RSS grew {grown / (1 << 20):.1f} MiB"
        )


def test_sigterm_with_eight_requests_in_flight_ends_the_process_within_seconds(demo_model: Path) -> None:
    with serve_process(demo_model, "--workers", "4", "--max-queue", "16") as (proc, url):
        replies: list[object] = [None] * 8

        def client(n: int) -> None:
            try:
                replies[n] = call(
                    "POST",
                    f"{url}/translate",
                    {"q": [LONG_TEXT] * 2, "source": "en", "target": "de"},
                    timeout=30,
                )
            except (OSError, http.client.HTTPException) as exc:  # a closed connection is an answer too
                replies[n] = exc

        clients = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(8)]
        for thread in clients:
            thread.start()
        wait_for(lambda: call("GET", f"{url}/health").json()["requests"] == 8)  # 4 translating, 4 queued
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        assert proc.wait(timeout=5) == 0
        took = time.monotonic() - started
        for thread in clients:
            thread.join(timeout=10)
        assert not any(thread.is_alive() for thread in clients)  # nobody hangs
        statuses = [getattr(reply, "status", type(reply).__name__) for reply in replies]
        bodies = [getattr(reply, "body", b"")[:200] for reply in replies]
        assert all(status in (200, 503) or isinstance(status, str) for status in statuses), (statuses, bodies)
        rest = proc.stderr.read().decode()  # type: ignore[union-attr]
        assert "Traceback" not in rest and "tg-edge serve stopped" in rest
        print(f"\nSIGTERM with 8 requests in flight: exited in {took:.2f} s; answers {statuses}")


# -- fuzzing ----------------------------------------------------------------------------------------------

SEEDS: dict[str, bytes] = {
    "txt": b"Hi there.\n\n  Bye.\n",
    "md": b"# Hi\n\n- a *b* [c](http://d)\n\n```\ncode\n```\n",
    "html": b'<p title="T">Hi <b>you</b><br><img alt="A"></p><script>x<y</script>',
    "srt": b"1\n00:00:01,000 --> 00:00:02,000\n<i>Hi.</i>\n\n2\n00:00:03,000 --> 00:00:04,000\n- Yes.\n- No.\n",
    "vtt": b"WEBVTT\n\nNOTE x\n\n00:01.000 --> 00:02.000 align:start\nHi &amp; bye.\n",
    "jsonl": b'{"text": "Hi.", "n": [1, {"a": null}]}\n{"text": "Bye."}\n',
    "docx": minimal_docx(["Hi.", "Bye."]),
}
TOKENS = [
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"-->",
    b"\n",
    b"\r",
    b"{",
    b"}",
    b"[",
    b"]",
    b'"',
    b"\\",
    b"\x00",
    b"\xff",
    b"\xef\xbb\xbf",
    b"<!--",
    b"</",
    b"`",
    b"#",
    b"*",
    b"\t",
    b"9" * 12,
    b"\xc3",
    b"\xc3\xa9",
    b"]]>",
    b"<w:p>",
    b"</w:t>",
    b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>",
    b"&e;",
]
MUTATIONS = 60  # made per format; the ones that read fine and hold text mostly stay out (see selection)
REFUSED = 25  # per format, at most this many that fail to read or hold no text (no model needed)
TRANSLATED = 2  # per format, inputs that read fine and go to the model (the seed itself if no mutation does)
SECONDS = 10.0  # for each path, all formats together


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randint(0, len(out))
        operation = rng.randrange(5)
        if operation == 0 and out:
            out[min(pos, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif operation == 1:
            out[pos:pos] = rng.choice(TOKENS)
        elif operation == 2:
            del out[pos : pos + rng.randint(1, 8)]
        elif operation == 3 and rng.random() < 0.3:
            del out[pos:]
        else:
            start = rng.randint(0, len(out))
            out[pos:pos] = out[start : start + rng.randint(1, 16)]
    return bytes(out)


def mutations(fmt: str, seed: int) -> Iterator[bytes]:
    """Mutated inputs of ``fmt``; for DOCX half mutate the document XML inside an intact ZIP."""
    rng = random.Random(f"{fmt}-{seed}")
    while True:
        if fmt == "docx" and rng.random() < 0.5:
            with zipfile.ZipFile(io.BytesIO(SEEDS["docx"])) as archive:
                xml = archive.read("word/document.xml")
            yield minimal_docx([], xml=mutate(xml, rng))
        else:
            yield mutate(SEEDS[fmt], rng)


def selection(fmt: str) -> list[tuple[bytes, str]]:
    """Mutations of ``fmt`` and what reading them gives: up to :data:`REFUSED` that fail to read ("bad") or
    hold no text ("empty"), then up to :data:`TRANSLATED` that hold text ("text"), so few reach the model."""
    from tg_edge.errors import InputError
    from tg_edge.fileio import decode_utf8
    from tg_edge.formats import BINARY, read

    refused: list[tuple[bytes, str]] = []
    texts: list[tuple[bytes, str]] = []
    stream = mutations(fmt, seed=17)
    for _ in range(MUTATIONS):
        data = next(stream)
        try:
            content = data if fmt in BINARY else decode_utf8(data.removeprefix(b"\xef\xbb\xbf"), "f")
            document = read(content, f"f.{fmt}", fmt, **({"fields": "text"} if fmt == "jsonl" else {}))
        except InputError:
            refused.append((data, "bad"))
            continue
        (refused if not document.segments else texts).append(
            (data, "empty" if not document.segments else "text")
        )
    return refused[:REFUSED] + (texts or [(SEEDS[fmt], "text")])[:TRANSLATED]  # the model's share last


def fuzz(path: str, inputs: dict[str, list[tuple[bytes, str]]], check: object) -> dict[str, int]:
    """``check(fmt, data)`` on the inputs within the time bound: first every format's refused ones in turn,
    then the ones that reach the model; how many were tried per format."""
    tried = dict.fromkeys(inputs, 0)
    deadline = time.monotonic() + SECONDS
    for model in (False, True):
        share = {
            fmt: [data for data, kind in chosen if (kind == "text") == model]
            for fmt, chosen in inputs.items()
        }
        for n in range(max(len(items) for items in share.values())):
            for fmt, items in share.items():
                if n < len(items) and time.monotonic() < deadline:
                    check(fmt, items[n])  # type: ignore[operator]
                    tried[fmt] += 1
    kinds = {
        fmt: {kind: [k for _, k in chosen].count(kind) for kind in ("bad", "empty", "text")}
        for fmt, chosen in inputs.items()
    }
    print(f"\nfuzz through {path}: tried {tried} of {kinds}")
    return tried


def test_mutated_files_of_every_format_get_a_clean_answer(translator: object, tmp_path: Path) -> None:
    inputs = {fmt: selection(fmt) for fmt in SEEDS}
    statuses: dict[int, int] = {}

    with running_server(translator, ServerSettings(char_limit=60, workers=2)) as (url, _):

        def through_server(fmt: str, data: bytes) -> None:
            body, headers = multipart(
                {"source": "en", "target": "de", "fields": "text"}, "file", f"f.{fmt}", data
            )
            reply = call("POST", f"{url}/translate_file", body, headers=headers, timeout=120)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
            assert reply.status in (200, 400, 413), (fmt, data, reply.status, reply.body)
            if reply.status != 200:
                error = reply.json()["error"]
                assert error and "internal error" not in error and "Traceback" not in error, (
                    fmt,
                    data,
                    error,
                )

        served = fuzz("POST /translate_file", inputs, through_server)

    codes: dict[int, int] = {}

    def through_cli(fmt: str, data: bytes) -> None:
        source, out = tmp_path / f"in.{fmt}", tmp_path / f"out.{fmt}"
        source.write_bytes(data)
        fields = ["--fields", "text"] if fmt == "jsonl" else []
        run = run_cli(
            "translate",
            "-s",
            "en",
            "-t",
            "de",
            "-i",
            str(source),
            "-o",
            str(out),
            *fields,
            translator=translator,
        )  # a traceback raises here
        codes[run.returncode] = codes.get(run.returncode, 0) + 1
        stderr = run.stderr.decode("utf-8", "replace")
        assert run.returncode in (0, 1), (fmt, data, run.returncode, stderr)
        assert "Traceback" not in stderr
        if run.returncode == 1:
            assert re.search(r"^Error: \S", stderr, re.MULTILINE), (fmt, data, stderr)

    translated = fuzz("tg-edge translate", inputs, through_cli)
    print(f"server statuses {statuses}, CLI exit codes {codes}")
    assert min(served.values()) >= 1 and min(translated.values()) >= 1  # every format was tried
