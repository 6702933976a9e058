"""The order of effects when the database fails in the middle of a flow: a request
answered 503 must not spend a refresh token, count as a guess, or leave a login
session behind."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fastapi_userkit import MemorySessionStore
from tests._relay import Relay
from tests.conftest import PASSWORD, POSTGRES_URL, REDIS_URL, Host

pytestmark = pytest.mark.single_pass


@pytest.fixture
async def relayed(pg_engine: AsyncEngine) -> AsyncIterator[tuple[Relay, AsyncEngine]]:
    """PostgreSQL behind a relay the test can cut, in the test's own schema."""
    url = make_url(POSTGRES_URL)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    await relay.start()
    async with pg_engine.connect() as conn:
        schema = await conn.scalar(text("SELECT current_schema()"))
    engine = create_async_engine(
        url.set(host="127.0.0.1", port=relay.port),
        connect_args={"server_settings": {"search_path": schema}},
    )
    yield relay, engine
    await engine.dispose()
    await relay.stop()


async def until_up(call: Any) -> Any:
    """The first answer that is not 503 (a stale pooled connection gives one more)."""
    for _ in range(3):
        response = await call()
        if response.status_code != 503:
            return response
    return response


async def test_a_refresh_answered_503_leaves_the_token_usable(
    relayed: tuple[Relay, AsyncEngine], make_host: Any, make_settings: Any, redis_prefix: str
) -> None:
    from fastapi_userkit.contrib.redis import RedisSessionStore

    relay, engine = relayed
    store = RedisSessionStore(REDIS_URL, prefix=redis_prefix)
    h: Host = await make_host(
        database=engine, session_store=store, settings=make_settings(create_tables=True)
    )
    await h.register()
    pair = (
        await h.client.post(
            "/auth/jwt/login", json={"email": "alice@example.com", "password": PASSWORD}
        )
    ).json()
    await relay.stop()
    body = {"refresh_token": pair["refresh_token"]}
    failed = await h.client.post("/auth/jwt/refresh", json=body)
    assert (failed.status_code, failed.json()) == (503, {"detail": "DATABASE_UNAVAILABLE"})
    await relay.start()
    retried = await until_up(lambda: h.client.post("/auth/jwt/refresh", json=body))
    assert retried.status_code == 200, retried.text  # not REFRESH_TOKEN_REUSED


async def test_attempts_answered_503_are_not_guesses(
    relayed: tuple[Relay, AsyncEngine], make_host: Any, make_settings: Any
) -> None:
    relay, engine = relayed
    h: Host = await make_host(
        database=engine,
        settings=make_settings(
            create_tables=True,
            rate_limit_login_account_ip="3/900",
            rate_limit_forgot_password_account="2/3600",
            rate_limit_register_ip="2/3600",
        ),
    )
    await h.register()
    login = {"username": "alice@example.com", "password": PASSWORD}
    await relay.stop()
    for _ in range(5):
        assert (await h.client.post("/auth/jwt/login", data=login)).status_code == 503
        forgot = await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        assert forgot.status_code == 503
        assert (await h.register("bob@example.com")).status_code == 503
    await relay.start()
    assert (await until_up(lambda: h.client.post("/auth/jwt/login", data=login))).status_code == 200
    for _ in range(2):
        forgot = await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        assert forgot.status_code == 202
    assert (await h.register("bob@example.com")).status_code == 201


async def test_a_login_whose_commit_fails_leaves_no_session(
    tmp_path: Path, make_host: Any, make_settings: Any
) -> None:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/faults.db")
    failing = {"on": False}

    @event.listens_for(engine.sync_engine, "commit")
    def fail_commit(connection: Any) -> None:
        if failing["on"]:
            raise exc.OperationalError("COMMIT", {}, ConnectionResetError("connection lost"))

    store = MemorySessionStore()  # like Redis: outside the database's transaction
    h: Host = await make_host(
        FastAPI(), database=engine, session_store=store, settings=make_settings()
    )
    await h.register()
    user = await h.kit.users.get_by_email("alice@example.com")
    failing["on"] = True
    answer = await h.client.post(
        "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
    )
    failing["on"] = False
    assert answer.status_code == 503, answer.text
    from datetime import UTC, datetime

    assert await store.list_active(str(user.id), datetime.now(UTC)) == []
    await engine.dispose()
