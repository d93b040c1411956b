"""Which web origins may call the server from a browser, and the middleware that enforces it.

By default, as Ollama does, only pages served from this machine (``http(s)://localhost``,
``127.0.0.1``, ``[::1]`` and ``0.0.0.0``, any port) and app or extension origins (``app://``,
``file://``, ``tauri://``, ``vscode-webview://``, ``vscode-file://``, ``chrome-extension://``,
``moz-extension://``, ``safari-web-extension://``) may; ``--cors-origin`` adds origins (``*`` inside
one matches any characters but ``/``; ``*`` alone allows every origin, LibreTranslate's default).

A request from any other origin is refused with 403 before it costs any work: a form POST needs no
preflight, so leaving out ``Access-Control-Allow-Origin`` alone would still let any web page a user
visits drive their translator. Private Network Access preflights
(``Access-Control-Request-Private-Network``) are answered only for allowed origins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import ErrorShapes

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "0.0.0.0")
APP_SCHEMES = (
    "app",
    "file",
    "tauri",
    "vscode-webview",
    "vscode-file",
    "chrome-extension",
    "moz-extension",
    "safari-web-extension",
)
DEFAULT_ORIGINS = (
    *(f"{scheme}://{host}:*" for scheme in ("http", "https") for host in LOOPBACK_HOSTS),
    *(f"{scheme}://*" for scheme in APP_SCHEMES),
)
"""What the default allows, in ``--cors-origin``'s notation (a loopback origin may also have no port)."""


class OriginPolicy:
    """The default origins plus ``extra`` ones (exact, with ``*`` wildcards, or ``*`` for all)."""

    def __init__(self, extra: Sequence[str] = ()) -> None:
        self.allow_all = "*" in extra
        loopback = "|".join(re.escape(host) for host in LOOPBACK_HOSTS)
        schemes = "|".join(re.escape(scheme) for scheme in APP_SCHEMES)
        patterns = [rf"https?://(?:{loopback})(?::\d{{1,5}})?", rf"(?:{schemes})://[^/\s]*"]
        patterns += [
            re.escape(origin.rstrip("/")).replace(r"\*", r"[^/\s]*")
            for origin in extra
            if origin and origin != "*"
        ]
        self.regex = "|".join(f"(?:{pattern})" for pattern in patterns)
        self._compiled = re.compile(self.regex)

    def allows(self, origin: str) -> bool:
        return self.allow_all or self._compiled.fullmatch(origin) is not None


class Cors(CORSMiddleware):
    """Starlette's CORS answers for allowed origins, 403 for requests from others, and PNA preflights."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy, errors: ErrorShapes) -> None:
        allow = {"allow_origins": ["*"]} if policy.allow_all else {"allow_origin_regex": policy.regex}
        super().__init__(
            app,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
            allow_private_network=True,
            max_age=86400,
            **allow,
        )
        self.policy = policy
        self.errors = errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] != "OPTIONS":
            origin = Headers(scope=scope).get("origin")
            if origin is not None and not self.policy.allows(origin):
                response = self.errors.response(
                    scope["path"],
                    403,
                    f"Forbidden: web pages from {origin[:100]} may not call this server "
                    "(start it with --cors-origin ORIGIN to allow them)",
                )
                await response(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 200 and "access-control-allow-private-network" in response.headers:
            del response.headers["access-control-allow-private-network"]  # starlette grants it to any origin
        return response
