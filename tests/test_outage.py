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


class CapturedError(Exception):
    """Stops a connection attempt once its arguments are known."""


async def connect_arguments(engine: Any) -> dict[str, Any]:
    """The keyword arguments *engine* would pass to its driver's `connect()`."""
    from sqlalchemy import event

    seen: dict[str, Any] = {}

    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise CapturedError

    event.listen(engine.sync_engine, "do_connect", capture)
    with pytest.raises(CapturedError):
        async with engine.connect():
            pass
    return seen


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql+asyncpg://nobody@127.0.0.1:1/none",
            {"timeout": 2.5, "command_timeout": 7.0},
        ),
        ("mysql+asyncmy://nobody@127.0.0.1:1/none", {"connect_timeout": 2.5, "read_timeout": 7.0}),
        ("sqlite+aiosqlite:///:memory:", {"timeout": 7.0}),
    ],
)
async def test_timeouts_reach_the_driver(
    make_settings: Any, url: str, expected: dict[str, Any]
) -> None:
    from fastapi_userkit import include_user_router

    settings = make_settings(database_url=url, db_connect_timeout=2.5, db_statement_timeout=7.0)
    kit = include_user_router(FastAPI(), settings=settings)
    engine = kit.database._maker().kw["bind"]
    arguments = await connect_arguments(engine)
    assert {k: arguments[k] for k in expected} == expected
    if url.startswith("mysql"):  # the deadline on the whole connection, greeting and login
        assert callable(arguments["async_creator_fn"])
    await engine.dispose()


async def test_the_url_and_the_hosts_engine_keep_their_own_options(make_settings: Any) -> None:
    from fastapi_userkit import include_user_router

    written = "postgresql+asyncpg://nobody@127.0.0.1:1/none?command_timeout=60"
    kit = include_user_router(FastAPI(), settings=make_settings(database_url=written))
    engine = kit.database._maker().kw["bind"]
    arguments = await connect_arguments(engine)
    assert (float(arguments["command_timeout"]), arguments["timeout"]) == (60.0, 5.0)
    await engine.dispose()

    own = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    include_user_router(FastAPI(), settings=make_settings(), database=own)
    assert "timeout" not in await connect_arguments(own)
    await own.dispose()


def test_timeout_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from fastapi_userkit import UserKitSettings

    defaults = UserKitSettings()
    assert (defaults.db_connect_timeout, defaults.db_statement_timeout) == (5.0, 15.0)
    monkeypatch.setenv("USERKIT_DB_CONNECT_TIMEOUT", "2.5")
    monkeypatch.setenv("USERKIT_DB_STATEMENT_TIMEOUT", "30")
    settings = UserKitSettings()
    assert (settings.db_connect_timeout, settings.db_statement_timeout) == (2.5, 30.0)
    assert settings.database.db_statement_timeout == 30.0
    for name in ("db_connect_timeout", "db_statement_timeout"):
        with pytest.raises(ValidationError):
            UserKitSettings(**{name: 0})
