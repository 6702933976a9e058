"""`is_outage` on the errors the drivers really raise, as SQLAlchemy hands them over:
an unreachable, restarting, overloaded or too slow database is an outage; a bad
statement, a broken constraint or a missing table never is."""

import errno
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest
from fastapi import HTTPException
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fastapi_userkit.db._outage import is_outage
from tests._relay import free_port
from tests.conftest import POSTGRES_URL, own_database
from tests.faults.conftest import MARIADB_URL, through
from tests.faults.fake_postgres import STARTING_UP, TOO_MANY_CLIENTS, FakePostgres

pytestmark = pytest.mark.single_pass


async def raised(call: Awaitable[Any]) -> BaseException:
    """What *call* raised (it must raise)."""
    try:
        await call
    except Exception as error:
        return error
    pytest.fail("no error was raised")


# --- PostgreSQL (asyncpg) ------------------------------------------------------------------


@pytest.fixture
async def pg() -> AsyncIterator[AsyncEngine]:
    async with own_database(POSTGRES_URL) as url:
        engine = create_async_engine(url, connect_args={"command_timeout": 5})
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
            await conn.execute(text("INSERT INTO item VALUES (1, 'one')"))
        yield engine
        await engine.dispose()


async def pg_error(engine: AsyncEngine, *statements: str, **params: Any) -> BaseException:
    async def run() -> None:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement), params)

    return await raised(run())


@pytest.mark.parametrize(
    "statements",
    [
        ["SELEC 1"],  # syntax error, 42601
        ["SELECT * FROM missing_table"],  # undefined table, 42P01
        ["SELECT no_such_column FROM item"],  # undefined column, 42703
        ["INSERT INTO item VALUES (1, 'again')"],  # unique violation, 23505
        ["SELECT 1 / 0"],  # division by zero, 22012
        ["SELECT 'abc'::integer"],  # invalid text representation, 22P02
        ["SET ROLE no_such_role"],  # undefined object, 42704
    ],
    ids=lambda s: s[0],
)
async def test_postgres_bugs_are_not_outages(pg: AsyncEngine, statements: list[str]) -> None:
    assert not is_outage(await pg_error(pg, *statements))


async def test_a_wrong_argument_type_is_not_an_outage(pg: AsyncEngine) -> None:
    # asyncpg refuses the value before sending it: a DataError, a bug of the caller
    error = await pg_error(pg, "SELECT * FROM item WHERE id = :id", id="one")
    assert "invalid input for query argument" in str(error)
    assert not is_outage(error)


async def test_a_statement_cancelled_by_the_server_timeout_is_an_outage(pg: AsyncEngine) -> None:
    error = await pg_error(pg, "SET LOCAL statement_timeout = '50ms'", "SELECT pg_sleep(2)")
    assert getattr(error.__cause__, "sqlstate", None) == "57014"
    assert is_outage(error)


async def test_a_lock_not_granted_in_time_is_an_outage(pg: AsyncEngine) -> None:
    async with pg.begin() as holder:
        await holder.execute(text("LOCK TABLE item IN ACCESS EXCLUSIVE MODE"))
        error = await pg_error(pg, "SET LOCAL lock_timeout = '50ms'", "SELECT * FROM item")
    assert getattr(error.__cause__, "sqlstate", None) == "55P03"
    assert is_outage(error)


async def test_a_client_side_statement_timeout_is_an_outage() -> None:
    async with own_database(POSTGRES_URL) as url:
        engine = create_async_engine(url, connect_args={"command_timeout": 0.1})
        try:
            error = await pg_error(engine, "SELECT pg_sleep(2)")
        finally:
            await engine.dispose()
    assert isinstance(error, TimeoutError)
    assert is_outage(error)


async def test_a_terminated_connection_is_an_outage(pg: AsyncEngine) -> None:
    async with pg.connect() as victim:
        pid = await victim.scalar(text("SELECT pg_backend_pid()"))
        async with pg.begin() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        error = await raised(victim.execute(text("SELECT 1")))
    assert is_outage(error)  # 57P01 admin shutdown, or the connection found closed


@pytest.mark.parametrize("refusal", [STARTING_UP, TOO_MANY_CLIENTS], ids=lambda r: r[0])
async def test_a_server_refusing_logins_is_an_outage(refusal: tuple[str, str]) -> None:
    import asyncpg

    fake = FakePostgres(refusal)
    await fake.start()
    url = through("postgresql+asyncpg://postgres@127.0.0.1/test", fake.port)
    engine = create_async_engine(url)
    try:
        through_sqlalchemy = await raised(engine.connect())
        direct = await raised(asyncpg.connect(host="127.0.0.1", port=fake.port, user="postgres"))
    finally:
        await engine.dispose()
        await fake.close()
    for error in (through_sqlalchemy, direct):
        assert getattr(error, "sqlstate", None) == refusal[0]
        assert is_outage(error)


async def test_a_closed_port_is_an_outage() -> None:
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/test")
    try:
        assert is_outage(await raised(engine.connect()))
    finally:
        await engine.dispose()


# --- MariaDB (asyncmy) ---------------------------------------------------------------------


