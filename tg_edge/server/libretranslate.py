"""LibreTranslate's API: the same endpoints, field names, status codes and ``{"error": ...}`` bodies.

Apps and plugins that speak LibreTranslate work unchanged. Each endpoint is one handler below;
what they share (admission, parsing, limits, the translator) lives in the modules beside this one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import formats
from ..errors import (
    DetectionError,
    GlossaryError,
    InputError,
    LanguageError,
    ProjectorError,
    PromptError,
    TgEdgeError,
)
from ..languages import Detection, Language, is_auto, suggestion
from ..languages.profiles import display_name
from . import deeplx, files, openapi
from .admission import current_cancellation
from .auth import KeyRefusal, authorized_fields
from .errors import ErrorShapes, RequestError
from .filestore import StoredFile
from .glossaries import inline_terms
from .hosts import base_url
from .parsing import (
    check_limits,
    document_limits,
    jsonl_fields,
    optional_count,
    optional_string,
    required_string,
)
from .service import Service
from .translation import Progress


@dataclass(frozen=True)
class LibreTranslate:
    """The API's state on ``app.state.libretranslate``: the shared service and the language listings."""

    service: Service
    languages_json: bytes
    """``GET /languages``: the languages the loaded model is made for (a few tens of KB)."""
    all_languages_json: bytes
    """``GET /languages?all=true``: every code the server accepts (megabytes: each lists all as targets)."""


def add_routes(app: FastAPI, service: Service, errors: ErrorShapes) -> None:
    """Serve LibreTranslate's endpoints from ``app``; errors anywhere not claimed by another API take its shape."""
    errors.add("/", error_body)
    app.state.libretranslate = LibreTranslate(
        service,
        _languages_json(service.translation.languages()),
        _languages_json(service.translation.languages(every=True)),
    )
    post = POST_ROUTE
    app.add_api_route(
        "/translate",
        translate,
        summary="Translate text from a language to another",
        openapi_extra=openapi.request_body(openapi.LIBRETRANSLATE_TRANSLATE),
        **post,
    )
    app.add_api_route(
        "/detect",
        detect,
        summary="Detect the language of a single text",
        openapi_extra=openapi.request_body(openapi.LIBRETRANSLATE_DETECT),
        **post,
    )
    app.add_api_route(
        "/translate_file",
        translate_file,
        summary="Translate a file from a language to another",
        openapi_extra=openapi.request_body(openapi.LIBRETRANSLATE_FILE, multipart_only=True),
        **post,
    )
    app.add_api_route(
        "/translate_image",
        translate_image,
        summary="Translate the text in an image",
        openapi_extra=openapi.request_body(openapi.TRANSLATE_IMAGE, multipart_only=True),
        **post,
    )
    app.add_api_route(
        "/download_file/{token}/{filename}",
        download_file,
        methods=["GET"],
        tags=["translate"],
        summary="Download a translated file",
    )
    app.add_api_route(
        "/languages",
        languages,
        methods=["GET"],
        tags=["translate"],
        summary="Retrieve the list of supported languages",
    )
    app.add_api_route(
        "/frontend/settings",
        frontend_settings,
        methods=["GET"],
        tags=["frontend"],
        summary="Settings LibreTranslate's frontends read",
    )
    app.add_api_route("/spec", spec, methods=["GET"], include_in_schema=False)  # LibreTranslate's path for it


POST_ROUTE: dict[str, Any] = {
    "methods": ["POST"],
    "tags": ["translate"],
    "responses": openapi.LIBRETRANSLATE_ERRORS,
}
"""What every translating POST route of LibreTranslate's API (and the streaming ones beside it) shares."""


def error_body(message: str) -> dict[str, str]:
    """LibreTranslate's error body."""
    return {"error": message}


# -- endpoints ------------------------------------------------------------------------------------------


async def translate(request: Request) -> Response:
    """``POST /translate``: one text (``q``) or a batch, plain or HTML, from a language or ``auto``; a DeepLX
    body (``text`` and ``target_lang``) goes to :mod:`.deeplx`."""
    api = _api(request)
    fields = await _authorized_fields(api, request)
    if deeplx.asks(fields):
        return await deeplx.answer(request, api.service, fields)
    q = fields.get("q")
    if q is None or q == "" or q == []:
        raise RequestError(400, "Invalid request: missing q parameter")
    batch = isinstance(q, list)
    texts: list[str] = q if batch else [q]
    if not all(isinstance(t, str) for t in texts):
        raise RequestError(400, "Invalid request: q must be a string or an array of strings")
    source_code, target_code = required_string(fields, "source"), required_string(fields, "target")
    text_format = optional_string(fields, "format") or "text"
    if text_format not in ("text", "html"):
        raise RequestError(400, f"{text_format} format is not supported")
    alternatives = optional_count(fields, "alternatives")
    check_limits(texts, api.service.settings)
    source, target = _languages(api, source_code, target_code)
    try:
        terms = inline_terms(fields.get("glossary"), fields.get("keep"), request.app.state.glossaries)
    except GlossaryError as exc:
        raise RequestError(400, f"Invalid request: {exc}") from None
    translation = api.service.translation

    def work() -> tuple[list[Any], Detection | None]:
        if text_format == "html":
            limits = document_limits(api.service.settings, current_cancellation())
            documents = [formats.read(t, f"q[{i}]", "html", limits=limits) for i, t in enumerate(texts)]
            return translation.translate_documents(documents, source=source, target=target, terms=terms)
        return translation.translate_texts(texts, source=source, target=target, terms=terms)

    translated, detected = await _run(api, request, work)
    body: dict[str, Any] = {"translatedText": translated if batch else translated[0]}
    if detected is not None:
        body["detectedLanguage"] = (
            [_detection_json(detected)] * len(texts) if batch else _detection_json(detected)
        )
    if alternatives > 0:
        body["alternatives"] = [[] for _ in texts] if batch else []
    return JSONResponse(body)


