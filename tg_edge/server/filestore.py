"""Translated files awaiting download, on disk under the server's data directory.

Each file is kept for :attr:`FileStore.keep_seconds` from its upload, across restarts, and never
evicted early: when a key's share (``max_bytes_per_key``) or the whole store (``max_bytes``,
``max_files``) is full, a new upload is refused (429 for the key, 503 for the server) until old
files expire. A file is bound to the key that uploaded it (an HMAC of the key's digest under the
store's own secret, so nothing on disk gives a key away); when the server needs no key, anyone
holding its token may fetch it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import RequestError
from .settings import MIB

_TOKEN = re.compile(r"[A-Za-z0-9_-]{22}")


@dataclass(frozen=True)
class StoredFile:
    """One translated file: its name, content and media type."""

    filename: str
    data: bytes
    media_type: str
    characters: int = 0
    """Characters of source text translated into it."""


@dataclass(frozen=True)
class _Entry:
    size: int
    owner: str
    created: float


class FileStore:
    """Translated files under unguessable tokens in ``root`` (created when first needed)."""

    keep_seconds = 3600

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = 1024 * MIB,
        max_bytes_per_key: int = 256 * MIB,
        max_files: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.max_bytes_per_key = max_bytes_per_key
        self.max_files = max_files
        self._clock = clock
        self._lock = threading.Lock()
        self.root.mkdir(parents=True, exist_ok=True)
        self.secret = self._load_secret()
        self._entries = self._load_entries()

    def put(self, stored: StoredFile, owner: bytes | None) -> str:
        """Keep ``stored`` for the key whose digest is ``owner`` (None: keys are off); the token to fetch it
        with. Blocks on disk writes: call it from a worker thread."""
        tag = self._owner_tag(owner)
        size = len(stored.data)
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._check_room(size, tag, owner)
            entry = _Entry(size, tag, self._clock())
            self._entries[token] = entry  # holds the space while the files are written
        try:
            meta = {
                "filename": stored.filename,
                "media_type": stored.media_type,
                "characters": stored.characters,
                "owner": tag,
                "created": entry.created,
            }
            _write(self.root / f"{token}.data", stored.data)
            _write(self.root / f"{token}.json", json.dumps(meta).encode())
        except BaseException:
            with self._lock:
                self._entries.pop(token, None)
            self._remove(token)
            raise
        return token

    def check_room(self, owner: bytes | None) -> None:
        """Refuse (429 or 503) at once when a new file of this key could not be kept: before its work."""
        with self._lock:
            self._check_room(1, self._owner_tag(owner), owner)

    def _check_room(self, size: int, tag: str, owner: bytes | None) -> None:
        """Under the lock: expire old files, then refuse when ``size`` more bytes do not fit."""
        self._expire()
        total = sum(entry.size for entry in self._entries.values())
        if len(self._entries) >= self.max_files or total + size > self.max_bytes:
            raise RequestError(
                503,
                "Service unavailable: the server's space for translated files is full; files are kept "
                f"for {self.keep_seconds // 60} minutes, retry later",
            )
        if owner is not None:
            mine = sum(entry.size for entry in self._entries.values() if entry.owner == tag)
            if mine + size > self.max_bytes_per_key:
                raise RequestError(
                    429,
                    f"Slowdown: this key's translated files fill its {self.max_bytes_per_key // MIB} MiB; "
                    f"they are kept for {self.keep_seconds // 60} minutes, retry later",
                )

    def get(self, token: str, owner: bytes | None) -> StoredFile | None:
        """The file stored under ``token`` for the key whose digest is ``owner``, or None when there is none
        (any more, or for another key). Blocks on disk reads: call it from a worker thread."""
        if not _TOKEN.fullmatch(token):
            return None
        with self._lock:
            self._expire()
            entry = self._entries.get(token)
        if entry is None or not hmac.compare_digest(entry.owner, self._owner_tag(owner)):
            return None
        try:
            meta = json.loads((self.root / f"{token}.json").read_bytes())
            data = (self.root / f"{token}.data").read_bytes()
        except (OSError, ValueError):
            return None
        return StoredFile(meta["filename"], data, meta["media_type"], meta["characters"])

    def _owner_tag(self, owner: bytes | None) -> str:
        return "" if owner is None else hmac.new(self.secret, owner, hashlib.sha256).hexdigest()

    def _expire(self) -> None:
        """Forget and delete the files past their time (under the lock)."""
        oldest = self._clock() - self.keep_seconds
        for token in [token for token, entry in self._entries.items() if entry.created < oldest]:
            del self._entries[token]
            self._remove(token)

    def _remove(self, token: str) -> None:
        for suffix in (".json", ".data"):
            (self.root / f"{token}{suffix}").unlink(missing_ok=True)

    def _load_secret(self) -> bytes:
        path = self.root / "secret"
        try:
            secret = path.read_bytes()
            if len(secret) == 32:
                return secret
        except FileNotFoundError:
            pass
        secret = secrets.token_bytes(32)
        _write(path, secret)
        return secret

    def _load_entries(self) -> dict[str, _Entry]:
        """The files a previous run left; half-written and unreadable ones are deleted."""
        entries: dict[str, _Entry] = {}
        for path in self.root.iterdir():
            token, suffix = path.stem, path.suffix
            if suffix == ".tmp":
                path.unlink(missing_ok=True)
            if suffix != ".json" or not _TOKEN.fullmatch(token):
                continue
            try:
                meta = json.loads(path.read_bytes())
                size = (self.root / f"{token}.data").stat().st_size
                entries[token] = _Entry(size, str(meta["owner"]), float(meta["created"]))
            except (OSError, ValueError, KeyError, TypeError):
                self._remove(token)
        for path in self.root.glob("*.data"):
            if path.stem not in entries:
                path.unlink(missing_ok=True)
        return entries


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (owner-only permissions)."""
    partial = path.with_name(path.name + ".tmp")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(partial, path)
