"""The ASGI app and its listening socket: :func:`create_app`, :func:`listen`, :func:`serve`."""

from __future__ import annotations

import dataclasses
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import __version__
from ..errors import TgEdgeError
from . import deepl, deepl_glossaries, deepl_multilingual, deeplx, docs, libretranslate, page, stream
from .admission import Admission
from .connections import BodyDeadline, connection_limits, http_protocol
from .cors import Cors, OriginPolicy
from .errors import ErrorShapes
from .filestore import FileStore
from .glossaries import GlossaryStore
from .hosts import HostCheck, HostPolicy
from .logs import install_filters
from .middleware import AccessLog, BodyLimit, add_error_handlers
from .service import Service
from .settings import ServerSettings
from .translation import TranslationService

if TYPE_CHECKING:
    from ..translator import Translator


def create_app(translator: Translator, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI app serving ``translator``; call ``app.state.service.close()`` when done."""
    settings = settings or ServerSettings()
    service = Service(settings, Admission(settings), TranslationService(translator), file_store(settings))
    app = FastAPI(
        title="tg-edge",
        version=__version__,
        description="Offline machine translation with LibreTranslate- and DeepL-compatible APIs.",
        openapi_url="/openapi.json",
        docs_url=None,  # docs.add_routes serves it offline
        redoc_url=None,  # ReDoc would load from a CDN
    )
    app.state.service = service
    errors = ErrorShapes()
    app.add_middleware(GZipMiddleware, minimum_size=4096)
    app.add_middleware(Cors, policy=OriginPolicy(settings.cors_origins), errors=errors)
    app.add_middleware(HostCheck, policy=HostPolicy(settings.host, settings.allowed_hosts), errors=errors)
    app.add_middleware(AccessLog)
    app.add_middleware(BodyDeadline, seconds=settings.timeout, errors=errors)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, errors=errors)  # the outermost: added last
    add_error_handlers(app, errors)
    libretranslate.add_routes(app, service, errors)
    deepl.add_routes(app, service, errors)
    deeplx.add_routes(app, service, errors)
    docs.add_routes(app)
    stream.add_routes(app)
    page.add_routes(app, service)
    deepl_glossaries.add_routes(
        app,
        GlossaryStore(
            settings.glossary_dir,
            max_count=settings.glossary_limit,
            max_entries=settings.glossary_entry_limit,
        ),
    )
    deepl_multilingual.add_routes(app, errors)
    app.add_api_route(
        "/health", health, methods=["GET"], tags=["service"], summary="Whether the server is up, and its load"
    )
    return app


def file_store(settings: ServerSettings) -> FileStore:
    """The store of translated files: under ``data_dir``, or in a temporary directory."""
    root = settings.data_dir if settings.data_dir is not None else Path(tempfile.mkdtemp(prefix="tg-edge-"))
    try:
        return FileStore(
            root / "files",
            max_bytes=settings.files_max_bytes,
            max_bytes_per_key=settings.files_max_bytes_per_key,
        )
    except OSError as exc:
        raise TgEdgeError(f"cannot keep translated files in {root}: {exc.strerror or exc}") from None


async def health(request: Request) -> Response:
    """``GET /health``: up, which model, and how many requests are admitted now."""
    service: Service = request.app.state.service
    return JSONResponse(
        {
            "status": "ok",
            "version": __version__,
            "model": service.translation.model_name,
            "profile": service.translation.profile,
            "requests": service.admission.admitted,
            "maxQueue": service.settings.max_queue,
            "workers": service.settings.workers,
            "uptime": round(time.time() - service.started, 1),
        }
    )


def serve(
    translator: Translator,
    settings: ServerSettings | None = None,
    *,
    sock: socket.socket,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve on ``sock`` (from :func:`listen`; the caller closes it) until interrupted (Ctrl-C or SIGTERM).

    ``ready`` gets the base URL once clients can connect; those that came earlier wait in the
    socket's backlog. On Ctrl-C or SIGTERM the server stops accepting, answers queued requests
    with 503, cancels running work at its next step, and then raises :class:`KeyboardInterrupt`
    (SIGTERM too, so the caller cleans up alike). The caller closes ``translator`` afterwards: by
    then no worker thread uses it. The socket's own address is answered as a ``Host`` too.
    """
    settings = settings or ServerSettings()
    bound = str(sock.getsockname()[0])
    if bound != settings.host:
        settings = dataclasses.replace(settings, allowed_hosts=(*settings.allowed_hosts, bound))
    app = create_app(translator, settings)
    server = make_server(app)
    if ready is not None:
        ready(base_url(sock))
    main = threading.current_thread() is threading.main_thread()
    # uvicorn takes SIGINT and SIGTERM during run() and sends them again afterwards: both end as
    # KeyboardInterrupt, SIGINT too where the process started with it ignored (a job in the background).
    stops = (signal.SIGINT, signal.SIGTERM)
    previous = {stop: signal.signal(stop, _interrupt) for stop in stops} if main else {}
    try:
        server.run(sockets=[sock])
    finally:
        app.state.service.close()
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port); connections wait in its backlog."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(512)
    except OSError as exc:
        sock.close()
        raise TgEdgeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def base_url(sock: socket.socket) -> str:
    """``http://host:port`` of a listening socket."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


def make_server(app: FastAPI) -> Any:
    """A uvicorn server for ``app``: no access log of its own (ours never shows query strings or bodies).

    The timeout bounds reading each request's head (and :class:`BodyDeadline` its body); idle
    connections are shed before they exhaust the file descriptors; what clients and the OS cause
    (a client gone mid-body, ``accept()`` out of descriptors) is logged as one line, not a traceback.
    Its shutdown first stops the admission (queued requests get 503, running work is cancelled), so
    the requests in flight are answered within moments rather than when their translations end.
    """
    import uvicorn

    class Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            app.state.service.admission.stop()
            await super().shutdown(sockets)

    settings: ServerSettings = app.state.service.settings
    max_connections, accept_burst = connection_limits()
    install_filters()
    config = uvicorn.Config(
        app,
        http=http_protocol(settings.timeout, max_connections),
        backlog=accept_burst,
        log_config=None,
        access_log=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=3,
        server_header=False,
        lifespan="off",
    )
    return Server(config)
