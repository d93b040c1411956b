"""A small Hugging Face Hub on loopback for the pull tests: huggingface-hub's real download code talks to it.

It answers the requests ``HfApi.model_info`` and ``hf_hub_download`` make, in the hub's URL layout
(point ``HF_ENDPOINT`` at :attr:`LocalHub.url`):

- ``GET /api/models/{repo}[/revision/{rev}]``: the repository's commit and files, with LFS sha256s;
- ``HEAD|GET /{repo}/resolve/{rev}/{file}``: the file, with ``ETag``, ``X-Repo-Commit``,
  ``X-Linked-Etag``/``X-Linked-Size`` for LFS files, and ``Range`` requests (206) for resumes.

``drop_after`` makes the first GET of a file stop after that many bytes, as a broken connection
would; ``corrupt`` serves other bytes than the metadata describes.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class HubFile:
    data: bytes | None = None
    path: Path | None = None
    lfs: bool = True
    sha256: str = ""
    git_oid: str = ""
    size: int = 0

    def __post_init__(self) -> None:
        digest, blob = hashlib.sha256(), hashlib.sha1()
        self.size = len(self.data) if self.data is not None else self.path.stat().st_size  # type: ignore[union-attr]
        blob.update(f"blob {self.size}\0".encode())
        for chunk in self.chunks(0, self.size):
            digest.update(chunk)
            blob.update(chunk)
        self.sha256 = self.sha256 or digest.hexdigest()
        self.git_oid = blob.hexdigest()

    def chunks(self, start: int, end: int, size: int = 1 << 20):
        if self.data is not None:
            for offset in range(start, end, size):
                yield self.data[offset : min(end, offset + size)]
            return
        with self.path.open("rb") as handle:  # type: ignore[union-attr]
            handle.seek(start)
            remaining = end - start
            while remaining > 0:
                block = handle.read(min(size, remaining))
                if not block:
                    return
                remaining -= len(block)
                yield block


@dataclass
class LocalHub:
    repos: dict[str, dict[str, HubFile]] = field(default_factory=dict)
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    drop_after: int | None = None
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    url: str = ""
    _dropped: set[str] = field(default_factory=set)

    def start(self) -> LocalHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:  # keep the test output quiet
                pass

            def do_GET(self) -> None:
                hub.handle(self, head=False)

            def do_HEAD(self) -> None:
                hub.handle(self, head=True)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: BaseHTTPRequestHandler, *, head: bool) -> None:
        path = request.path.split("?")[0]
        self.requests.append((request.command, path, request.headers.get("Range")))
        api = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
        if api:
            self._model_info(request, api.group(1))
            return
        resolve = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if resolve:
            self._resolve(request, resolve.group(1), resolve.group(3), head=head)
            return
        self._error(request, 404, "RepoNotFound", "not found")

    def _model_info(self, request: BaseHTTPRequestHandler, repo: str) -> None:
        files = self.repos.get(repo)
        if files is None:
            self._error(request, 401, "RepoNotFound", "Repository not found")
            return
        siblings = [
            {
                "rfilename": name,
                "size": f.size,
                "blobId": f.git_oid,
                **({"lfs": {"size": f.size, "sha256": f.sha256, "pointerSize": 134}} if f.lfs else {}),
            }
            for name, f in files.items()
        ]
        body = json.dumps(
            {"id": repo, "modelId": repo, "sha": self.commit, "private": False, "siblings": siblings}
        ).encode()
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _resolve(self, request: BaseHTTPRequestHandler, repo: str, name: str, *, head: bool) -> None:
        files = self.repos.get(repo)
        if files is None:
            self._error(request, 401, "RepoNotFound", "Repository not found")
            return
        if name not in files:
            self._error(request, 404, "EntryNotFound", "Entry not found")
            return
        hub_file = files[name]
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range") or "")
        if match and not head:
            start = int(match.group(1))
        request.send_response(206 if start else 200)
        request.send_header("X-Repo-Commit", self.commit)
        request.send_header("Accept-Ranges", "bytes")
        etag = hub_file.sha256 if hub_file.lfs else hub_file.git_oid
        request.send_header("ETag", f'"{etag}"')
        if hub_file.lfs:
            request.send_header("X-Linked-Etag", f'"{hub_file.sha256}"')
            request.send_header("X-Linked-Size", str(hub_file.size))
        if start:
            request.send_header("Content-Range", f"bytes {start}-{hub_file.size - 1}/{hub_file.size}")
        request.send_header("Content-Length", str(hub_file.size - start))
        request.end_headers()
        if head:
            return
        stop = hub_file.size
        if self.drop_after is not None and name not in self._dropped:
            self._dropped.add(name)
            stop = min(stop, self.drop_after)
        for chunk in hub_file.chunks(start, stop):
            request.wfile.write(chunk)
        if stop < hub_file.size:
            request.close_connection = True
            request.wfile.flush()
            request.connection.shutdown(2)  # the client sees the body end early, as on a broken link

    def _error(self, request: BaseHTTPRequestHandler, status: int, code: str, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        request.send_response(status)
        request.send_header("X-Error-Code", code)
        request.send_header("X-Error-Message", message)
        if code == "EntryNotFound":
            request.send_header("X-Repo-Commit", self.commit)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def tiny_gguf(file_type: int = 7, padding: int = 4096) -> bytes:
    """A GGUF file with a valid header (one metadata key: general.file_type, 7 = Q8_0) and no tensors.

    Enough for header readers and checksums; llama.cpp cannot run it.
    """
    key = b"general.file_type"
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", len(key)) + key
    header += struct.pack("<I", 4) + struct.pack("<I", file_type)  # type 4: uint32
    header += b"\0" * (-len(header) % 32)
    return header + bytes(range(256)) * (padding // 256)
