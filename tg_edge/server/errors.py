"""The errors a request is answered with, and each API's shape for an error body.

Shared code (parsing, admission, middleware) raises :class:`RequestError` with a status and a
message; the API a request came to decides the body: LibreTranslate answers ``{"error": ...}``,
another API its own shape, registered for its path prefix in :class:`ErrorShapes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from starlette.responses import JSONResponse

ErrorBody = Callable[[str], Any]
"""Turns an error message into the JSON body one API answers errors with."""


class RequestError(Exception):
    """A request refused or failed with this HTTP status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ClientGone(Exception):
    """The client disconnected while its request waited; nobody reads the answer."""


class ErrorShapes:
    """Which error body each API answers with, chosen by the longest matching path prefix."""

    def __init__(self) -> None:
        self._shapes: list[tuple[str, ErrorBody]] = []

    def add(self, prefix: str, body: ErrorBody) -> None:
        """Answer errors under ``prefix`` (``/`` for all not claimed by a longer one) with ``body(message)``."""
        self._shapes.append((prefix, body))
        self._shapes.sort(key=lambda shape: len(shape[0]), reverse=True)

    def response(
        self, path: str, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> JSONResponse:
        body = next((shape for prefix, shape in self._shapes if path.startswith(prefix)), _detail)
        return JSONResponse(body(message), status_code=status, headers=headers)


def _detail(message: str) -> dict[str, str]:
    return {"detail": message}  # FastAPI's own shape, for a path no API claims
