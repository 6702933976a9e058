"""The app `test_ratelimit_two_processes.py` runs in two uvicorn processes at once.

`uvicorn tests._ratelimit_app:create_app --factory`, configured by
`RATELIMIT_APP_REDIS_URL` and `RATELIMIT_APP_REDIS_PREFIX`. It needs nothing of
the kit but `RedisRateLimiter`: `POST /hit/{key}` counts against 5 per minute
and answers 429 with `Retry-After` past that; `POST /mark/{key}` and
`GET /marked/{key}` remember a key for a minute.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response

from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter
from fastapi_userkit.ratelimit import Limit

LIMIT = Limit(5, 60)


def create_app() -> FastAPI:
    limiter = RedisRateLimiter(
        os.environ["RATELIMIT_APP_REDIS_URL"], prefix=os.environ["RATELIMIT_APP_REDIS_PREFIX"]
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await limiter.aclose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/pid")
    async def pid() -> int:
        return os.getpid()

    @app.post("/hit/{key}")
    async def hit(key: str, response: Response) -> dict[str, int]:
        usage = await limiter.hit(key, LIMIT)
        if not usage.allowed:
            response.status_code = 429
            response.headers["Retry-After"] = str(usage.retry_after)
        return {"count": usage.count, "pid": os.getpid()}

    @app.post("/mark/{key}", status_code=204)
    async def mark(key: str) -> None:
        await limiter.mark(key, 60)

    @app.get("/marked/{key}")
    async def marked(key: str) -> bool:
        return await limiter.marked(key)

    return app
