"""``tg-edge serve``: a LibreTranslate-compatible HTTP API over one loaded :class:`~tg_edge.Translator`.

Apps and plugins that speak LibreTranslate's API work unchanged: the same endpoints, field names,
status codes and ``{"error": ...}`` bodies. Every request becomes one
:meth:`Translator.translate_many` call on a pool of worker threads, so concurrent requests are
decoded together by the engine (there is no lock here around the model). Requests beyond
``max_queue`` get 429, a request that takes longer than ``timeout`` gets an error and its queued
work is dropped, and a client that goes away while waiting does not cost a translation.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastapi import FastAPI

from . import __version__, formats
from .errors import DetectionError, InputError, LanguageError, TgEdgeError
from .languages import Language, resolve_language, suggestion, supported_languages

if TYPE_CHECKING:
    from .translator import Translator

log = logging.getLogger("tg_edge.server")

MIB = 1 << 20


@dataclass(frozen=True)
class ServerSettings:
    """Limits and access control of one server."""

    char_limit: int = 10_000
    """Most characters of text one request may ask to translate (all ``q`` items together); -1: no limit."""
    batch_limit: int = 128
    """Most ``q`` items in one request; -1: no limit."""
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
    cors_origins: tuple[str, ...] = ("*",)
    """Web origins whose pages may call the API from a browser (LibreTranslate allows all); empty: none."""

    def __post_init__(self) -> None:
        if self.workers < 1 or self.max_queue < 1:
            raise ValueError("workers and max_queue must be at least 1")
        if self.timeout <= 0 or self.max_body_bytes < 1:
            raise ValueError("timeout and max_body_bytes must be positive")


def load_api_keys(path: Path) -> frozenset[bytes]:
    """The keys in ``path`` (one a line; blank lines and ``#`` comments ignored), as sha256 digests."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the API key file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    keys = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not keys:
        raise InputError(f"the API key file {path} holds no keys (one key a line)")
    return frozenset(_digest(key) for key in keys)


def create_app(translator: Translator, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI app serving ``translator``; call :meth:`ServiceState.close` (``app.state.service``) when done."""
    settings = settings or ServerSettings()
    state = ServiceState(translator, settings)
    app = FastAPI(
        title="tg-edge",
        version=__version__,
        description="Offline machine translation with a LibreTranslate-compatible API.",
        openapi_url="/openapi.json",
    )
    app.state.service = state
    app.add_middleware(GZipMiddleware, minimum_size=4096)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], max_age=86400)
    app.add_middleware(_AccessLog)
    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(_ClientGone, _client_gone)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    _add_routes(app, state)
    return app


def serve(
    translator: Translator,
    settings: ServerSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    ready: Callable[[str], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C or SIGTERM); ``ready`` gets the base URL once clients can connect.

    The caller closes ``translator`` afterwards: by then no worker thread uses it any more.
    """
    sock = listen(host, port)
    app = create_app(translator, settings)
    server = make_server(app)
    if ready is not None:
        ready(base_url(sock))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
        app.state.service.close()


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
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if sock.family == socket.AF_INET6 else f"http://{host}:{port}"


def make_server(app: FastAPI) -> Any:  # noqa: ANN401 - uvicorn.Server; uvicorn loads only when serving
    """A uvicorn server for ``app``: no access log of its own (ours never shows query strings or bodies)."""
    import uvicorn

    config = uvicorn.Config(app, log_config=None, access_log=False, timeout_keep_alive=5,
                            timeout_graceful_shutdown=10, server_header=False, lifespan="off")
    return uvicorn.Server(config)


# -- state shared by the requests ----------------------------------------------------------------


class ApiError(Exception):
    """An error answered as LibreTranslate does: ``{"error": message}`` with this HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _ClientGone(Exception):
    """The client disconnected while its request waited; nobody reads the answer."""


class ServiceState:
    """The translator, its worker pool, the admission count and translated files awaiting download."""

    def __init__(self, translator: Translator, settings: ServerSettings) -> None:
        from .detect import warm_up

        self.translator = translator
        self.settings = settings
        self._executor = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="tg-edge-worker")
        self._admitted = 0
        self._lock = threading.Lock()
        self.files = _FileStore()
        self.languages_json = _languages_json()
        self.started = time.time()
        warm_up()  # load the language-ID model now, not on the first source=auto request

    @property
    def admitted(self) -> int:
        return self._admitted

    async def run(self, request: Request, work: Callable[[], Any]) -> Any:  # noqa: ANN401
        """Run ``work`` on a worker thread within the queue limit, the timeout and the client's patience."""
        if not self._enter():
            raise ApiError(429, f"Slowdown: {self.settings.max_queue} requests are already queued; retry shortly")
        try:
            future: Future[Any] = self._executor.submit(work)
        except RuntimeError:  # the pool shut down: the server is stopping
            self._leave()
            raise ApiError(500, "Cannot translate text: the server is shutting down") from None
        future.add_done_callback(lambda _: self._leave())  # finished or cancelled while queued: exactly once
        waiter = asyncio.wrap_future(future)
        watcher = asyncio.ensure_future(_wait_for_disconnect(request.receive))
        try:
            done, _ = await asyncio.wait({waiter, watcher}, timeout=self.settings.timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the server is stopping
            future.cancel()
            raise
        finally:
            watcher.cancel()
        if waiter in done:
            return waiter.result()
        future.cancel()  # drops the work if it still waits for a worker; a running translation finishes
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # nobody awaits its outcome now
        if watcher in done:
            raise _ClientGone
        raise ApiError(500, f"Cannot translate text: no result within {self.settings.timeout:g} s (server busy)")

    def close(self, wait: bool = True) -> None:
        """Drop queued work and wait for running translations, so the translator can be closed safely."""
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def _enter(self) -> bool:
        with self._lock:
            if self._admitted >= self.settings.max_queue:
                return False
            self._admitted += 1
            return True

    def _leave(self) -> None:
        with self._lock:
            self._admitted -= 1


async def _wait_for_disconnect(receive: Receive) -> None:
    """Return when the client disconnects (after the request body, ``receive`` only reports that)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


class _FileStore:
    """Translated files kept for ``/download_file`` (LibreTranslate answers a file with its URL)."""

    max_files = 64
    max_bytes = 256 * MIB
    keep_seconds = 3600

    def __init__(self) -> None:
        self._files: OrderedDict[str, tuple[str, bytes, str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, filename: str, data: bytes, media_type: str) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._files[token] = (filename, data, media_type, time.monotonic())
            self._evict()
        return token

    def get(self, token: str) -> tuple[str, bytes, str] | None:
        with self._lock:
            self._evict()
            entry = self._files.get(token)
        return None if entry is None else entry[:3]

    def _evict(self) -> None:
        now = time.monotonic()
        while self._files and (
            len(self._files) > self.max_files
            or sum(len(e[1]) for e in self._files.values()) > self.max_bytes
            or now - next(iter(self._files.values()))[3] > self.keep_seconds
        ):
            self._files.popitem(last=False)


# -- routes -----------------------------------------------------------------------------------------

_TRANSLATE_BODY = {
    "type": "object",
    "required": ["q", "source", "target"],
    "properties": {
        "q": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
              "description": "Text(s) to translate", "example": "Hello world!"},
        "source": {"type": "string", "example": "en", "description": "Source language code, or auto"},
        "target": {"type": "string", "example": "de", "description": "Target language code"},
        "format": {"type": "string", "enum": ["text", "html"], "default": "text"},
        "alternatives": {"type": "integer", "default": 0,
                         "description": "Alternative translations wanted (greedy decoding gives none)"},
        "api_key": {"type": "string", "description": "API key, when the server requires one"},
    },
}
_DETECT_BODY = {
    "type": "object",
    "required": ["q"],
    "properties": {"q": {"type": "string", "example": "What language is this?"}, "api_key": {"type": "string"}},
}
_FILE_BODY = {
    "type": "object",
    "required": ["file", "source", "target"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "source": {"type": "string", "example": "en"},
        "target": {"type": "string", "example": "de"},
        "api_key": {"type": "string"},
        "fields": {"type": "string", "example": "instruction,output",
                   "description": "For .jsonl files: the string fields to translate (tg-edge's own field)"},
    },
}
_ERROR = {"content": {"application/json": {"schema": {
    "type": "object", "properties": {"error": {"type": "string"}}}}}}
_ERRORS = {str(code): {**_ERROR, "description": text} for code, text in (
    (400, "Invalid request"), (403, "Invalid API key"), (413, "Request body too large"),
    (429, "Slow down: too many requests queued"), (500, "Translation error"))}


def _body_doc(schema: dict[str, Any], *, multipart_only: bool = False) -> dict[str, Any]:
    forms = {"multipart/form-data": {"schema": schema}}
    if not multipart_only:
        forms = {"application/json": {"schema": schema},
                 "application/x-www-form-urlencoded": {"schema": schema}, **forms}
    return {"requestBody": {"required": True, "content": forms}}


def _add_routes(app: FastAPI, state: ServiceState) -> None:  # noqa: C901 - one closure per endpoint
    settings = state.settings

    @app.post("/translate", tags=["translate"], summary="Translate text from a language to another",
              openapi_extra=_body_doc(_TRANSLATE_BODY), responses=_ERRORS)
    async def translate(request: Request) -> Response:
        fields = await _read_fields(request)
        _check_key(fields, request, settings)
        q = fields.get("q")
        if q is None or q == "" or q == []:
            raise ApiError(400, "Invalid request: missing q parameter")
        batch = isinstance(q, list)
        texts = q if batch else [q]
        if not all(isinstance(t, str) for t in texts):
            raise ApiError(400, "Invalid request: q must be a string or an array of strings")
        source, target = _required(fields, "source"), _required(fields, "target")
        text_format = _string(fields, "format") or "text"
        if text_format not in ("text", "html"):
            raise ApiError(400, f"{text_format} format is not supported")
        alternatives = _alternatives(fields.get("alternatives"))
        _check_limits(texts, settings)
        tgt = _language(target)
        src = None if source.strip().lower() == "auto" else _language(source)

        def work() -> tuple[list[str], Detected | None]:
            if text_format == "html":
                documents = [formats.read(t, f"q[{i}]", "html") for i, t in enumerate(texts)]
                sample = "\n".join(segment.text for document in documents for segment in document.segments)
                detected = _detect(sample) if src is None else None
                source_code = detected.language.code if detected else src.code
                return _translate_documents(state.translator, documents, source_code, tgt.code), detected
            detected = _detect("\n".join(texts)) if src is None else None
            source_code = detected.language.code if detected else src.code
            results = state.translator.translate_many(texts, source=source_code, target=tgt.code)
            return [r.text for r in results], detected

        translated, detected = await _run(state, request, work)
        body: dict[str, Any] = {"translatedText": translated if batch else translated[0]}
        if detected is not None:
            body["detectedLanguage"] = [detected.as_json()] * len(texts) if batch else detected.as_json()
        if alternatives > 0:
            body["alternatives"] = [[] for _ in texts] if batch else []
        return JSONResponse(body)

    @app.post("/detect", tags=["translate"], summary="Detect the language of a single text",
              openapi_extra=_body_doc(_DETECT_BODY), responses=_ERRORS)
    async def detect(request: Request) -> Response:
        fields = await _read_fields(request)
        _check_key(fields, request, settings)
        q = fields.get("q")
        if not q:
            raise ApiError(400, "Invalid request: missing q parameter")
        text = "\n".join(q) if isinstance(q, list) else q
        if not isinstance(text, str):
            raise ApiError(400, "Invalid request: q must be a string")
        _check_limits([text], settings)
        from .detect import detect_languages

        try:
            candidates = detect_languages(text, limit=3)
        except DetectionError as exc:
            raise ApiError(400, str(exc)) from None
        return JSONResponse([Detected(c.language, c.confidence).as_json() for c in candidates])

    @app.post("/translate_file", tags=["translate"], summary="Translate a file from a language to another",
              openapi_extra=_body_doc(_FILE_BODY, multipart_only=True), responses=_ERRORS)
    async def translate_file(request: Request) -> Response:
        fields = await _read_fields(request)
        _check_key(fields, request, settings)
        upload = fields.get("file")
        if not isinstance(upload, UploadFile):
            raise ApiError(400, "Invalid request: missing file parameter")
        source, target = _required(fields, "source"), _required(fields, "target")
        filename = PurePath(upload.filename or "").name
        if not filename:
            raise ApiError(400, "Invalid request: empty file")
        file_format = _file_format(filename)
        if file_format is None:
            extension = PurePath(filename).suffix.lower() or "no extension"
            raise ApiError(400, f"Invalid request: file format not supported ({extension}; this server reads "
                                f"{', '.join(_document_extensions())})")
        jsonl_fields = _string(fields, "fields")  # tg-edge's own: which JSONL fields to translate
        data = await upload.read()
        await upload.close()
        tgt = _language(target)
        src = None if source.strip().lower() == "auto" else _language(source)

        def work() -> bytes:
            content = data if file_format in formats.BINARY else _decode_utf8(data, filename)
            options = {"fields": jsonl_fields} if file_format == "jsonl" else {}
            document = formats.read(content, filename, file_format, **options)
            segments = [segment.text for segment in document.segments]
            _check_limits(segments, settings)
            source_code = _detect("\n".join(segments)).language.code if src is None else src.code
            rendered = _translate_documents(state.translator, [document], source_code, tgt.code)[0]
            return rendered if isinstance(rendered, bytes) else rendered.encode("utf-8")

        translated = await _run(state, request, work)
        media_type = upload.content_type or "application/octet-stream"
        token = state.files.put(filename, translated, media_type)
        url = f"{str(request.base_url).rstrip('/')}/download_file/{token}/{quote(filename)}"
        return JSONResponse({"translatedFileUrl": url})

    @app.get("/download_file/{token}/{filename}", tags=["translate"], summary="Download a translated file")
    async def download_file(token: str, filename: str) -> Response:
        stored = state.files.get(token)
        if stored is None or stored[0] != filename:
            raise ApiError(404, "Invalid filename: no such translated file (they are kept for an hour)")
        name, data, media_type = stored
        disposition = f"attachment; filename*=UTF-8''{quote(name)}"
        return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})

    @app.get("/languages", tags=["translate"], summary="Retrieve the list of supported languages")
    async def languages() -> Response:
        return Response(state.languages_json, media_type="application/json")

    @app.get("/frontend/settings", tags=["frontend"], summary="Settings LibreTranslate's frontends read")
    async def frontend_settings() -> Response:
        return JSONResponse({
            "charLimit": settings.char_limit,
            "frontendTimeout": int(settings.timeout * 1000),
            "apiKeys": bool(settings.api_key_digests),
            "keyRequired": bool(settings.api_key_digests),
            "suggestions": False,
            "filesTranslation": True,
            "supportedFilesFormat": _document_extensions(),
            "language": {"source": {"code": "auto", "name": "Auto Detect"},
                         "target": {"code": "en", "name": "English"}},
        })

    @app.get("/health", tags=["service"], summary="Whether the server is up, and its load")
    async def health() -> Response:
        return JSONResponse({
            "status": "ok",
            "version": __version__,
            "model": state.translator.model_path.name,
            "profile": state.translator.profile,
            "requests": state.admitted,
            "maxQueue": settings.max_queue,
            "workers": settings.workers,
            "uptime": round(time.time() - state.started, 1),
        })

    @app.get("/spec", include_in_schema=False)
    async def spec() -> Response:
        return JSONResponse(app.openapi())  # LibreTranslate's path for its API spec


async def _run(state: ServiceState, request: Request, work: Callable[[], Any]) -> Any:  # noqa: ANN401
    """:meth:`ServiceState.run` with tg-edge's errors turned into LibreTranslate's statuses."""
    try:
        return await state.run(request, work)
    except ApiError:
        raise
    except _ClientGone:
        raise
    except LanguageError as exc:  # includes DetectionError for source=auto
        raise ApiError(400, str(exc)) from None
    except InputError as exc:
        raise ApiError(400, f"Invalid request: {exc}") from None
    except TgEdgeError as exc:
        raise ApiError(500, f"Cannot translate text: {exc}") from None


# -- request parsing ---------------------------------------------------------------------------------


async def _read_fields(request: Request) -> dict[str, Any]:
    """The request's parameters, as LibreTranslate reads them: JSON body, form body, then query string.

    A JSON object sent without a JSON content type (``curl -d '{...}'``) is read as JSON too.
    """
    fields: dict[str, Any] = {key: value for key, value in request.query_params.items()}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=64)
        except StarletteHTTPException as exc:
            raise ApiError(400, f"Invalid request: {exc.detail}") from None
        for key in form:
            values = form.getlist(key)
            fields[key] = values if key == "q" and len(values) > 1 else values[0]
        return fields
    body = await request.body()
    if not body.strip():
        return fields
    declared_json = content_type == "application/json" or content_type.endswith("+json")
    if declared_json or body.lstrip()[:1] == b"{":
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if declared_json:
                raise ApiError(400, f"Invalid JSON format: {exc}") from None
        else:
            if not isinstance(data, dict):
                raise ApiError(400, "Invalid JSON format: the body must be a JSON object")
            fields.update(data)
            return fields
        # not JSON after all: read it as a form
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "Invalid request: the body is not UTF-8") from None
    for key, values in parse_qs(text, keep_blank_values=True).items():
        fields[key] = values if key == "q" and len(values) > 1 else values[0]
    return fields


def _required(fields: dict[str, Any], name: str) -> str:
    value = _string(fields, name)
    if not value:
        raise ApiError(400, f"Invalid request: missing {name} parameter")
    return value


def _string(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"Invalid request: {name} must be a string")
    return value


def _alternatives(value: object) -> int:
    if value in (None, ""):
        return 0
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ApiError(400, "Invalid request: alternatives parameter is not a number") from None


def _check_limits(texts: Sequence[str], settings: ServerSettings) -> None:
    if settings.batch_limit != -1 and len(texts) > settings.batch_limit:
        raise ApiError(400, f"Invalid request: request ({len(texts)}) exceeds text limit ({settings.batch_limit})")
    size = sum(len(t) for t in texts)
    if settings.char_limit != -1 and size > settings.char_limit:
        raise ApiError(400, f"Invalid request: request ({size}) exceeds text limit ({settings.char_limit})")


def _language(code: str) -> Language:
    try:
        return resolve_language(code)
    except LanguageError:
        raise ApiError(400, f"{code} is not supported{suggestion(code)} (GET /languages lists them)") from None


def _check_key(fields: dict[str, Any], request: Request, settings: ServerSettings) -> None:
    """Require one of the server's API keys, compared in constant time; no key is ever logged or echoed."""
    if not settings.api_key_digests:
        return
    given = fields.get("api_key")
    if not given:
        authorization = request.headers.get("authorization", "")
        given = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
    if not given or not isinstance(given, str):
        raise ApiError(400, "Please contact the server operator to get an API key")
    digest = _digest(given)
    matched = False
    for accepted in settings.api_key_digests:  # no early exit: the time does not tell which key came close
        matched |= hmac.compare_digest(digest, accepted)
    if not matched:
        raise ApiError(403, "Invalid API key")


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _decode_utf8(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None


# -- language detection and the language list ----------------------------------------------------------


@dataclass(frozen=True)
class Detected:
    """A detected source language in LibreTranslate's shape (confidence 0–100)."""

    language: Language
    confidence: float

    def as_json(self) -> dict[str, Any]:
        return {"confidence": round(self.confidence * 100, 1), "language": self.language.code}


def _detect(text: str) -> Detected:
    from .detect import detect_language

    detection = detect_language(text)
    return Detected(detection.language, detection.confidence)


def _languages_json() -> bytes:
    """``GET /languages``: every code of TranslateGemma's table, each able to translate into every other."""
    languages = supported_languages()
    codes = [language.code for language in languages]
    listing = [{"code": lang.code, "name": lang.name, "targets": [c for c in codes if c != lang.code]}
               for lang in languages]
    return json.dumps(listing, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- documents (read and written by tg_edge.formats) ------------------------------------------------------


def _file_format(filename: str) -> str | None:
    """The tg-edge format of an uploaded file by its extension, or None when tg-edge cannot read it."""
    return formats.format_for(filename) if PurePath(filename).suffix.lower() in formats.known_suffixes() else None


def _document_extensions() -> list[str]:
    return sorted(formats.known_suffixes())


def _translate_documents(translator: Translator, documents: Sequence[formats.Document], source: str,
                         target: str) -> list[str | bytes]:
    """Translate the segments of several documents in one ``translate_many`` call and render each back."""
    segments = [segment.text for document in documents for segment in document.segments]
    results = iter(translator.translate_many(segments, source=source, target=target) if segments else [])
    return [document.render([next(results).text for _ in document.segments]) for document in documents]


# -- middleware and error handlers ------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class _BodyLimit:
    """413 for a body over the limit: at once from Content-Length, or as soon as more bytes arrive."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(self.limit)(scope, receive, send)
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
            await _too_large(self.limit)(scope, receive, send)


def _too_large(limit: int) -> Response:
    return JSONResponse({"error": f"Request entity too large: the body exceeds {limit} bytes"}, status_code=413,
                        headers={"Connection": "close"})


class _AccessLog:
    """One line per request on the ``tg_edge.server`` logger: method, path, status, time; never query or body."""

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
            log.info("%s %s %s %.3fs", scope["method"], scope["path"], status or "-", time.perf_counter() - started)


async def _api_error(request: Request, exc: ApiError) -> Response:
    return JSONResponse({"error": exc.message}, status_code=exc.status)


async def _client_gone(request: Request, exc: _ClientGone) -> Response:
    return Response(status_code=499)  # nginx's "client closed request"; nobody receives it


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error serving %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": f"Cannot translate text: internal error ({type(exc).__name__})"}, status_code=500)
