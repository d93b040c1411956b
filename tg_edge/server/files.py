"""Translated files kept in memory until their client downloads them (bounded in count, bytes and age)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from .settings import MIB


@dataclass(frozen=True)
class StoredFile:
    """One translated file: its name, content and media type."""

    filename: str
    data: bytes
    media_type: str


class FileStore:
    """Translated files under unguessable tokens; the oldest go first when a limit is reached."""

    max_files = 64
    max_bytes = 256 * MIB
    keep_seconds = 3600

    def __init__(self) -> None:
        self._files: OrderedDict[str, tuple[StoredFile, float]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, stored: StoredFile) -> str:
        """Keep ``stored``; the token to fetch it with."""
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._files[token] = (stored, time.monotonic())
            self._evict()
        return token

    def get(self, token: str) -> StoredFile | None:
        """The file stored under ``token``, or None when there is none (any more)."""
        with self._lock:
            self._evict()
            entry = self._files.get(token)
        return None if entry is None else entry[0]

    def _evict(self) -> None:
        now = time.monotonic()
        while self._files and (
            len(self._files) > self.max_files
            or sum(len(stored.data) for stored, _ in self._files.values()) > self.max_bytes
            or now - next(iter(self._files.values()))[1] > self.keep_seconds
        ):
            self._files.popitem(last=False)
