import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.conftest import PASSWORD, POSTGRES_URL, Host, own_database
from tests.faults.proxy import FaultProxy

MARIADB_URL = os.environ.get("USERKIT_TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/test")
#: The timeouts the kit gets in these tests, and what an answer may take on top.
CONNECT_TIMEOUT = 1.0
STATEMENT_TIMEOUT = 1.0
MARGIN = 1.0
#: How many requests recovery may take: a connection broken by the fault can cost one more.
RECOVERY_ATTEMPTS = 3

SERVERS = {"postgresql": POSTGRES_URL, "mariadb": MARIADB_URL}


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest) -> str:
    """Each server the fault tests run on, by name."""
    return str(request.param)


@pytest.fixture
async def own_url(server: str) -> AsyncIterator[str]:
    """A database of this test's own on *server*, reached directly."""
    async with own_database(SERVERS[server]) as url:
        yield url


@pytest.fixture
async def direct(own_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the test's database that no fault touches, to check what was written."""
    engine = create_async_engine(own_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def proxy(own_url: str) -> AsyncIterator[FaultProxy]:
    url = make_url(own_url)
    proxy = FaultProxy((url.host or "127.0.0.1", url.port or 0))
    await proxy.start()
    yield proxy
    await proxy.close()


def through(url: str, port: int) -> str:
    """*url* with its port replaced by *port* (a proxy's or a fake server's)."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@dataclass
class Faulty:
    """A kit whose engine (created by the kit from a URL) goes through the proxy."""

    host: Host
    proxy: FaultProxy
    direct: AsyncEngine

    async def rows(self) -> dict[str, int]:
        """The row counts of the kit's tables, read past the proxy."""
        counts = {}
        async with self.direct.connect() as conn:
            for table in ("user", "userkit_session", "userkit_refresh_token"):
                quoted = conn.dialect.identifier_preparer.quote(table)
                counts[table] = await conn.scalar(text(f"SELECT count(*) FROM {quoted}"))  # noqa: S608
        return counts

    async def orphans(self) -> int:
        """Sessions without their user, and refresh tokens without their session."""
        async with self.direct.connect() as conn:
            quoted = conn.dialect.identifier_preparer.quote("user")
            ids = await conn.scalars(text(f"SELECT id FROM {quoted}"))  # noqa: S608
            known = {str(user_id).replace("-", "") for user_id in ids}
            users = await conn.scalars(text("SELECT user_id FROM userkit_session"))
            lost = sum(1 for user_id in users if str(user_id).replace("-", "") not in known)
            lost += await conn.scalar(
                text(
                    "SELECT count(*) FROM userkit_refresh_token WHERE session_id NOT IN "
                    "(SELECT id FROM userkit_session)"
                )
            )
        return lost


@pytest.fixture
async def faulty(
    own_url: str, proxy: FaultProxy, direct: AsyncEngine, make_host: Any, make_settings: Any
) -> Faulty:
    settings = make_settings(
        database_url=through(own_url, proxy.port),
        create_tables=True,
        db_connect_timeout=CONNECT_TIMEOUT,
        db_statement_timeout=STATEMENT_TIMEOUT,
        db_pool_timeout=CONNECT_TIMEOUT,
    )
    host: Host = await make_host(settings=settings)
    return Faulty(host, proxy, direct)


async def timed(call: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = await call
    return response, time.monotonic() - start


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "DATABASE_UNAVAILABLE"}
    assert response.headers["retry-after"] == "5"


async def until_up(call: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """The first answer that is not a 503, within `RECOVERY_ATTEMPTS` requests."""
    for _ in range(RECOVERY_ATTEMPTS):
        response = await call()
        if response.status_code != 503:
            return response
    return response


def login(host: Host, email: str = "alice@example.com") -> Awaitable[httpx.Response]:
    return host.client.post("/auth/jwt/login", data={"username": email, "password": PASSWORD})


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Records that carry a traceback, or are errors: a fault must log neither."""
    return [
        f"{record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.exc_info or record.levelno >= logging.ERROR
    ]
