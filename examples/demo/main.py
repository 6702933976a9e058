"""Demo host app: `make demo`, then open http://127.0.0.1:8000/docs.

Register with `POST /auth/register`, press *Authorize* (username = your e-mail),
then call `GET /users/me` or `GET /hello`.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from fastapi_userkit import UserKitSettings, include_user_router
from fastapi_userkit.contrib.offline_docs import serve_docs_offline


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # The host keeps its own lifespan; the kit's startup runs before it.
    yield


def create_app(settings: UserKitSettings | None = None) -> FastAPI:
    app = FastAPI(title="fastapi-userkit demo", lifespan=lifespan)
    if settings is None:
        settings = UserKitSettings(
            database_url=os.environ.get("USERKIT_DATABASE_URL", "sqlite+aiosqlite:///./demo.db")
        )
    kit = include_user_router(app, settings=settings)
    # Swagger UI's files from the fastapi-offline package, not a CDN: /docs works offline.
    serve_docs_offline(app)

    @app.get("/hello")
    async def hello(user: kit.CurrentUser) -> dict[str, str]:  # type: ignore[name-defined]
        return {"message": f"hello {user.email}"}

    @app.get("/public")
    async def public(user: kit.OptionalUser) -> dict[str, str | None]:  # type: ignore[name-defined]
        return {"user": user.email if user else None}

    return app


app = create_app()
