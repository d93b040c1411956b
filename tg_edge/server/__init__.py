"""``tg-edge serve``: HTTP APIs (LibreTranslate's, DeepL's v2, DeepLX's) over one loaded :class:`~tg_edge.Translator`.

One module per job: ``settings`` (limits, API keys), ``app`` (the app, its socket, serving),
``admission`` (worker pool, queue limit, timeout), ``auth`` (where keys come from, checked before
bodies), ``parsing`` (request fields and limits), ``translation`` (every call into the Translator),
``files`` (uploaded documents translated), ``filestore`` (translated files on disk awaiting download),
``middleware`` (body limit, access log, error handlers), ``connections`` (deadlines for request heads
and bodies, idle connections shed), ``hosts`` (``Host`` checks), ``cors`` (web origins), ``logs``
(what is logged, and quiet library noise), ``errors`` (statuses and each API's error shape),
``openapi`` (request bodies), ``docs`` (``/docs`` offline) and one module per API: ``libretranslate``,
``deepl``, ``deeplx``.
"""

from __future__ import annotations

from .app import create_app, listen, serve
from .settings import ServerSettings, load_api_keys

__all__ = ["ServerSettings", "create_app", "listen", "load_api_keys", "serve"]
