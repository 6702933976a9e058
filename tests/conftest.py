import os
from collections.abc import AsyncIterator, Callable, Iterator
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


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/userkit.db"


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., UserKitSettings]:
    def make(**overrides: Any) -> UserKitSettings:
        values: dict[str, Any] = {
            "secret_key": SECRET,
            "bcrypt_rounds": 4,
            "database_url": database_url,
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
