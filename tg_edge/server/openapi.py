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
        forms = {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema},
            **forms,
        }
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
        "q": {
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
            "description": "Text(s) to translate",
            "example": "Hello world!",
        },
        "source": {"type": "string", "example": "en", "description": "Source language code, or auto"},
        "target": {"type": "string", "example": "de", "description": "Target language code"},
        "format": {"type": "string", "enum": ["text", "html"], "default": "text"},
        "alternatives": {
            "type": "integer",
            "default": 0,
            "description": "Alternative translations wanted (greedy decoding gives none)",
        },
        "api_key": {"type": "string", "description": "API key, when the server requires one"},
    },
}
LIBRETRANSLATE_DETECT = {
    "type": "object",
    "required": ["q"],
    "properties": {
        "q": {"type": "string", "example": "What language is this?"},
        "api_key": {"type": "string"},
    },
}
LIBRETRANSLATE_FILE = {
    "type": "object",
    "required": ["file", "source", "target"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "source": {"type": "string", "example": "en"},
        "target": {"type": "string", "example": "de"},
        "api_key": {"type": "string"},
        "fields": {
            "type": "string",
            "example": "instruction,output",
            "description": "For .jsonl files: the string fields to translate (tg-edge's own field)",
        },
    },
}
TRANSLATE_IMAGE = {
    "type": "object",
    "required": ["file", "source", "target"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "The image: PNG, JPEG, WebP, GIF, BMP or TIFF (uploaded; URLs are never fetched)",
        },
        "source": {"type": "string", "example": "ja", "description": "The language of the text in the image"},
        "target": {"type": "string", "example": "en"},
        "api_key": {"type": "string"},
    },
}
LIBRETRANSLATE_ERRORS = error_responses(
    {"type": "object", "properties": {"error": {"type": "string"}}},
    {
        400: "Invalid request",
        403: "Invalid API key",
        413: "Request body too large",
        429: "Slow down: too many requests queued",
        500: "Translation error",
    },
)


# -- DeepL API v2 ----------------------------------------------------------------------------------------

DEEPL_TRANSLATE = {
    "type": "object",
    "required": ["text", "target_lang"],
    "properties": {
        "text": {
            "type": "array",
            "items": {"type": "string"},
            "example": ["Hello world!"],
            "description": "Text(s) to translate (a form field may repeat)",
        },
        "target_lang": {
            "type": "string",
            "example": "DE",
            "description": "Target language (EN-US, PT-BR, ZH-HANT, ...)",
        },
        "source_lang": {
            "type": "string",
            "example": "EN",
            "description": "Source language; absent: detected",
        },
        "tag_handling": {
            "type": "string",
            "enum": ["html", "xml"],
            "description": "Keep markup, translate text",
        },
        "split_sentences": {"type": "string", "enum": ["0", "1", "nonewlines"], "description": "Accepted"},
        "preserve_formatting": {"type": "boolean", "description": "Accepted (formatting is always kept)"},
        "formality": {"type": "string", "enum": ["default", "prefer_more", "prefer_less"]},
        "context": {"type": "string", "description": "Accepted and not translated"},
    },
}
DEEPL_DOCUMENT = {
    "type": "object",
    "required": ["file", "target_lang"],
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "target_lang": {"type": "string", "example": "DE"},
        "source_lang": {"type": "string", "example": "EN", "description": "Absent: detected"},
        "filename": {"type": "string", "description": "The file's name, when the upload has none"},
    },
}
DEEPL_ERRORS = error_responses(
    {"type": "object", "properties": {"message": {"type": "string"}}},
    {
        400: "Bad request",
        403: "Authorization failure",
        413: "Request too large",
        429: "Too many requests",
        500: "Translation error",
    },
)


# -- DeepLX ---------------------------------------------------------------------------------------------

DEEPLX_TRANSLATE = {
    "type": "object",
    "required": ["text", "target_lang"],
    "properties": {
        "text": {"type": "string", "example": "Hello world!"},
        "source_lang": {"type": "string", "example": "EN", "description": "auto or empty: detected"},
        "target_lang": {"type": "string", "example": "DE"},
    },
}
