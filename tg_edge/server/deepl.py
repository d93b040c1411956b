"""A subset of DeepL's API v2: ``/v2/translate``, ``/v2/languages``, ``/v2/usage``, ``/v2/document``;
DeepL's statuses and ``{"message": ...}`` error bodies.

Apps that let users set a DeepL server URL (and the official ``deepl`` clients with ``server_url``)
work against tg-edge unchanged. Languages in DeepL's spelling (``EN-US``, ``PT-BR``, ``ZH-HANT``) are
resolved like any other code; without ``source_lang`` the language is always guessed, never refused.
Admission, parsing, limits and the translator are the ones LibreTranslate's API uses. A document
is translated while its upload waits for the answer (as ``/translate_file`` does), so its status is
``done`` at once and the result is kept for an hour.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import formats
from ..errors import InputError, LanguageError, TgEdgeError
from ..languages import Language
from ..languages.profiles import display_name
from . import deepl_glossaries, files, openapi
from .admission import current_cancellation
from .deepl_access import DeepL, api_of, authorized, language_of
from .errors import ErrorShapes, RequestError
from .filestore import StoredFile
from .parsing import check_limits, document_limits, optional_string
from .service import Service

USAGE_LIMIT = 10**12
"""``/v2/usage``'s ``character_limit``: a local server has no quota (``char_limit`` bounds one request)."""

_FORMALITIES = ("default", "prefer_more", "prefer_less")  # "more"/"less" demand what a prompt cannot promise
_SPLIT_SENTENCES = ("0", "1", "nonewlines")
_NOT_FOUND = "Document not found (translated documents are kept for an hour)."

# DeepL's spelling of the codes that differ from upper-casing tg-edge's, per direction.
_SOURCE_CODES = {"no": "NB"}
_TARGET_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (("EN-GB", "English (British)"), ("EN-US", "English (American)")),
    "pt": (("PT-BR", "Portuguese (Brazilian)"), ("PT-PT", "Portuguese (European)")),
    "pt-BR": (("PT-BR", "Portuguese (Brazilian)"),),
    "no": (("NB", "Norwegian Bokmål"),),
    "zh-Hans": (("ZH", "Chinese"), ("ZH-HANS", "Chinese (Simplified)")),
    "fil-PH": (("FIL", "Filipino"),),
}


def add_routes(app: FastAPI, service: Service, errors: ErrorShapes) -> None:
    """Serve DeepL's v2 endpoints from ``app``; errors under ``/v2`` take DeepL's shape."""
    errors.add("/v2", error_body)
    app.state.deepl = DeepL(service)
    common: dict[str, Any] = {"tags": ["deepl"], "responses": openapi.DEEPL_ERRORS}
    app.add_api_route(
        "/v2/translate",
        translate,
        methods=["POST"],
        summary="Translate text (DeepL API v2)",
        openapi_extra=openapi.request_body(openapi.DEEPL_TRANSLATE),
        **common,
    )
    for method in ("GET", "POST"):  # one route each: an operation id per method
        app.add_api_route(
            "/v2/languages",
            languages,
            methods=[method],
            operation_id=f"deepl_languages_{method}",
            summary="Source or target languages (DeepL API v2)",
            **common,
        )
        app.add_api_route(
            "/v2/usage",
            usage,
            methods=[method],
            operation_id=f"deepl_usage_{method}",
            summary="Characters translated since the server started (DeepL API v2)",
            **common,
        )
    app.add_api_route(
        "/v2/document",
        document_upload,
        methods=["POST"],
        summary="Translate a document",
        openapi_extra=openapi.request_body(openapi.DEEPL_DOCUMENT, multipart_only=True),
        **common,
    )
    app.add_api_route(
        "/v2/document/{document_id}",
        document_status,
        methods=["POST"],
        summary="A document translation's status",
        **common,
    )
    app.add_api_route(
        "/v2/document/{document_id}/result",
        document_result,
        methods=["POST"],
        summary="Download a translated document",
        **common,
    )


def error_body(message: str) -> dict[str, str]:
    """DeepL's error body."""
    return {"message": message}


# -- endpoints ------------------------------------------------------------------------------------------


