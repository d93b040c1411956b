"""``GET /docs``: the API description in Swagger UI, served offline from the ``swagger-ui-bundle-v2``
package (Swagger UI's own files, Apache-2.0) instead of a CDN.

Without that package ``/docs`` is a small local page pointing at ``/openapi.json``: nothing is ever
loaded from another host.
"""

from __future__ import annotations

from html import escape

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

ASSETS = "/docs/assets"


def add_routes(app: FastAPI) -> None:
    """Serve ``/docs`` (and Swagger UI's files under ``/docs/assets`` when the package is installed)."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        swagger_ui_path = None
    if swagger_ui_path is not None:
        app.mount(ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    bundled = swagger_ui_path is not None

    async def docs(request: Request) -> Response:
        if bundled:
            return get_swagger_ui_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title=f"{app.title} API",
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
                swagger_ui_parameters={"validatorUrl": None},  # its badge would call validator.swagger.io
            )
        return HTMLResponse(_plain_page(app))

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


def _plain_page(app: FastAPI) -> str:
    """A local page listing the routes, for when Swagger UI's files are not installed."""
    rows = "".join(
        f"<li><code>{escape(method)} {escape(path)}</code> {escape(operation.get('summary', ''))}</li>"
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    )
    return (
        f"<!doctype html><meta charset=utf-8><title>{escape(app.title)} API</title>"
        f"<h1>{escape(app.title)} API</h1><p>The full description: <a href=/openapi.json>/openapi.json</a> "
        "(install <code>swagger-ui-bundle-v2</code> for an interactive page here).</p>"
        f"<ul>{rows}</ul>"
    )
