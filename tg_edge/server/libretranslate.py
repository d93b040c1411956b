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
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import formats
from ..coverage import display_name
from ..detect import Detection
from ..errors import DetectionError, InputError, LanguageError, ProjectorError, PromptError, TgEdgeError
from ..languages import Language, suggestion
from . import files, openapi
from .admission import current_cancellation
from .errors import ErrorShapes, RequestError
from .files import FileStore, StoredFile
from .parsing import (
    check_limits,
    document_limits,
    jsonl_fields,
    optional_count,
    optional_string,
    read_fields,
    required_string,
)
from .service import Service


@dataclass(frozen=True)
class LibreTranslate:
    """The API's state on ``app.state.libretranslate``: the shared service, files awaiting download, the listings."""

    service: Service
    files: FileStore
    languages_json: bytes
    """``GET /languages``: the languages the loaded model is made for (a few tens of KB)."""
    all_languages_json: bytes
    """``GET /languages?all=true``: every code the server accepts (megabytes: each lists all as targets)."""


def add_routes(app: FastAPI, service: Service, errors: ErrorShapes) -> None:
    """Serve LibreTranslate's endpoints from ``app``; errors anywhere not claimed by another API take its shape."""
    errors.add("/", error_body)
    app.state.libretranslate = LibreTranslate(
        service,
        FileStore(),
        _languages_json(service.translation.languages()),
        _languages_json(service.translation.languages(every=True)),
    )
    post: dict[str, Any] = {
        "methods": ["POST"],
        "tags": ["translate"],
        "responses": openapi.LIBRETRANSLATE_ERRORS,
    }
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


def error_body(message: str) -> dict[str, str]:
    """LibreTranslate's error body."""
    return {"error": message}


# -- endpoints ------------------------------------------------------------------------------------------


async def translate(request: Request) -> Response:
    """``POST /translate``: one text (``q``) or a batch, plain or HTML, from a language or ``auto``."""
    api = _api(request)
    fields = await _authorized_fields(api, request)
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
    translation = api.service.translation

    def work() -> tuple[list[Any], Detection | None]:
        if text_format == "html":
            limits = document_limits(api.service.settings, current_cancellation())
            documents = [formats.read(t, f"q[{i}]", "html", limits=limits) for i, t in enumerate(texts)]
            return translation.translate_documents(documents, source=source, target=target)
        return translation.translate_texts(texts, source=source, target=target)

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
    fields, upload = await _upload(api, request, "Invalid request: missing file parameter")
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

    def work() -> bytes:
        return files.translate_upload(
            api.service, data, filename, file_format, source=source, target=target, options=options
        )[0]

    translated = await _run(api, request, work)
    token = api.files.put(StoredFile(filename, translated, upload.content_type or "application/octet-stream"))
    return JSONResponse(
        {"translatedFileUrl": f"{str(request.base_url).rstrip('/')}/download_file/{token}/{quote(filename)}"}
    )


async def translate_image(request: Request) -> Response:
    """``POST /translate_image`` (tg-edge's own): the text in an uploaded image (``file``), translated. Images
    come as uploads only; the server never fetches a URL."""
    api = _api(request)
    fields, upload = await _upload(
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
    """``GET /download_file/{token}/{filename}``: a file ``/translate_file`` translated (kept for an hour)."""
    stored = _api(request).files.get(token)
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


async def _authorized_fields(api: LibreTranslate, request: Request) -> dict[str, Any]:
    """The request's fields (``q`` may repeat), once it carries an accepted key where keys are required."""
    fields = await read_fields(request, repeatable=frozenset({"q"}))
    settings = api.service.settings
    if settings.keys_required:
        given = fields.get("api_key")
        if not given:
            authorization = request.headers.get("authorization", "")
            given = authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
        if not given or not isinstance(given, str):
            raise RequestError(400, "Please contact the server operator to get an API key")
        if not settings.accepts_key(given):
            raise RequestError(403, "Invalid API key")
    return fields


async def _upload(api: LibreTranslate, request: Request, missing: str) -> tuple[dict[str, Any], UploadFile]:
    """The request's fields and its uploaded ``file`` (``missing``: the error when there is none)."""
    fields = await _authorized_fields(api, request)
    upload = fields.get("file")
    if not isinstance(upload, UploadFile):
        raise RequestError(400, missing)
    return fields, upload


def _languages(api: LibreTranslate, source: str, target: str) -> tuple[Language | None, Language]:
    """The source (None for ``auto``) and target languages, in LibreTranslate's wording when unknown."""
    target_language = _language(api, target)
    return (None if source.strip().lower() == "auto" else _language(api, source)), target_language


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
