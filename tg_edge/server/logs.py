"""What the server writes to its logs: request labels that forge no line and leak no token or file name,
and a filter that turns the noise of clients and the OS (a client gone mid-body, a shutdown cutting a
half-sent body, ``accept()`` out of file descriptors) into one quiet line instead of a traceback each.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.requests import ClientDisconnect
from starlette.types import Scope

MAX_LOGGED_PATH = 200


def escaped(text: str, limit: int = MAX_LOGGED_PATH) -> str:
    """``text`` with backslashes, control characters and non-ASCII as Python escapes, cut at ``limit``
    characters: one line that cannot pass for another."""
    safe = text[:limit].encode("unicode_escape").decode("ascii")
    return safe + ("..." if len(text) > limit else "")


def route_label(scope: Scope) -> str:
    """The path a request is logged as: its route's template (``/download_file/{token}/{filename}``), never
    the token or file name in it; an unrouted path escaped."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    return template if isinstance(template, str) else escaped(scope.get("path", ""))


class QuietNoise(logging.Filter):
    """On uvicorn's and asyncio's loggers: tracebacks nobody can act on become one line, and the OS's
    ``accept()`` failures (out of file descriptors: thousands a second) one line every ``every`` seconds."""

    QUIET = (asyncio.CancelledError, ClientDisconnect, ConnectionError)

    def __init__(self, every: float = 10.0) -> None:
        super().__init__()
        self.every = every
        self._last_accept_error = float("-inf")
        self._suppressed = 0

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "socket.accept() out of system resource" in message:
            return self._accept_error(record)
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, self.QUIET):
            record.msg, record.args = "request ended early: %s", (_reason(error),)
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True

    def _accept_error(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self._last_accept_error < self.every:
            self._suppressed += 1
            return False
        self._last_accept_error = now
        error = record.exc_info[1] if record.exc_info else None
        record.msg = "cannot accept connections: %s (%d such errors not shown); idle clients are shed"
        record.args = (getattr(error, "strerror", None) or type(error).__name__, self._suppressed)
        record.exc_info, record.exc_text = None, None
        self._suppressed = 0
        return True


def _reason(error: BaseException) -> str:
    if isinstance(error, asyncio.CancelledError):
        return "the server stopped while the request was being read or answered"
    if isinstance(error, ClientDisconnect):
        return "the client went away while sending its body"
    return type(error).__name__


def install_filters() -> QuietNoise:
    """Put one :class:`QuietNoise` on uvicorn's and asyncio's loggers (once per process); returns it."""
    for name in ("uvicorn.error", "asyncio"):
        logger = logging.getLogger(name)
        existing = next((f for f in logger.filters if isinstance(f, QuietNoise)), None)
        if existing is not None:
            return existing
    quiet = QuietNoise()
    for name in ("uvicorn.error", "asyncio"):
        logging.getLogger(name).addFilter(quiet)
    return quiet
