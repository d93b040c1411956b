"""DeepLX's API, which many subtitle, PDF and reader apps call for a local translator.

``POST /translate`` (shared with LibreTranslate's route: a body with ``text`` and ``target_lang`` and no
``q`` is DeepLX's) and ``POST /deeplx/translate`` take ``{"text", "source_lang", "target_lang"}``
(DeepL's codes in any case; ``auto`` or empty source: detected) and answer
``{"code": 200, "id", "data", "alternatives": [], "source_lang", "target_lang", "method": "tg-edge"}``.
When the server needs keys, the key comes as ``Authorization: Bearer KEY`` or ``?token=KEY``.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..errors import InputError, LanguageError, TgEdgeError
from ..languages import Language
from . import openapi
from .auth import KeyRefusal, authorized_fields
from .deepl import source_code_of
from .errors import ErrorShapes, RequestError
from .parsing import check_limits, optional_string
from .service import Service

_REFUSAL = KeyRefusal(*[RequestError(401, "Invalid access token")] * 2)


def add_routes(app: FastAPI, service: Service, errors: ErrorShapes) -> None:
    """Serve ``/deeplx/translate`` (``/translate`` hands DeepLX's bodies here too); errors under ``/deeplx``
    take DeepLX's shape."""
    errors.add("/deeplx", error_body)
    app.add_api_route(
        "/deeplx/translate",
        translate,
        methods=["POST"],
        tags=["deeplx"],
        summary="Translate text (DeepLX)",
        openapi_extra=openapi.request_body(openapi.DEEPLX_TRANSLATE),
    )


def error_body(message: str) -> dict[str, str]:
    """DeepLX's error body."""
    return {"message": message}


def asks(fields: dict[str, Any]) -> bool:
    """Whether a ``/translate`` body is DeepLX's (``text`` and ``target_lang``) rather than LibreTranslate's."""
    return "q" not in fields and "text" in fields and "target_lang" in fields


async def translate(request: Request) -> Response:
    """``POST /deeplx/translate``."""
    service: Service = request.app.state.service
    fields, _ = await authorized_fields(
        request, service.settings, _REFUSAL, schemes=("bearer",), fields=("token",)
    )
    return await answer(request, service, fields)


async def answer(request: Request, service: Service, fields: dict[str, Any]) -> Response:
    """The DeepLX answer to ``fields`` (already authorized)."""
    text = optional_string(fields, "text")
    if not text:
        raise RequestError(400, "Invalid request: missing text parameter")
    target_code = optional_string(fields, "target_lang")
    if not target_code:
        raise RequestError(400, "Invalid request: missing target_lang parameter")
    source_code = (optional_string(fields, "source_lang") or "").strip()
    check_limits([text], service.settings)
    target = _language(service, target_code)
    source = None if source_code.lower() in ("", "auto") else _language(service, source_code)
    translation = service.translation

    def work() -> tuple[str, Language]:
        src = source or translation.guess_source([text]).language
        translated, _ = translation.translate_texts([text], source=src, target=target)
        return translated[0], src

    try:
        translated, detected = await service.admission.run(request, work)
    except (LanguageError, InputError) as exc:
        raise RequestError(400, f"Invalid request: {exc}") from None
    except TgEdgeError as exc:
        raise RequestError(500, f"Translation failed: {exc}") from None
    return JSONResponse(
        {
            "code": 200,
            "id": secrets.randbelow(10**10),
            "data": translated,
            "alternatives": [],
            "source_lang": source_code_of(detected),
            "target_lang": target_code.upper(),
            "method": "tg-edge",
        }
    )


def _language(service: Service, code: str) -> Language:
    try:
        return service.translation.language(code)
    except LanguageError:
        raise RequestError(400, f"Invalid request: language {code} is not supported") from None
