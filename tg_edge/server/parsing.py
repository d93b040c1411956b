"""Reading a request's parameters: JSON, form or query fields, typed getters, the size limits, uploads.

Every problem is a :class:`~tg_edge.server.errors.RequestError` (400); the API the request came to
gives the error body its shape.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from ..cancel import Cancellation
from ..errors import InputError
from ..fileio import decode_utf8
from ..formats import Limits, jsonl
from .errors import RequestError
from .settings import ServerSettings

MAX_FIELDS = 1000
"""Most fields a form body may hold (a multipart one: 64); more is refused before they are parsed."""


async def read_fields(request: Request, *, repeatable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The request's parameters: query string, overridden by a JSON or form body.

    A JSON object sent without a JSON content type (``curl -d '{...}'``) is read as JSON too. A form
    field named in ``repeatable`` and given several times becomes a list; otherwise the first counts.
    A JSON or URL-encoded body is parsed on a worker thread, so a large one never stalls the server.
    """
    fields: dict[str, Any] = dict(request.query_params.items())
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=64)
        except StarletteHTTPException as exc:
            raise RequestError(400, f"Invalid request: {exc.detail}") from None
        for key in form:
            form_values = form.getlist(key)
            fields[key] = form_values if key in repeatable and len(form_values) > 1 else form_values[0]
        return fields
    body = await request.body()
    if body.strip():
        fields.update(await run_in_threadpool(_body_fields, body, content_type, repeatable))
    return fields


def _body_fields(body: bytes, content_type: str, repeatable: frozenset[str]) -> dict[str, Any]:
    """The fields of a non-empty JSON or URL-encoded body."""
    declared_json = content_type == "application/json" or content_type.endswith("+json")
    if declared_json or body.lstrip()[:1] == b"{":
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            if declared_json:
                raise RequestError(400, f"Invalid JSON format: {exc}") from None
        except RecursionError:
            raise RequestError(400, "Invalid JSON format: nested too deeply") from None
        else:
            if not isinstance(data, dict):
                raise RequestError(400, "Invalid JSON format: the body must be a JSON object")
            return data
        # not JSON after all: read it as a form
    try:
        text = body.decode("utf-8")
        pairs = parse_qs(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except UnicodeDecodeError:
        raise RequestError(400, "Invalid request: the body is not UTF-8") from None
    except ValueError:
        raise RequestError(400, f"Invalid request: more than {MAX_FIELDS} form fields") from None
    return {
        key: values if key in repeatable and len(values) > 1 else values[0] for key, values in pairs.items()
    }


def required_string(fields: dict[str, Any], name: str) -> str:
    """The non-empty string field ``name``."""
    value = optional_string(fields, name)
    if not value:
        raise RequestError(400, f"Invalid request: missing {name} parameter")
    return value


def optional_string(fields: dict[str, Any], name: str) -> str | None:
    """The string field ``name``, or None when absent."""
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RequestError(400, f"Invalid request: {name} must be a string")
    return value


def optional_count(fields: dict[str, Any], name: str) -> int:
    """The whole number in field ``name`` (0 when absent or empty; negative numbers count as 0)."""
    value = fields.get(name)
    if value in (None, ""):
        return 0
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        raise RequestError(400, f"Invalid request: {name} parameter is not a number") from None


def check_limits(texts: Sequence[str], settings: ServerSettings, *, status: int = 400) -> None:
    """Refuse (with ``status``) more texts than ``batch_limit`` or more characters than ``char_limit``."""
    if settings.batch_limit != -1 and len(texts) > settings.batch_limit:
        raise RequestError(
            status, f"Invalid request: request ({len(texts)}) exceeds text limit ({settings.batch_limit})"
        )
    size = sum(len(t) for t in texts)
    if settings.char_limit != -1 and size > settings.char_limit:
        raise RequestError(
            status, f"Invalid request: request ({size}) exceeds text limit ({settings.char_limit})"
        )


def document_limits(settings: ServerSettings, cancel: Cancellation | None) -> Limits:
    """What reading one request's document may produce: the server's limits, checked while it is read."""
    return Limits(
        max_chars=None if settings.char_limit == -1 else settings.char_limit,
        max_segments=None if settings.segment_limit == -1 else settings.segment_limit,
        max_unpacked=settings.max_unpacked_bytes,
        cancel=cancel,
    )


def jsonl_fields(fields: dict[str, Any], name: str = "fields") -> str:
    """The request field ``name`` that tells which JSONL string fields to translate (tg-edge's own field).

    Checked before the upload is read, and worded for an HTTP client, which names a form field,
    not the command line's ``--fields``.
    """
    spec = optional_string(fields, name)
    example = f"e.g. {name}=instruction,output or {name}=messages.*.content"
    try:
        paths = jsonl.parse_fields(spec)
    except InputError:
        raise RequestError(
            400, f"Invalid request: bad {name} field {spec!r}: give dotted field names, {example}"
        ) from None
    if spec is None or not paths:
        raise RequestError(
            400,
            f"Invalid request: a .jsonl file needs the form field {name!r} to say which "
            f"string fields to translate, {example}",
        )
    return spec


def upload_text(data: bytes, filename: str) -> str:
    """An uploaded text file's content: UTF-8, a leading byte order mark dropped."""
    try:
        return decode_utf8(data.removeprefix(codecs.BOM_UTF8), filename)
    except InputError as exc:
        raise RequestError(400, f"Invalid request: {exc}") from None
