"""``tg-edge serve``: HTTP APIs (LibreTranslate's, DeepL's v2) over one loaded :class:`~tg_edge.Translator`.

One module per job: ``settings`` (limits, API keys), ``app`` (the app, its socket, serving),
``admission`` (worker pool, queue limit, timeout), ``parsing`` (request fields and limits),
``translation`` (every call into the Translator), ``files`` (translated files awaiting download),
``middleware`` (body limit, access log, error handlers), ``errors`` (statuses and each API's error
shape), ``openapi`` (request bodies) and one module per API: ``libretranslate``, ``deepl``.
"""

from __future__ import annotations

from .app import create_app, listen, serve
from .settings import ServerSettings, load_api_keys

__all__ = ["ServerSettings", "create_app", "listen", "load_api_keys", "serve"]