@pytest.fixture
async def maria() -> AsyncIterator[AsyncEngine]:
    async with own_database(MARIADB_URL) as url:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
            await conn.execute(text("INSERT INTO item VALUES (1, 'one')"))
        yield engine
        await engine.dispose()


async def maria_error(engine: AsyncEngine, *statements: str) -> BaseException:
    async def run() -> None:
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))

    return await raised(run())


def mysql_code(error: BaseException) -> Any:
    orig = getattr(error, "orig", None)
    return orig.args[0] if orig is not None and orig.args else None


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("SELEC 1", 1064),  # syntax
        ("SELECT * FROM missing_table", 1146),  # no such table
        ("SELECT no_such_column FROM item", 1054),  # unknown column: an OperationalError
        ("INSERT INTO item VALUES (1, 'again')", 1062),  # duplicate entry
        ("SELECT * FROM item WHERE", 1064),
    ],
)
async def test_mariadb_bugs_are_not_outages(maria: AsyncEngine, statement: str, code: int) -> None:
    error = await maria_error(maria, statement)
    assert mysql_code(error) == code
    assert not is_outage(error)


async def test_a_lock_wait_timeout_is_an_outage(maria: AsyncEngine) -> None:
    async with maria.begin() as holder:
        await holder.execute(text("SELECT * FROM item WHERE id = 1 FOR UPDATE"))
        error = await maria_error(
            maria,
            "SET SESSION innodb_lock_wait_timeout = 1",
            "UPDATE item SET name = 'two' WHERE id = 1",
        )
    assert mysql_code(error) == 1205
    assert is_outage(error)


async def test_a_killed_connection_is_an_outage(maria: AsyncEngine) -> None:
    async with maria.connect() as victim:
        thread = await victim.scalar(text("SELECT CONNECTION_ID()"))
        async with maria.begin() as admin:
            await admin.execute(text(f"KILL {int(thread)}"))
        error = await raised(victim.execute(text("SELECT 1")))
    assert mysql_code(error) in (1927, 2006, 2013)
    assert is_outage(error)


async def test_a_max_statement_time_is_an_outage(maria: AsyncEngine) -> None:
    error = await maria_error(
        maria, "SET STATEMENT max_statement_time = 0.05 FOR SELECT SLEEP(2) FROM item"
    )
    assert mysql_code(error) == 1969
    assert is_outage(error)


async def test_a_closed_mysql_port_is_an_outage() -> None:
    engine = create_async_engine(f"mysql+asyncmy://root@127.0.0.1:{free_port()}/test")
    try:
        error = await raised(engine.connect())
    finally:
        await engine.dispose()
    assert mysql_code(error) == 2003
    assert is_outage(error)


@pytest.mark.parametrize("code", [1040, 1053, 1203, 2006, 2013])
def test_mysql_server_refusals_are_outages(code: int) -> None:
    """Codes the local server cannot be made to send without harming other clients,
    on the driver's own error class, as SQLAlchemy wraps it."""
    import asyncmy.errors

    refused = asyncmy.errors.OperationalError(code, "refused")
    assert is_outage(sa_exc.OperationalError("SELECT 1", {}, refused))
    denied = asyncmy.errors.OperationalError(1045, "Access denied for user")
    assert not is_outage(sa_exc.OperationalError("SELECT 1", {}, denied))


# --- SQLite (aiosqlite) --------------------------------------------------------------------


@pytest.fixture
async def lite(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/lite.db")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
        await conn.execute(text("INSERT INTO item VALUES (1, 'one')"))
    yield engine
    await engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "SELEC 1",
        "SELECT * FROM missing_table",  # an OperationalError in sqlite3
        "SELECT no_such_column FROM item",
        "INSERT INTO item VALUES (1, 'again')",
    ],
)
async def test_sqlite_bugs_are_not_outages(lite: AsyncEngine, statement: str) -> None:
    async def run() -> None:
        async with lite.begin() as conn:
            await conn.execute(text(statement))

    assert not is_outage(await raised(run()))


async def test_database_is_locked_beyond_the_busy_timeout_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE item (id INTEGER PRIMARY KEY)")
    holder.execute("BEGIN IMMEDIATE")  # holds the write lock
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}", connect_args={"timeout": 0.05})
    try:

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO item VALUES (1)"))

        error = await raised(write())
    finally:
        await engine.dispose()
        holder.close()
    assert "database is locked" in str(error)
    assert is_outage(error)


# --- the network, and what is not a database error -------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError(),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        OSError("Multiple exceptions: [Errno 111] Connect call failed, [Errno 99] ..."),
        sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=repr,
)
def test_network_errors_are_outages(error: BaseException) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("bad"),
        FileNotFoundError(errno.ENOENT, "missing template"),
        OSError("some other failure"),
        sa_exc.InvalidRequestError("a bug"),
    ],
    ids=repr,
)
def test_other_errors_are_not_outages(error: BaseException) -> None:
    assert not is_outage(error)


def test_an_error_raised_from_an_outage_is_not_one() -> None:
    """Only the wrapping of SQLAlchemy and its adapters is looked through."""
    error = HTTPException(409, "the host decided")
    error.__cause__ = ConnectionResetError("reset")
    assert not is_outage(error)
