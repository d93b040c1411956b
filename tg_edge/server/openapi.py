"""The API description's request bodies and error responses (FastAPI writes the rest from the routes).

The routes read their fields themselves (JSON, form or query, as LibreTranslate does), so FastAPI
cannot infer the bodies: each API's are written out here.
"""

from __future__ import annotations

from typing import Any


def request_body(schema: dict[str, Any], *, multipart_only: bool = False) -> dict[str, Any]:
    """``openapi_extra`` describing a body of ``schema`` sent as JSON or a form (or only multipart)."""
    forms: dict[str, Any] = {"multipart/form-data": {"schema": schema}}
    if not multipart_only:
        forms = {"application/json": {"schema": schema},
                 "application/x-www-form-urlencoded": {"schema": schema}, **forms}
    return {"requestBody": {"required": True, "content": forms}}


def error_responses(error_schema: dict[str, Any], descriptions: dict[int, str]) -> dict[int | str, Any]:
    """``responses`` for error statuses whose JSON body has ``error_schema``."""
    content = {"application/json": {"schema": error_schema}}
    return {str(status): {"content": content, "description": text} for status, text in descriptions.items()}


# -- LibreTranslate ------------------------------------------------------------------------------------

LIBRETRANSLATE_TRANSLATE = {
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
LIBRETRANSLATE_DETECT = {
    "type": "object",
    "required": ["q"],
    "properties": {"q": {"type": "string", "example": "What language is this?"}, "api_key": {"type": "string"}},
}
LIBRETRANSLATE_FILE = {
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
LIBRETRANSLATE_ERRORS = error_responses(
    {"type": "object", "properties": {"error": {"type": "string"}}},
    {400: "Invalid request", 403: "Invalid API key", 413: "Request body too large",
     429: "Slow down: too many requests queued", 500: "Translation error"},
)
