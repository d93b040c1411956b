"""Uploaded files: translated (:func:`translate_upload`, for every API) and kept in memory until their
client downloads them (bounded in count, bytes and age)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from .. import formats
from ..languages import Language
from .admission import current_cancellation
from .parsing import check_limits, document_limits, upload_text
from .service import Service
from .settings import MIB

if TYPE_CHECKING:
    from ..glossary import Glossary


@dataclass(frozen=True)
class StoredFile:
    """One translated file: its name, content and media type."""

    filename: str
    data: bytes
    media_type: str
    characters: int = 0
    """Characters of source text translated into it."""


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


def file_format(filename: str) -> str | None:
    """The tg-edge format of an uploaded file by its extension, or None when tg-edge cannot read it."""
    return (
        formats.format_for(filename)
        if PurePath(filename).suffix.lower() in formats.known_suffixes()
        else None
    )


def document_extensions() -> list[str]:
    """The file extensions tg-edge reads, sorted."""
    return sorted(formats.known_suffixes())


def translate_upload(
    service: Service,
    data: bytes,
    filename: str,
    file_format: str,
    *,
    source: Language | None,
    target: Language,
    options: dict[str, Any],
    guess: bool = False,
    limit_status: int = 400,
    terms: Glossary | None = None,
) -> tuple[bytes, int]:
    """An uploaded file translated into the same format, and its characters of source text (blocks: run it on
    a worker). ``source`` None: detected (``guess``: the best guess, never a refusal)."""
    content = data if file_format in formats.BINARY else upload_text(data, filename)
    # Read within the limits: a file over them stops being read where it passes one (400 or 413).
    limits = document_limits(service.settings, current_cancellation())
    document = formats.read(content, filename, file_format, limits=limits, **options)
    texts = [segment.text for segment in document.segments]
    check_limits(texts, service.settings, status=limit_status)
    if source is None and guess and texts:
        source = service.translation.guess_source(texts).language
    rendered = service.translation.translate_documents([document], source=source, target=target, terms=terms)[
        0
    ][0]
    return rendered if isinstance(rendered, bytes) else rendered.encode("utf-8"), sum(len(t) for t in texts)
