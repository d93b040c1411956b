"""Where a request's API key is found and when it is checked: a key in a header or the query string is
checked before the body is read, so a request with a wrong key costs no parsing; a key in the body
(LibreTranslate's ``api_key``, DeepL's ``auth_key``) is checked once the body is parsed, off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

from .errors import RequestError
from .parsing import read_fields
from .settings import ServerSettings, key_digest


class KeyRefusal:
    """The errors one API answers a missing and a refused key with."""

    def __init__(self, missing: RequestError, invalid: RequestError) -> None:
        self.missing = missing
        self.invalid = invalid


def presented_key(request: Request, schemes: Sequence[str], query: Sequence[str]) -> str | None:
    """The key in the ``Authorization`` header under one of ``schemes`` (lower case), or in a query
    parameter named in ``query``; None when neither holds one."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() in schemes and given.strip():
        return given.strip()
    return next((request.query_params[name] for name in query if request.query_params.get(name)), None)


async def authorized_fields(
    request: Request,
    settings: ServerSettings,
    refusal: KeyRefusal,
    *,
    schemes: Sequence[str],
    fields: Sequence[str],
    repeatable: frozenset[str] = frozenset(),
) -> tuple[dict[str, Any], bytes | None]:
    """The request's fields, and the digest of its accepted key (None when the server needs none).

    The key comes from the header (``schemes``), else the query or body field named in ``fields``.
    """
    if not settings.keys_required:
        return await read_fields(request, repeatable=repeatable), None
    key = presented_key(request, schemes, fields)
    if key is not None and not settings.accepts_key(key):
        raise refusal.invalid  # before the body is read
    parsed = await read_fields(request, repeatable=repeatable)
    if key is None:
        given = next((parsed[name] for name in fields if parsed.get(name)), None)
        if not isinstance(given, str):
            raise refusal.missing
        if not settings.accepts_key(given):
            raise refusal.invalid
        key = given
    return parsed, key_digest(key)
