"""Slow and idle connections: the timeout bounds reading a request (headers and body), and idle
connections are shed before they use up the process's file descriptors.

uvicorn times out only the idle time between requests. :func:`http_protocol` adds a deadline for each
request's headers (from the connection's start or the end of its previous answer) and, when the
connections near what the descriptor limit allows, closes the longest-waiting connection that has
not sent a whole request head yet, so a client that opens hundreds of idle connections cannot lock
others out. :class:`BodyDeadline` bounds reading the body with the same timeout (408 past it).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import ErrorShapes

log = logging.getLogger("tg_edge.server")

RESERVED_DESCRIPTORS = 32
"""File descriptors kept for everything but client connections (model, logs, stored files, the loop)."""


def connection_limits(max_accept_burst: int = 512) -> tuple[int | None, int]:
    """How many connections to keep open at most (None: no limit known) and how many asyncio may accept in
    one go (also the listen backlog), from this process's descriptor limit: both together stay below it,
    so ``accept()`` never runs out of descriptors and sheds instead."""
    try:
        import resource
    except ImportError:  # Windows: no descriptor limit to stay under
        return None, max_accept_burst
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None, max_accept_burst
    burst = max(8, min(max_accept_burst, soft // 4))
    return max(8, soft - RESERVED_DESCRIPTORS - burst), burst


def http_protocol(header_seconds: float, max_connections: int | None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol with a deadline for request heads and idle-connection shedding."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    base: Any = AutoHTTPProtocol

    class GuardedProtocol(base):
        _head_timer: asyncio.TimerHandle | None = None
        waiting_since = 0.0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._await_head()
            if max_connections is not None and len(self.connections) > max_connections:
                self._shed_one()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._await_head()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

        def waiting_for_head(self) -> bool:
            return self.cycle is None or bool(self.cycle.response_complete)

        def _await_head(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self.waiting_since = self.loop.time()
            self._head_timer = self.loop.call_later(header_seconds, self._head_deadline)

        def _head_deadline(self) -> None:
            self._head_timer = None
            if self.waiting_for_head() and not self.transport.is_closing():
                log.debug("closed a connection that sent no request head within %g s", header_seconds)
                self.transport.close()

        def _shed_one(self) -> None:
            idle = [c for c in self.connections if c.waiting_for_head() and not c.transport.is_closing()]
            if idle:
                oldest = min(idle, key=lambda c: c.waiting_since)
                log.debug("%d connections open: closed the longest idle one", len(self.connections))
                oldest.transport.close()

    return GuardedProtocol


class _BodyTimedOut(Exception):
    pass


class BodyDeadline:
    """408 for a request whose body is not all in within ``seconds`` of its head."""

    def __init__(self, app: ASGIApp, seconds: float, errors: ErrorShapes) -> None:
        self.app = app
        self.seconds = seconds
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False

        async def timed() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
            except asyncio.TimeoutError:
                raise _BodyTimedOut from None
            complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        try:
            await self.app(scope, timed, send)
        except _BodyTimedOut:
            response = self.errors.response(
                scope["path"],
                408,
                f"Request timeout: the body did not arrive within {self.seconds:g} s",
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
