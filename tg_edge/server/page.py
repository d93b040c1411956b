"""The translator page: ``GET /`` and its two static files, served from the package, and its settings.

Everything the page needs comes from this server (a Content-Security-Policy forbids any other origin),
so it works offline. It calls the APIs beside it like any client: the same keys, limits and admission.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..languages.profiles import display_name
from . import files
from .service import Service

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
"""Only this origin: no CDN, font or tracker can load, and no request can leave for another host."""

_MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
}


def add_routes(app: FastAPI, service: Service) -> None:
    """Serve the page at ``/``, its files under ``/page/`` and ``/page/settings``."""
    folder = resources.files(__package__).joinpath("page")
    contents = {name: folder.joinpath(name).read_bytes() for name in _MEDIA_TYPES}

    def static(name: str) -> Response:
        return Response(
            contents[name],
            media_type=_MEDIA_TYPES[name],
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    async def index() -> Response:
        """``GET /``: the translator page."""
        return static("index.html")

    async def asset(name: str) -> Response:
        if name not in contents or name == "index.html":
            return Response("Not Found", status_code=404, media_type="text/plain")
        return static(name)

    async def settings(request: Request) -> Response:
        """``GET /page/settings``: what the page sets itself up with."""
        translation = service.translation
        return JSONResponse(
            {
                "model": translation.model_name,
                "charLimit": service.settings.char_limit,
                "keyRequired": service.settings.keys_required,
                "maxBodyBytes": service.settings.max_body_bytes,
                "formats": files.document_extensions(),
                "images": translation.reads_images,
                "languages": [
                    {"code": language.code, "name": display_name(language)}
                    for language in translation.languages()
                ],
            }
        )

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/page/settings", settings, methods=["GET"], include_in_schema=False)
    app.add_api_route("/page/{name}", asset, methods=["GET"], include_in_schema=False)