async def detect(request: Request) -> Response:
    """``POST /detect``: up to three candidate languages of ``q``, most likely first."""
    api = _api(request)
    fields = await _authorized_fields(api, request)
    q = fields.get("q")
    if not q:
        raise RequestError(400, "Invalid request: missing q parameter")
    texts = q if isinstance(q, list) else [q]
    if not all(isinstance(t, str) for t in texts):
        raise RequestError(400, "Invalid request: q must be a string")
    text = "\n".join(texts)
    check_limits([text], api.service.settings)
    try:
        candidates = api.service.translation.detect(text, limit=3)
    except DetectionError as exc:
        raise RequestError(400, str(exc)) from None
    return JSONResponse([_detection_json(candidate) for candidate in candidates])


async def translate_file(request: Request) -> Response:
    """``POST /translate_file``: a document in any format tg-edge reads; answers the translation's URL."""
    api = _api(request)
    upload = await read_file_request(api, request)
    url = await _run(api, request, lambda: upload.keep(api, request, upload.translate()))
    return JSONResponse({"translatedFileUrl": url})


@dataclass(frozen=True)
class FileRequest:
    """A ``/translate_file`` request, checked: the upload, its format and languages."""

    service: Service
    data: bytes
    filename: str
    file_format: str
    media_type: str
    source: Language | None
    target: Language
    options: dict[str, Any]
    owner: bytes | None
    """The uploader's key digest (None when keys are off): only it may download the result."""

    def translate(self, progress: Progress | None = None) -> bytes:
        """The file translated (blocks: run it on a worker); ``progress`` hears how many segments are done."""
        return files.translate_upload(
            self.service,
            self.data,
            self.filename,
            self.file_format,
            source=self.source,
            target=self.target,
            options=self.options,
            progress=progress,
        )[0]

    def keep(self, api: LibreTranslate, request: Request, translated: bytes) -> str:
        """Keep ``translated`` for download (blocks: writes to disk); its URL, on the configured address."""
        token = api.service.files.put(StoredFile(self.filename, translated, self.media_type), self.owner)
        base = base_url(request, api.service.settings.host)
        return f"{base}/download_file/{token}/{quote(self.filename)}"


async def read_file_request(api: LibreTranslate, request: Request) -> FileRequest:
    """A ``/translate_file`` request's upload and fields, checked (key, format, languages)."""
    fields, owner, upload = await _upload(api, request, "Invalid request: missing file parameter")
    source_code, target_code = required_string(fields, "source"), required_string(fields, "target")
    filename = PurePath(upload.filename or "").name
    if not filename:
        raise RequestError(400, "Invalid request: empty file")
    file_format = files.file_format(filename)
    if file_format is None:
        extension = PurePath(filename).suffix.lower() or "no extension"
        raise RequestError(
            400,
            f"Invalid request: file format not supported ({extension}; this server reads "
            f"{', '.join(files.document_extensions())})",
        )
    options = {"fields": jsonl_fields(fields)} if file_format == "jsonl" else {}
    data = await upload.read()
    await upload.close()
    source, target = _languages(api, source_code, target_code)
    media_type = upload.content_type or "application/octet-stream"
    api.service.files.check_room(owner)
    return FileRequest(api.service, data, filename, file_format, media_type, source, target, options, owner)


async def translate_image(request: Request) -> Response:
    """``POST /translate_image`` (tg-edge's own): the text in an uploaded image (``file``), translated. Images
    come as uploads only; the server never fetches a URL."""
    api = _api(request)
    fields, _, upload = await _upload(
        api, request, "Invalid request: missing file parameter (the image, as a multipart upload)"
    )
    source_code, target_code = required_string(fields, "source"), required_string(fields, "target")
    filename = PurePath(upload.filename or "").name or "image"
    data = await upload.read()
    await upload.close()
    source, target = _languages(api, source_code, target_code)
    if source is None:
        raise RequestError(400, "Invalid request: an image's source language cannot be detected; give source")

    def work() -> str:
        return api.service.translation.translate_image(data, filename, source=source, target=target)

    return JSONResponse({"translatedText": await _run(api, request, work)})


