import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from fastapi_userkit import UserKit, UserKitSettings, include_user_router

SECRET = "0123456789abcdef0123456789abcdef-test-only"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def clean_environ() -> Iterator[None]:
    saved = {k: v for k, v in os.environ.items() if k.startswith("USERKIT_")}
    for key in saved:
        del os.environ[key]
    yield
    for key in [k for k in os.environ if k.startswith("USERKIT_")]:
        del os.environ[key]
    os.environ.update(saved)


#: The database the suite runs on: SQLite by default; `make test` also runs it on
#: PostgreSQL and MariaDB by setting this to their URLs.
TEST_DATABASE_URL = os.environ.get("USERKIT_TEST_DATABASE_URL", "sqlite+aiosqlite://")


@asynccontextmanager
async def own_database(server_url: str) -> AsyncIterator[str]:
    """A database of its own on a PostgreSQL or MariaDB server, dropped afterwards.

    PostgreSQL: a role whose `search_path` is a schema of its own, so the URL alone
    selects it (other processes can use it). MariaDB: a database of its own.
    """
    import secrets

    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    url = make_url(server_url)
    name = f"ut_{secrets.token_hex(6)}"
    admin = create_async_engine(url)
    postgres = url.get_backend_name() == "postgresql"
    try:
        async with admin.begin() as conn:
            if postgres:
                await conn.execute(text(f'CREATE ROLE "{name}" LOGIN'))
                await conn.execute(text(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"'))
                await conn.execute(text(f'ALTER ROLE "{name}" SET search_path = "{name}"'))
            else:
                await conn.execute(text(f"CREATE DATABASE `{name}`"))
    except Exception as exc:  # any connection failure means "not reachable"
        await admin.dispose()
        _service_unavailable(url.get_backend_name(), exc)
    own = url.set(username=name) if postgres else url.set(database=name)
    try:
        yield own.render_as_string(hide_password=False)
    finally:
        async with admin.begin() as conn:
            if postgres:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :n"
                    ),
                    {"n": name},
                )
                await conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
                await conn.execute(text(f'DROP ROLE "{name}"'))
            else:  # a connection a test left open would block the drop
                rows = await conn.execute(
                    text("SELECT id FROM information_schema.processlist WHERE db = :n"),
                    {"n": name},
                )
                for (pid,) in rows.all():
                    await _kill(conn, int(pid))
                await conn.execute(text(f"DROP DATABASE `{name}`"))
        await admin.dispose()


#: MariaDB's "Unknown thread id": the connection ended between its listing and its KILL.
_UNKNOWN_THREAD = 1094


async def _kill(conn: Any, pid: int) -> None:
    """End MariaDB connection *pid*, unless it has ended already."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        await conn.execute(text(f"KILL {pid}"))
    except DBAPIError as exc:
        if exc.orig is None or exc.orig.args[:1] != (_UNKNOWN_THREAD,):
            raise


@pytest.fixture
async def database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database of this test's own, on the server the suite runs against."""
    if TEST_DATABASE_URL.startswith("sqlite"):
        yield f"sqlite+aiosqlite:///{tmp_path}/userkit.db"
        return
    async with own_database(TEST_DATABASE_URL) as url:
        yield url


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., UserKitSettings]:
    def make(**overrides: Any) -> UserKitSettings:
        values: dict[str, Any] = {
            "secret_key": SECRET,
            "bcrypt_rounds": 4,
            "database_url": database_url,
            # outside SQLite the kit leaves the schema to migrations; tests create it
            "create_tables": None if database_url.startswith("sqlite") else True,
        }
        values.update(overrides)
        return UserKitSettings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., UserKitSettings]) -> UserKitSettings:
    return make_settings()


class Host:
    """A host app with the kit mounted, and a client talking to it in-process."""

    def __init__(self, app: FastAPI, kit: UserKit[Any], client: httpx.AsyncClient) -> None:
        self.app = app
        self.kit = kit
        self.client = client

    async def register(
        self, email: str = "alice@example.com", password: str = PASSWORD, **extra: Any
    ) -> httpx.Response:
        return await self.client.post(
            "/auth/register", json={"email": email, "password": password, **extra}
        )

    async def login(self, email: str = "alice@example.com", password: str = PASSWORD) -> str:
        response = await self.client.post(
            "/auth/jwt/login", data={"username": email, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    async def headers(
        self, email: str = "alice@example.com", password: str = PASSWORD, *, register: bool = True
    ) -> dict[str, str]:
        if register:
            assert (await self.register(email, password)).status_code == 201
        return {"Authorization": f"Bearer {await self.login(email, password)}"}


@pytest.fixture
async def make_host(settings: UserKitSettings) -> AsyncIterator[Callable[..., Any]]:
    managers: list[LifespanManager] = []
    clients: list[httpx.AsyncClient] = []

    async def make(app: FastAPI | None = None, **kwargs: Any) -> Host:
        app = app or FastAPI()
        kwargs.setdefault("settings", settings)
        kit = include_user_router(app, **kwargs)
        manager = LifespanManager(app)
        await manager.__aenter__()
        managers.append(manager)
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        )
        clients.append(client)
        return Host(app, kit, client)

    yield make
    for client in clients:
        await client.aclose()
    for manager in reversed(managers):
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def host(make_host: Callable[..., Any]) -> Host:
    return await make_host()  # type: ignore[no-any-return]


def _service_unavailable(name: str, error: BaseException) -> None:
    """Skip on a laptop without the service; fail in CI, where it must be running."""
    message = f"{name} is not reachable on 127.0.0.1 ({error!r})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)


POSTGRES_URL = os.environ.get(
    "USERKIT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("USERKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
async def pg_engine() -> AsyncIterator[Any]:
    """An engine on the local PostgreSQL, confined to a schema of its own."""
    import secrets

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    schema = f"userkit_test_{secrets.token_hex(6)}"
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any connection failure means "not reachable"
        await admin.dispose()
        _service_unavailable("PostgreSQL", exc)
    engine = create_async_engine(
        POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}
    )
    yield engine
    await engine.dispose()
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A key prefix of this test's own on the local Redis; its keys are deleted after."""
    import secrets

    import redis.asyncio as redis

    prefix = f"userkit-test:{secrets.token_hex(6)}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except Exception as exc:  # any connection failure means "not reachable"
        await client.aclose()
        _service_unavailable("Redis", exc)
    yield prefix
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
