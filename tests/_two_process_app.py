"""The app `test_two_processes.py` and `test_ratelimit_shared.py` run in two uvicorn
processes at once.

`uvicorn tests._two_process_app:create_app --factory`, configured by the usual
`USERKIT_*` variables (limits such as `USERKIT_RATE_LIMIT_LOGIN_ACCOUNT_IP` among
them) plus:

- `TWO_PROCESS_POSTGRES_URL`: the shared database;
- `TWO_PROCESS_SCHEMA`: the PostgreSQL schema holding the users table;
- `TWO_PROCESS_REDIS_URL` and `TWO_PROCESS_REDIS_PREFIX`: the shared session store;
- `TWO_PROCESS_SQLITE_URL` (instead of the three above): one SQLite file holding
  users and login sessions (the default SQL session store);
- `TWO_PROCESS_RATELIMIT_PREFIX` (optional): when set, rate limits are counted by a
  `RedisRateLimiter` on `TWO_PROCESS_REDIS_URL` under this prefix, shared by both
  processes; when unset, the kit's default (per-process memory) limiter is used.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_userkit import include_user_router
from fastapi_userkit.contrib.redis import RedisSessionStore
from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter
from fastapi_userkit.ratelimit import RateLimiter


def create_app() -> FastAPI:
    if sqlite_url := os.environ.get("TWO_PROCESS_SQLITE_URL"):
        return _with_pid(FastAPI(), sqlite_url)
    engine = create_async_engine(
        os.environ["TWO_PROCESS_POSTGRES_URL"],
        connect_args={"server_settings": {"search_path": os.environ["TWO_PROCESS_SCHEMA"]}},
    )
    redis_url = os.environ["TWO_PROCESS_REDIS_URL"]
    store = RedisSessionStore(redis_url, prefix=os.environ["TWO_PROCESS_REDIS_PREFIX"])
    limiter: RateLimiter | None = None
    if ratelimit_prefix := os.environ.get("TWO_PROCESS_RATELIMIT_PREFIX"):
        limiter = RedisRateLimiter(redis_url, prefix=ratelimit_prefix)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield  # the kit's shutdown (after this) closes the limiter
        await store.aclose()
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    include_user_router(app, database=engine, session_store=store, rate_limiter=limiter)
    return _with_pid(app)


def _with_pid(app: FastAPI, sqlite_url: str | None = None) -> FastAPI:
    if sqlite_url is not None:
        include_user_router(app, database=sqlite_url)

    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()

    return app
