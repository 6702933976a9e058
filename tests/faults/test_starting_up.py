"""PostgreSQL refusing logins, as it does on every restart and failover ("the database
system is starting up", SQLSTATE 57P03) and when its connection slots are full ("too
many clients", 53300): the application starts anyway, answers `503`, and recovers when
the endpoint leads to a running server again."""

import asyncio
import os
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_userkit import ConfigurationError
from fastapi_userkit.db.default import UserKitBase
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase
from tests._relay import free_port
from tests.conftest import PASSWORD, POSTGRES_URL, SECRET, Host, own_database
from tests.faults.conftest import (
    CONNECT_TIMEOUT,
    MARGIN,
    assert_unavailable,
    login,
    through,
    tracebacks,
    until_up,
)
from tests.faults.fake_postgres import STARTING_UP, TOO_MANY_CLIENTS, FakePostgres
from tests.faults.proxy import FaultProxy

pytestmark = pytest.mark.single_pass

#: How long the uvicorn process may take to start, and to stop.
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with own_database(POSTGRES_URL) as url:
        yield url


async def create_kit_tables(url: str) -> None:
    """The kit's tables, as the deployment's migrations would have made them."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(UserKitBase.metadata.create_all)
        await conn.run_sync(SessionBase.metadata.create_all)
        await conn.run_sync(RoleBase.metadata.create_all)
    await engine.dispose()


@pytest.fixture(params=[STARTING_UP, TOO_MANY_CLIENTS], ids=["starting up", "too many clients"])
async def refusing(request: pytest.FixtureRequest) -> AsyncIterator[FakePostgres]:
    fake = FakePostgres(request.param)
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def endpoint(refusing: FakePostgres) -> AsyncIterator[FaultProxy]:
    """What the application's URL names: the refusing server first."""
    proxy = FaultProxy(("127.0.0.1", refusing.port))
    await proxy.start()
    yield proxy
    await proxy.close()


def real_server(url: str) -> tuple[str, int]:
    parsed = make_url(url)
    return (parsed.host or "127.0.0.1", parsed.port or 5432)


async def test_a_refused_login_is_503_and_the_kit_recovers(
    pg_url: str,
    refusing: FakePostgres,
    endpoint: FaultProxy,
    make_host: Any,
    make_settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await create_kit_tables(pg_url)
    settings = make_settings(
        database_url=through(pg_url, endpoint.port),
        create_tables=None,  # PostgreSQL: the kit checks its tables, at startup if it can
        db_connect_timeout=CONNECT_TIMEOUT,
    )
    app = FastAPI()
    h: Host = await make_host(app, settings=settings)  # starts although the database refuses
    assert "database unreachable at startup" in caplog.text

    @app.get("/maybe")
    async def maybe(user: h.kit.OptionalUser) -> str:  # type: ignore[name-defined]
        return "anonymous" if user is None else "known"

    # no token, an optional user: the database is not needed, so no 503
    assert (await h.client.get("/maybe")).json() == "anonymous"

    for request in (lambda: h.register(), lambda: login(h)):
        started = time.monotonic()
        assert_unavailable(await request())
        assert time.monotonic() - started < MARGIN  # an answer, not a wait
    assert refusing.startups >= 3  # startup, then each request, tried to log in
    assert tracebacks(caplog) == []

    endpoint.point_at(real_server(pg_url))  # the failover is over
    assert (await until_up(lambda: h.register())).status_code == 201
    assert (await login(h)).status_code == 200
    assert tracebacks(caplog) == []


async def test_tables_missing_once_the_database_is_back_are_a_configuration_error(
    pg_url: str, refusing: FakePostgres, endpoint: FaultProxy, make_host: Any, make_settings: Any
) -> None:
    settings = make_settings(
        database_url=through(pg_url, endpoint.port),
        create_tables=None,
        db_connect_timeout=CONNECT_TIMEOUT,
    )
    h: Host = await make_host(settings=settings)
    assert_unavailable(await h.register())
    endpoint.point_at(real_server(pg_url))
    with pytest.raises(ConfigurationError, match="USERKIT_CREATE_TABLES=true"):
        await h.register()


APP = """
from fastapi import FastAPI

from fastapi_userkit import include_user_router

app = FastAPI()
include_user_router(app)
"""


@pytest.fixture
async def starting_up() -> AsyncIterator[FaultProxy]:
    """An endpoint leading to a server that is starting up (one case is enough here)."""
    fake = FakePostgres(STARTING_UP)
    await fake.start()
    proxy = FaultProxy(("127.0.0.1", fake.port))
    await proxy.start()
    yield proxy
    await proxy.close()
    await fake.close()


async def test_under_uvicorn_the_log_has_no_traceback(
    pg_url: str, starting_up: FaultProxy, tmp_path: Path
) -> None:
    endpoint = starting_up
    await create_kit_tables(pg_url)
    (tmp_path / "refused_app.py").write_text(textwrap.dedent(APP))
    port = free_port()
    env = {
        **os.environ,
        "USERKIT_DATABASE_URL": through(pg_url, endpoint.port),
        "USERKIT_SECRET_KEY": SECRET,
        "USERKIT_BCRYPT_ROUNDS": "4",
        "USERKIT_DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    }
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "uvicorn", "refused_app:app", "--host", "127.0.0.1", "--port", str(port)),
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await wait_until_serving(client, process)
            body = {"email": "alice@example.com", "password": PASSWORD}
            assert_unavailable(await client.post("/auth/register", json=body))
            endpoint.point_at(real_server(pg_url))
            assert (await client.post("/auth/register", json=body)).status_code == 201
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
    output_text = log.read_text("utf-8", "replace")
    assert "database unreachable" in output_text
    assert "Traceback" not in output_text, output_text
    assert "ERROR" not in output_text, output_text
    assert '"POST /auth/register HTTP/1.1" 503' in output_text


async def wait_until_serving(client: httpx.AsyncClient, process: Any) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.returncode is not None:
            pytest.fail(f"uvicorn exited with {process.returncode}")
        try:
            await client.get("/openapi.json")
        except httpx.TransportError:
            await asyncio.sleep(0.1)
        else:
            return
    pytest.fail(f"uvicorn did not answer within {START_TIMEOUT} s")
