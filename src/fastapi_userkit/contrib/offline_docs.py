"""Serve the host app's interactive documentation without a CDN.

FastAPI's `/docs` (Swagger UI) and `/redoc` pages load their JavaScript and CSS from a
CDN, so behind a firewall or offline they stay blank. `serve_docs_offline(app)` serves
the same pages from files shipped in the `fastapi-offline` package (extra
`[offline-docs]`), on an app that already exists, the kit's routes and the Authorize
dialog included.
"""

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse
from starlette.routing import Route

from fastapi_userkit.exceptions import ConfigurationError

__all__ = ["serve_docs_offline"]


def _assets() -> Path:
    try:
        import fastapi_offline
    except ImportError:
        raise ConfigurationError(
            "serve_docs_offline() needs the fastapi-offline package: pip install "
            '"fastapi-userkit[offline-docs]"'
        ) from None
    return Path(fastapi_offline.__file__).parent / "static"


def serve_docs_offline(app: FastAPI, *, static_url: str = "/docs-static") -> None:
    """Serve *app*'s `/docs` and `/redoc` pages with local assets, under *static_url*.

    The pages keep the app's own paths (`docs_url`, `redoc_url`, `openapi_url`), its
    Swagger UI parameters and OAuth2 settings; an app built with `docs_url=None` (or
    `redoc_url=None`) keeps that page off. Call it once, after creating the app.

    Raises:
        ConfigurationError: the `fastapi-offline` package is not installed.
    """
    assets = _assets()
    pages = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    app.router.routes[:] = [
        route
        for route in app.router.routes
        if not (isinstance(route, Route) and route.path in pages)
    ]
    app.mount(static_url, StaticFiles(directory=assets), name="docs-static")
    favicon = f"{static_url}/favicon.png"

    if app.docs_url is not None and app.openapi_url is not None:
        openapi_url, redirect_url = app.openapi_url, app.swagger_ui_oauth2_redirect_url

        async def swagger_ui(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            return get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{app.title} - Swagger UI",
                oauth2_redirect_url=f"{root}{redirect_url}" if redirect_url else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_js_url=f"{root}{static_url}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{static_url}/swagger-ui.css",
                swagger_favicon_url=f"{root}{favicon}",
                swagger_ui_parameters=app.swagger_ui_parameters,
            )

        app.add_route(app.docs_url, swagger_ui, include_in_schema=False)
        if redirect_url is not None:

            async def oauth2_redirect(request: Request) -> HTMLResponse:
                return get_swagger_ui_oauth2_redirect_html()

            app.add_route(redirect_url, oauth2_redirect, include_in_schema=False)

    if app.redoc_url is not None and app.openapi_url is not None:
        redoc_openapi = app.openapi_url

        async def redoc(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "")
            return get_redoc_html(
                openapi_url=f"{root}{redoc_openapi}",
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{static_url}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{favicon}",
                with_google_fonts=False,
            )

        app.add_route(app.redoc_url, redoc, include_in_schema=False)