async def translate(request: Request) -> Response:
    """``POST /v2/translate``: ``text`` (repeated or an array) into ``target_lang``, plain or HTML/XML."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    texts = _texts(fields)
    target_code = optional_string(fields, "target_lang")
    if not target_code:
        raise RequestError(400, "Parameter 'target_lang' not specified.")
    source_code = optional_string(fields, "source_lang")
    tag_handling = optional_string(fields, "tag_handling")
    if tag_handling not in (None, "", "html", "xml"):
        raise RequestError(400, "Value for 'tag_handling' not supported (html or xml).")
    _check_options(fields)
    check_limits(texts, api.service.settings, status=413)
    target = language_of(api, target_code, "target_lang")
    source = language_of(api, source_code, "source_lang") if source_code else None
    terms = deepl_glossaries.requested_terms(request, fields, owner, source, target)
    translation = api.service.translation

    def work() -> tuple[list[Any], str]:
        limits = document_limits(api.service.settings, current_cancellation())
        documents = (
            [formats.read(t, f"text[{i}]", "html", limits=limits) for i, t in enumerate(texts)]
            if tag_handling
            else None
        )
        sample = [s.text for d in documents for s in d.segments] if documents is not None else texts
        src = source or translation.guess_source(sample).language
        rendered: Sequence[str | bytes]
        if documents is not None:
            rendered, _ = translation.translate_documents(documents, source=src, target=target, terms=terms)
        else:
            rendered, _ = translation.translate_texts(texts, source=src, target=target, terms=terms)
        return rendered, source_code_of(src)

    rendered, detected = await _run(api, request, work)
    return JSONResponse(
        {
            "translations": [
                {
                    "detected_source_language": detected,
                    "text": text if isinstance(text, str) else text.decode("utf-8"),
                    "billed_characters": len(original),
                }
                for text, original in zip(rendered, texts, strict=True)
            ]
        }
    )


async def languages(request: Request) -> Response:
    """``GET|POST /v2/languages?type=source|target``: the loaded model's languages in DeepL's spelling."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    kind = optional_string(fields, "type") or "source"
    if kind not in ("source", "target"):
        raise RequestError(400, "Value for 'type' not supported (source or target).")
    known = api.service.translation.languages()
    listing: dict[str, dict[str, Any]] = {}
    for language in known:
        if kind == "source":
            code = source_code_of(language)
            listing.setdefault(code, {"language": code, "name": language.name})
        else:
            for code, name in target_codes_of(language):
                listing.setdefault(code, {"language": code, "name": name, "supports_formality": False})
    return JSONResponse(sorted(listing.values(), key=lambda entry: entry["language"]))


async def usage(request: Request) -> Response:
    """``GET|POST /v2/usage``: characters translated since the server started, by both APIs."""
    api = api_of(request)
    await authorized(api, request)
    return JSONResponse(
        {"character_count": api.service.translation.characters, "character_limit": USAGE_LIMIT}
    )


