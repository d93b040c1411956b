"""What DeepL's text, document and glossary routes share: the API's state on the app, its key check and its
language check, once for the whole API (:mod:`.deepl` and :mod:`.deepl_glossaries` both use them)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from ..errors import LanguageError
from ..languages import Language
from .auth import KeyRefusal, authorized_fields
from .errors import RequestError
from .service import Service

_AUTH_FAILURE = "Authorization failure: send an accepted key as 'Authorization: DeepL-Auth-Key KEY'."
_REFUSAL = KeyRefusal(*[RequestError(403, _AUTH_FAILURE)] * 2)


@dataclass(frozen=True)
class DeepL:
    """The API's state on ``app.state.deepl``: the shared service (its file store keeps the documents)."""

    service: Service

    def document_key(self, document_id: str) -> str:
        """A document's key: an HMAC of its id under the store's secret (kept across restarts)."""
        return hmac.new(self.service.files.secret, document_id.encode(), hashlib.sha256).hexdigest()


def api_of(request: Request) -> DeepL:
    """The DeepL API's state of the app serving ``request``."""
    api: DeepL = request.app.state.deepl  # Starlette's state holds Any
    return api


async def authorized(api: DeepL, request: Request) -> tuple[dict[str, Any], bytes | None]:
    """The request's fields and its key's digest (None when keys are off), once it carries an accepted key
    (``Authorization: DeepL-Auth-Key KEY`` or the older ``auth_key`` field) where keys are required."""
    return await authorized_fields(
        request,
        api.service.settings,
        _REFUSAL,
        schemes=("deepl-auth-key",),
        fields=("auth_key",),
        repeatable=frozenset({"text"}),
    )


def language_of(api: DeepL, code: str, field: str) -> Language:
    """The language DeepL's ``code`` in request field ``field`` names; an unknown one is a 400."""
    try:
        return api.service.translation.language(code)
    except LanguageError:
        raise RequestError(
            400, f"Value for '{field}' not supported: {code} (GET /v2/languages lists them)."
        ) from None
