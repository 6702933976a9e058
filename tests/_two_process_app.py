"""The app `test_two_processes.py` runs in two uvicorn processes at once.

`uvicorn tests._two_process_app:create_app --factory`, configured by the usual
`USERKIT_*` variables plus:

- `TWO_PROCESS_POSTGRES_URL`: the shared database;
- `TWO_PROCESS_SCHEMA`: the PostgreSQL schema holding the users table;
- `TWO_PROCESS_REDIS_URL` and `TWO_PROCESS_REDIS_PREFIX`: the shared session store.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_userkit import include_user_router
from fastapi_userkit.contrib.redis import RedisSessionStore


def create_app() -> FastAPI:
    engine = create_async_engine(
        os.environ["TWO_PROCESS_POSTGRES_URL"],
        connect_args={"server_settings": {"search_path": os.environ["TWO_PROCESS_SCHEMA"]}},
    )
    store = RedisSessionStore(
        os.environ["TWO_PROCESS_REDIS_URL"], prefix=os.environ["TWO_PROCESS_REDIS_PREFIX"]
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await store.aclose()
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    include_user_router(app, database=engine, session_store=store)

    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()

    return app
