"""`serve_docs_offline`: the host's /docs and /redoc pages with assets served locally."""

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fastapi_userkit.contrib.offline_docs import serve_docs_offline
from tests.conftest import Host

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

pytest.importorskip("fastapi_offline")


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)


async def test_docs_pages_load_nothing_from_another_host(make_host: Any) -> None:
    app = FastAPI(title="Shop")
    serve_docs_offline(app)
    h: Host = await make_host(app)
    docs = await h.client.get("/docs")
    assert docs.status_code == 200
    assert "Shop - Swagger UI" in docs.text
    urls = _asset_urls(docs.text)
    assert "/docs-static/swagger-ui-bundle.js" in urls
    assert "/docs-static/swagger-ui.css" in urls
    assert not [url for url in urls if url.startswith(("http:", "https:", "//"))]
    for url in ("/docs-static/swagger-ui-bundle.js", "/docs-static/swagger-ui.css"):
        asset = await h.client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100_000
    redoc = await h.client.get("/redoc")
    assert "/docs-static/redoc.standalone.js" in redoc.text
    assert "fonts.googleapis.com" not in redoc.text
    assert (await h.client.get("/docs-static/redoc.standalone.js")).status_code == 200
    assert (await h.client.get("/docs/oauth2-redirect")).status_code == 200
    # the kit's routes and its login form are in the schema the page reads
    schema = (await h.client.get("/openapi.json")).json()
    assert "/auth/jwt/login" in schema["paths"]


async def test_pages_the_app_turned_off_stay_off(make_host: Any) -> None:
    app = FastAPI(redoc_url=None, docs_url="/api-docs")
    serve_docs_offline(app, static_url="/assets/docs")
    h: Host = await make_host(app)
    assert (await h.client.get("/redoc")).status_code == 404
    assert (await h.client.get("/docs")).status_code == 404
    page = await h.client.get("/api-docs")
    assert "/assets/docs/swagger-ui-bundle.js" in page.text


async def test_behind_a_root_path() -> None:
    app = FastAPI()
    serve_docs_offline(app)
    transport = httpx.ASGITransport(app=app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/api/docs")
    assert "/api/docs-static/swagger-ui-bundle.js" in page.text
    assert "/api/openapi.json" in page.text
