"""Helpers for the server tests: a real uvicorn server on a loopback port, and a small HTTP client."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tg_edge.server import ServerSettings, create_app, listen
from tg_edge.server.admission import Admission
from tg_edge.server.app import base_url, make_server
from tg_edge.server.settings import key_digest


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class CountingTranslator:
    """The real translator, recording which texts each ``translate_many`` call got (to see dropped work)."""

    def __init__(self, translator: object) -> None:
        self._translator = translator
        self.texts: list[list[str]] = []

    def translate_many(self, texts: list[str], **kwargs: str) -> list:
        self.texts.append(list(texts))
        return self._translator.translate_many(texts, **kwargs)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._translator, name)


def glossary_settings(root: Path, keys: Iterable[str], **limits: int) -> ServerSettings:
    """A server that requires one of ``keys`` and keeps its glossaries under ``root``, within ``limits``."""
    return ServerSettings(api_key_digests=frozenset(map(key_digest, keys)), glossary_dir=root, **limits)


@contextmanager
def running_server(
    translator: object, settings: ServerSettings | None = None
) -> Iterator[tuple[str, Admission]]:
    """Serve ``translator`` from a thread of this process on a free loopback port; yields the URL and admission."""
    app = create_app(translator, settings)  # type: ignore[arg-type]
    sock = listen("127.0.0.1", 0)
    server = make_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield base_url(sock), app.state.service.admission
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
        app.state.service.close()


def call(
    method: str,
    url: str,
    body: bytes | dict | None = None,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 120,
) -> Reply:
    """One HTTP request; a dict body is sent as JSON. Error statuses come back as replies, not exceptions."""
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


def multipart(
    fields: dict[str, str], file_field: str, filename: str, data: bytes, content_type: str = "text/plain"
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with some fields and one file, and its Content-Type header."""
    boundary = "tg-edge-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
