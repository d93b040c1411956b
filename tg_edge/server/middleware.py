"""What wraps every request: the body limit, the access log, and the error handlers.

Errors are answered in the shape of the API the path belongs to (:class:`ErrorShapes`).
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ClientGone, ErrorShapes, RequestError
from .logs import escaped, route_label

log = logging.getLogger("tg_edge.server")


class _BodyTooLarge(Exception):
    pass


class BodyLimit:
    """413 for a body over the limit: at once from Content-Length, or as soon as more bytes arrive."""

    def __init__(self, app: ASGIApp, limit: int, errors: ErrorShapes) -> None:
        self.app = app
        self.limit = limit
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._too_large(scope)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await self._too_large(scope)(scope, receive, send)

    def _too_large(self, scope: Scope) -> Response:
        return self.errors.response(
            scope["path"],
            413,
            f"Request entity too large: the body exceeds {self.limit} bytes",
            headers={"Connection": "close"},
        )


class AccessLog:
    """One line per request on the ``tg_edge.server`` logger: method, route, status, time; never the query,
    the body, or the values in the path (a download token, a file name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            log.info(
                "%s %s %s %.3fs",
                escaped(scope["method"], 16),
                route_label(scope),
                status or "-",
                time.perf_counter() - started,
            )


def add_error_handlers(app: FastAPI, errors: ErrorShapes) -> None:
    """Answer every error, expected or not, in the shape of the API its path belongs to."""

    async def request_error(request: Request, exc: RequestError) -> Response:
        return errors.response(request.url.path, exc.status, exc.message)

    async def client_gone(request: Request, exc: Exception) -> Response:
        return Response(status_code=499)  # nginx's "client closed request"; nobody receives it

    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return errors.response(request.url.path, exc.status_code, str(exc.detail), headers=exc.headers)

    async def unexpected_error(request: Request, exc: Exception) -> Response:
        log.error("unexpected error serving %s %s", request.method, route_label(request.scope), exc_info=exc)
        return errors.response(
            request.url.path, 500, f"Cannot translate text: internal error ({type(exc).__name__})"
        )

    # Starlette types a handler as taking any Exception; it calls each with the class it is registered for.
    app.add_exception_handler(RequestError, request_error)  # type: ignore[arg-type]
    app.add_exception_handler(ClientGone, client_gone)
    app.add_exception_handler(ClientDisconnect, client_gone)  # gone mid-body: no traceback
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, unexpected_error)
