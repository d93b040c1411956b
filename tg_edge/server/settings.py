"""A server's limits and access control, and its API keys (read from a file, checked in constant time)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

MIB = 1 << 20


@dataclass(frozen=True)
class ServerSettings:
    """Limits and access control of one server."""

    char_limit: int = 10_000
    """Most characters of text one request may ask to translate (all ``q`` items together); -1: no limit."""
    batch_limit: int = 128
    """Most ``q`` items in one request; -1: no limit."""
    segment_limit: int = 2_000
    """Most segments one document request may hold (counted while the file is read); -1: no limit."""
    max_unpacked_bytes: int = 64 * MIB
    """Most bytes an uploaded archive (DOCX) may unpack to, declared and actually inflated; more gets 413."""
    max_queue: int = 64
    """Requests admitted at once, translating or waiting for a worker; one more gets 429."""
    workers: int = 8
    """Requests handed to the translator at once (each is one ``translate_many`` call)."""
    timeout: float = 120.0
    """Seconds a request may wait and translate before it fails; its queued work is then dropped."""
    max_body_bytes: int = 16 * MIB
    """Largest request body (files included); a larger one gets 413."""
    api_key_digests: frozenset[bytes] = frozenset()
    """sha256 digests of the accepted API keys; empty: no key needed."""
    cors_origins: tuple[str, ...] = ()
    """Web origins allowed beyond the default loopback and app/extension ones (see :mod:`.cors`);
    ``"*"``: every origin (LibreTranslate's default)."""
    host: str = "127.0.0.1"
    """The address the server listens on: answered as a ``Host`` and used in the URLs it hands out."""
    allowed_hosts: tuple[str, ...] = ()
    """Host names answered beyond the loopback ones and ``host`` (see :mod:`.hosts`); ``"*"``: every name."""
    data_dir: Path | None = None
    """Where translated files wait for download (kept across restarts); None: a temporary directory
    removed when the server closes."""
    files_max_bytes: int = 1024 * MIB
    """Most bytes of translated files kept at once; an upload beyond it gets 503 until old ones expire."""
    files_max_bytes_per_key: int = 256 * MIB
    """Most bytes of translated files kept for one API key; beyond it that key's uploads get 429."""
    glossary_dir: Path | None = None
    """Where DeepL-API glossaries are kept [default: ``TG_EDGE_HOME/glossaries``]."""
    glossary_limit: int = 100
    """Most glossaries kept per API key (or for everyone, without keys)."""
    glossary_entry_limit: int = 10_000
    """Most entries one glossary (kept, or inline on ``/translate``) may hold."""

    def __post_init__(self) -> None:
        if self.workers < 1 or self.max_queue < 1:
            raise ValueError("workers and max_queue must be at least 1")
        if self.timeout <= 0 or self.max_body_bytes < 1 or self.max_unpacked_bytes < 1:
            raise ValueError("timeout, max_body_bytes and max_unpacked_bytes must be positive")

    @property
    def keys_required(self) -> bool:
        return bool(self.api_key_digests)

    def accepts_key(self, key: str) -> bool:
        """Whether ``key`` is one of the accepted keys, compared in constant time; keys are never logged."""
        try:
            digest = key_digest(key)
        except UnicodeEncodeError:  # a lone surrogate (JSON's "\ud800"): no key in a UTF-8 file has one
            return False
        matched = False
        for accepted in self.api_key_digests:  # no early exit: the time does not tell which key came close
            matched |= hmac.compare_digest(digest, accepted)
        return matched


def load_api_keys(path: Path) -> frozenset[bytes]:
    """The keys in ``path`` (one a line; blank lines and ``#`` comments ignored), as sha256 digests."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read the API key file {path}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise InputError(f"the API key file {path} holds no keys (one key a line)")
    return frozenset(key_digest(key) for key in keys)


def key_digest(key: str) -> bytes:
    """The sha256 digest a key is stored and compared as."""
    return hashlib.sha256(key.encode("utf-8")).digest()
