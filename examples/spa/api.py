"""The API of the single-page app in this folder: cookie transport, called from another
origin (see README.md).

The page (http://127.0.0.1:5173 by default) and this API (http://127.0.0.1:8000) are two
origins on one host name: CORS lets the page read the API's answers, and the kit's CSRF
checks trust the page's origin.

Environment variables:

- `SPA_ORIGINS`: the page's origins, comma-separated, exactly as the browser sends them
  in `Origin` (scheme, host and port); default `http://127.0.0.1:5173`.
- `USERKIT_DATABASE_URL`: default `sqlite+aiosqlite:///./spa.db`.
- any other `USERKIT_*` setting, `USERKIT_SECRET_KEY` first.
"""

import os

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from fastapi_userkit import UserKitSettings, include_user_router


def spa_origins() -> list[str]:
    """The origins `SPA_ORIGINS` names, without trailing slashes."""
    value = os.environ.get("SPA_ORIGINS", "http://127.0.0.1:5173")
    return [origin.strip().rstrip("/") for origin in value.split(",") if origin.strip()]


def create_app(settings: UserKitSettings | None = None) -> FastAPI:
    origins = spa_origins()
    app = FastAPI(title="fastapi-userkit SPA example API")
    if settings is None:
        settings = UserKitSettings(
            database_url=os.environ.get("USERKIT_DATABASE_URL", "sqlite+aiosqlite:///./spa.db"),
            bearer_transport=False,  # the page uses cookies only
            cookie_transport=True,
            cookie_secure=False,  # plain http on loopback; keep the default behind https
            csrf_trusted_origins=origins,
        )
    include_user_router(app, settings=settings)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,  # spelled out: "*" cannot carry cookies
        allow_credentials=True,  # the browser sends the cookies, and keeps those set
        allow_methods=["GET", "POST", "PATCH", "DELETE"],  # the default allows GET only
        allow_headers=["Content-Type", "X-CSRF-Token"],
    )
    return app


app = create_app()
