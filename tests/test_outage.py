"""A database outage during requests: 503 with a stable code, nothing half-written,
and recovery when the database returns (PostgreSQL behind a relay we cut)."""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests._relay import Relay
from tests.conftest import PASSWORD, POSTGRES_URL, Host

pytestmark = pytest.mark.single_pass


@pytest.fixture
async def relay() -> AsyncIterator[Relay]:
    url = make_url(POSTGRES_URL)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    await relay.start()
    yield relay
    await relay.stop()


async def test_outage_is_503_and_the_kit_recovers(
    pg_engine: Any, relay: Relay, make_host: Any, make_settings: Any
) -> None:
    async with pg_engine.connect() as conn:
        schema = await conn.scalar(text("SELECT current_schema()"))
    through_relay = make_url(POSTGRES_URL).set(host="127.0.0.1", port=relay.port)
    engine = create_async_engine(
        through_relay, connect_args={"server_settings": {"search_path": schema}}
    )
    app = FastAPI()
    host: Host = await make_host(app, database=engine, settings=make_settings(create_tables=True))
    kit = host.kit

    @app.get("/mine")
    async def mine(user: kit.CurrentUser) -> str:  # type: ignore[name-defined]
        return str(user.email)

    headers = await host.headers()
    assert (await host.client.get("/mine", headers=headers)).status_code == 200

    await relay.stop()
    for response in (
        await host.register("bob@example.com"),
        await host.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        ),
        await host.client.get("/users/me", headers=headers),
        await host.client.get("/mine", headers=headers),
        await host.client.post("/auth/forgot-password", json={"email": "alice@example.com"}),
    ):
        assert response.status_code == 503, response.text
        assert response.json() == {"detail": "DATABASE_UNAVAILABLE"}
        assert response.headers["retry-after"]

    await relay.start()
    for _ in range(3):  # stale pooled connections give at most one more 503
        response = await host.register("bob@example.com")
        if response.status_code != 503:
            break
    assert response.status_code == 201, response.text
    assert (await host.client.get("/mine", headers=headers)).status_code == 200
    async with pg_engine.connect() as conn:
        count = await conn.scalar(select(func.count()).select_from(text('"user"')))
    assert count == 2  # alice and bob, nothing half-written
    await engine.dispose()


def test_pool_settings_reach_the_engine(make_settings: Any) -> None:
    from fastapi_userkit import include_user_router

    settings = make_settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        db_pool_size=3,
        db_max_overflow=2,
        db_pool_timeout=4.5,
        db_pool_recycle=600,
        db_pool_pre_ping=True,
    )
    kit = include_user_router(FastAPI(), settings=settings)
    engine = kit.database._maker().kw["bind"]
    pool = engine.sync_engine.pool
    assert (pool.size(), pool._max_overflow, pool._timeout, pool._recycle, pool._pre_ping) == (
        3,
        2,
        4.5,
        600,
        True,
    )
