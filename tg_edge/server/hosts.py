"""Which ``Host`` headers the server answers (a defence against DNS rebinding), and its own base URL.

A web page on ``evil.example`` can point that name at 127.0.0.1 and then call the server as "its own"
origin; its requests still say ``Host: evil.example``. As Ollama does, the server answers only the
loopback names (``localhost``, ``*.localhost``, ``127.0.0.1``, ``[::1]``), the address it listens on,
and names given with ``--allow-host`` (``*`` alone: every name). Listening on every interface
(``0.0.0.0``, ``::``) also admits any IP address literal: no DNS name is involved in such a request.
Everything else gets 403 before any work.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ErrorShapes
from .logs import escaped

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
EVERY_INTERFACE = ("0.0.0.0", "::", "")


class HostPolicy:
    """The host names a server listening on ``listen_host`` answers, plus ``extra`` ones."""

    def __init__(self, listen_host: str, extra: Sequence[str] = ()) -> None:
        self.listen_host = _bare(listen_host)
        self.allow_all = "*" in extra
        self.names = {*LOOPBACK_NAMES, self.listen_host, *(_bare(name) for name in extra)}
        self.every_interface = any(name in EVERY_INTERFACE for name in self.names - set(LOOPBACK_NAMES))

    def allows(self, host_header: str) -> bool:
        """Whether a request with this ``Host`` header (port and all) may be answered."""
        if self.allow_all:
            return True
        host = _bare(_without_port(host_header))
        if host in self.names or host.endswith(".localhost"):
            return True
        if not self.every_interface:
            return False
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


def base_url(request: Request, listen_host: str) -> str:
    """``http://host:port`` for URLs in answers: the address the server listens on, or (listening on
    every interface) the request's ``Host``, which :class:`HostCheck` has vetted."""
    host = _bare(listen_host)
    if host in EVERY_INTERFACE:
        return str(request.base_url).rstrip("/")
    port = request.scope.get("server", (None, None))[1]
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{port}" if port else f"http://{name}"


class HostCheck:
    """403 for a request whose ``Host`` the policy does not allow (a request without one is HTTP/1.0)."""

    def __init__(self, app: ASGIApp, policy: HostPolicy, errors: ErrorShapes) -> None:
        self.app = app
        self.policy = policy
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host")
            if host is not None and not self.policy.allows(host):
                response = self.errors.response(
                    scope["path"],
                    403,
                    f"Forbidden: this server does not answer to the host name {escaped(host, 100)} "
                    "(start it with --allow-host NAME to allow it)",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _without_port(host: str) -> str:
    host = host.strip()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _bare(host: str) -> str:
    """A host name compared: lower case, no trailing dot, an IPv6 address without brackets."""
    return host.strip().lower().rstrip(".").removeprefix("[").removesuffix("]")
