"""Statements that take too long on a healthy connection: the statement timeout ends
them, the request gets `503`, the connection is replaced, and the next request works."""

import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fastapi_userkit.db._outage import is_outage
from tests.conftest import Host
from tests.faults.conftest import (
    MARGIN,
    STATEMENT_TIMEOUT,
    assert_unavailable,
    login,
    tracebacks,
)

pytestmark = pytest.mark.single_pass

SLEEP = {"postgresql": "SELECT pg_sleep(30)", "mariadb": "SELECT SLEEP(30)"}
#: Holds a lock that every statement of the kit on `user` waits for.
LOCK = {
    "postgresql": ['LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE'],
    "mariadb": ["LOCK TABLES `user` WRITE"],
}


@pytest.fixture
async def kit_host(own_url: str, make_host: Any, make_settings: Any) -> Host:
    settings = make_settings(
        database_url=own_url, create_tables=True, db_statement_timeout=STATEMENT_TIMEOUT
    )
    return await make_host(settings=settings)  # type: ignore[no-any-return]


async def test_a_long_statement_ends_at_the_timeout(server: str, kit_host: Host) -> None:
    started = time.monotonic()
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the driver's own error
        async with kit_host.kit.database.open() as uow:
            await uow.session.execute(text(SLEEP[server]))
    assert time.monotonic() - started < STATEMENT_TIMEOUT + MARGIN
    assert is_outage(raised.value)
    async with kit_host.kit.database.open() as uow:  # a fresh connection, at once
        assert await uow.session.scalar(text("SELECT 1")) == 1


async def test_a_request_stuck_behind_a_lock_is_503(
    server: str,
    direct: AsyncEngine,
    make_host: Any,
    make_settings: Any,
    own_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(
        database_url=own_url, create_tables=True, db_statement_timeout=STATEMENT_TIMEOUT
    )
    h: Host = await make_host(settings=settings)
    headers = await h.headers()
    caplog.clear()
    async with direct.connect() as holder:
        transaction = await holder.begin()
        for statement in LOCK[server]:
            await holder.execute(text(statement))
        for request in (lambda: login(h), lambda: h.client.get("/users/me", headers=headers)):
            started = time.monotonic()
            assert_unavailable(await request())
            assert time.monotonic() - started < STATEMENT_TIMEOUT + MARGIN
        if server == "mariadb":
            await holder.execute(text("UNLOCK TABLES"))
        await transaction.rollback()
    assert (await login(h)).status_code == 200  # the lock is gone: at once
    assert tracebacks(caplog) == []