async def document_upload(request: Request) -> Response:
    """``POST /v2/document``: a file in any format tg-edge reads, translated before the answer comes."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    upload = fields.get("file")
    if not isinstance(upload, UploadFile):
        raise RequestError(400, "Parameter 'file' not specified.")
    filename = PurePath(optional_string(fields, "filename") or upload.filename or "").name
    file_format = files.file_format(filename)
    if file_format is None or file_format == "jsonl":  # a JSONL file needs tg-edge's own fields parameter
        raise RequestError(
            400,
            f"File type not supported: {PurePath(filename).suffix or 'no extension'} "
            f"(this server reads {', '.join(files.document_extensions())}; .jsonl through "
            "/translate_file).",
        )
    output_format = optional_string(fields, "output_format")
    if output_format and output_format.lower().lstrip(".") != PurePath(filename).suffix.lower().lstrip("."):
        raise RequestError(
            400, "Value for 'output_format' not supported: the translation keeps the file's format."
        )
    target_code = optional_string(fields, "target_lang")
    if not target_code:
        raise RequestError(400, "Parameter 'target_lang' not specified.")
    source_code = optional_string(fields, "source_lang")
    _check_options(fields)
    target = language_of(api, target_code, "target_lang")
    source = language_of(api, source_code, "source_lang") if source_code else None
    terms = deepl_glossaries.requested_terms(request, fields, owner, source, target)
    data = await upload.read()
    await upload.close()

    media_type = upload.content_type or "application/octet-stream"
    api.service.files.check_room(owner)

    def work() -> str:
        translated, characters = files.translate_upload(
            api.service,
            data,
            filename,
            file_format,
            source=source,
            target=target,
            options={},
            guess=True,
            limit_status=413,
            terms=terms,
        )
        return api.service.files.put(StoredFile(filename, translated, media_type, characters), owner)

    document_id = await _run(api, request, work)
    return JSONResponse({"document_id": document_id, "document_key": api.document_key(document_id)})


async def document_status(request: Request, document_id: str) -> Response:
    """``POST /v2/document/{document_id}``: always ``done`` (documents are translated during their upload)."""
    stored = await _document(request, document_id)
    return JSONResponse(
        {"document_id": document_id, "status": "done", "billed_characters": stored.characters}
    )


async def document_result(request: Request, document_id: str) -> Response:
    """``POST /v2/document/{document_id}/result``: the translated file."""
    stored = await _document(request, document_id)
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return Response(stored.data, media_type=stored.media_type, headers={"Content-Disposition": disposition})


# -- languages in DeepL's spelling ----------------------------------------------------------------------


def source_code_of(language: Language) -> str:
    """DeepL's source code for ``language``: its base code upper-cased (``zh-Hant`` → ``ZH``, ``no`` → ``NB``)."""
    base = language.base
    return _SOURCE_CODES.get(base, base.upper())


def target_codes_of(language: Language) -> tuple[tuple[str, str], ...]:
    """DeepL's target codes and names for ``language`` (``en`` → ``EN-GB`` and ``EN-US``)."""
    return _TARGET_CODES.get(language.code) or ((language.code.upper(), display_name(language)),)


# -- helpers ----------------------------------------------------------------------------------------------


async def _document(request: Request, document_id: str) -> StoredFile:
    """The translated document ``document_id``, once the request shows its ``document_key`` (and, when keys
    are on, the key that uploaded it)."""
    api = api_of(request)
    fields, owner = await authorized(api, request)
    key = (optional_string(fields, "document_key") or "").encode("utf-8", "replace")
    if not hmac.compare_digest(key, api.document_key(document_id).encode()):
        raise RequestError(404, _NOT_FOUND)
    stored = await run_in_threadpool(api.service.files.get, document_id, owner)
    if stored is None:
        raise RequestError(404, _NOT_FOUND)
    return stored


def _texts(fields: dict[str, Any]) -> list[str]:
    text = fields.get("text")
    texts = text if isinstance(text, list) else [text] if text is not None else []
    if not texts or texts == [""]:
        raise RequestError(400, "Parameter 'text' not specified.")
    if not all(isinstance(t, str) for t in texts):
        raise RequestError(400, "Parameter 'text' must be a string or an array of strings.")
    return texts


def _check_options(fields: dict[str, Any]) -> None:
    """Refuse what tg-edge cannot honour; the rest (``preserve_formatting``, ``context``, tag lists) is
    accepted: the segmenter keeps formatting, and context is not translated."""
    formality = optional_string(fields, "formality")
    if formality not in (None, "", *_FORMALITIES):
        raise RequestError(
            400,
            "'formality' is not supported for given 'target_lang' "
            "(tg-edge accepts default, prefer_more and prefer_less).",
        )
    if str(fields.get("split_sentences", "1")) not in _SPLIT_SENTENCES:
        raise RequestError(400, "Value for 'split_sentences' not supported (0, 1 or nonewlines).")


async def _run(api: DeepL, request: Request, work: Callable[[], Any]) -> Any:
    """Admit ``work`` and run it, tg-edge's errors turned into DeepL's statuses."""
    try:
        return await api.service.admission.run(request, work)
    except LanguageError as exc:
        raise RequestError(400, str(exc)) from None
    except InputError as exc:
        raise RequestError(400, f"Bad request: {exc}") from None
    except TgEdgeError as exc:
        raise RequestError(500, f"Translation failed: {exc}") from None