async def download_file(request: Request, token: str, filename: str) -> Response:
    """``GET /download_file/{token}/{filename}``: a file ``/translate_file`` translated (kept for an hour; when
    the server needs keys, only for the key that uploaded it, sent as ``api_key`` or a Bearer token)."""
    api = _api(request)
    _, owner = await _authorized(api, request)
    stored = await run_in_threadpool(api.service.files.get, token, owner)
    if stored is None or stored.filename != filename:
        raise RequestError(404, "Invalid filename: no such translated file (they are kept for an hour)")
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return Response(stored.data, media_type=stored.media_type, headers={"Content-Disposition": disposition})


async def languages(request: Request) -> Response:
    """``GET /languages``: the languages the loaded model is made for, each with the languages it translates
    into; ``?all=true``: every code the server accepts. Codes not listed still work (``zh-CN``, ``zt``, ``nb``)."""
    api = _api(request)
    every = request.query_params.get("all", "").strip().lower() in ("1", "true", "yes")
    return Response(api.all_languages_json if every else api.languages_json, media_type="application/json")


async def frontend_settings(request: Request) -> Response:
    """``GET /frontend/settings``: what LibreTranslate's web frontends read to set themselves up."""
    settings = _api(request).service.settings
    return JSONResponse(
        {
            "charLimit": settings.char_limit,
            "frontendTimeout": int(settings.timeout * 1000),
            "apiKeys": settings.keys_required,
            "keyRequired": settings.keys_required,
            "suggestions": False,
            "filesTranslation": True,
            "supportedFilesFormat": files.document_extensions(),
            "language": {
                "source": {"code": "auto", "name": "Auto Detect"},
                "target": {"code": "en", "name": "English"},
            },
        }
    )


async def spec(request: Request) -> Response:
    """``GET /spec``: the OpenAPI description, where LibreTranslate serves it."""
    return JSONResponse(request.app.openapi())


# -- helpers ----------------------------------------------------------------------------------------------


def _api(request: Request) -> LibreTranslate:
    api: LibreTranslate = request.app.state.libretranslate  # Starlette's state holds Any
    return api


_REFUSAL = KeyRefusal(
    RequestError(400, "Please contact the server operator to get an API key"),
    RequestError(403, "Invalid API key"),
)


async def _authorized_fields(api: LibreTranslate, request: Request) -> dict[str, Any]:
    """The request's fields (``q`` may repeat), once it carries an accepted key where keys are required."""
    return (await _authorized(api, request))[0]


async def _authorized(api: LibreTranslate, request: Request) -> tuple[dict[str, Any], bytes | None]:
    """The request's fields and its key's digest (None when keys are off); the key is ``api_key`` or a
    Bearer token (or DeepLX's ``token``: both APIs share ``/translate``)."""
    return await authorized_fields(
        request,
        api.service.settings,
        _REFUSAL,
        schemes=("bearer",),
        fields=("api_key", "token"),
        repeatable=frozenset({"q"}),
    )


async def _upload(
    api: LibreTranslate, request: Request, missing: str
) -> tuple[dict[str, Any], bytes | None, UploadFile]:
    """The request's fields, its key's digest and its uploaded ``file`` (``missing``: the error when none)."""
    fields, owner = await _authorized(api, request)
    upload = fields.get("file")
    if not isinstance(upload, UploadFile):
        raise RequestError(400, missing)
    return fields, owner, upload


def _languages(api: LibreTranslate, source: str, target: str) -> tuple[Language | None, Language]:
    """The source (None for ``auto``) and target languages, in LibreTranslate's wording when unknown."""
    target_language = _language(api, target)
    return (None if is_auto(source) else _language(api, source)), target_language


def _language(api: LibreTranslate, code: str) -> Language:
    try:
        return api.service.translation.language(code)
    except LanguageError:
        raise RequestError(
            400, f"{code} is not supported{suggestion(code)} (GET /languages lists them)"
        ) from None


async def _run(api: LibreTranslate, request: Request, work: Callable[[], Any]) -> Any:
    """Admit ``work`` and run it, tg-edge's errors turned into LibreTranslate's statuses and wording."""
    try:
        return await api.service.admission.run(request, work)
    except LanguageError as exc:  # includes DetectionError for source=auto
        raise RequestError(400, str(exc)) from None
    except (InputError, PromptError, ProjectorError) as exc:  # a bad image; a model that cannot read images
        raise RequestError(400, f"Invalid request: {exc}") from None
    except TgEdgeError as exc:
        raise RequestError(500, f"Cannot translate text: {exc}") from None


def _detection_json(detection: Detection) -> dict[str, Any]:
    """A detected language in LibreTranslate's shape (confidence 0–100)."""
    return {"confidence": round(detection.confidence * 100, 1), "language": detection.language.code}


def _languages_json(known: list[Language]) -> bytes:
    """A ``GET /languages`` answer, made once: these languages, each able to translate into every other."""
    codes = [language.code for language in known]
    listing = [
        {"code": lang.code, "name": display_name(lang), "targets": [c for c in codes if c != lang.code]}
        for lang in known
    ]
    return json.dumps(listing, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
