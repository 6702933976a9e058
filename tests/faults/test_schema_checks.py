"""What the kit checks at startup when it does not create its tables itself: that they
exist, and that the user ids are spelled the way its id column looks them up. A
database without the tables, or migrated from fastapi-users without converting the
ids, stops the startup with a `ConfigurationError` naming the remedy, instead of a
`500` at the first request."""

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, inspect, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from fastapi_userkit import ConfigurationError
from fastapi_userkit.db.default import UserKitBase
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase
from tests.conftest import Host, own_database
from tests.faults.conftest import MARIADB_URL
from tests.test_migration_fastapi_users import (
    FUBase,
    client_for,
    doc_sql,
    fastapi_users_app,
    register_with_fastapi_users,
    run_sql,
)

pytestmark = pytest.mark.single_pass

REMEDIES = ("USERKIT_CREATE_TABLES=true", "Alembic", "userkit init-db")


@pytest.fixture
async def engine(own_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(own_url)
    yield engine
    await engine.dispose()


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    return set(names)


async def test_missing_tables_stop_the_startup(
    own_url: str, make_host: Callable[..., Any], make_settings: Any
) -> None:
    settings = make_settings(database_url=own_url, create_tables=None)
    with pytest.raises(ConfigurationError) as raised:
        await make_host(settings=settings)
    message = str(raised.value)
    assert (
        "user, userkit_session, userkit_refresh_token, userkit_role, userkit_role_scope, "
        "userkit_user_role" in message
    )
    for remedy in REMEDIES:
        assert remedy in message


async def test_only_the_missing_tables_are_named(
    own_url: str, engine: AsyncEngine, make_host: Callable[..., Any], make_settings: Any
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(UserKitBase.metadata.create_all)
    with pytest.raises(ConfigurationError, match="missing from the database: userkit_session, "):
        await make_host(settings=make_settings(database_url=own_url, create_tables=None))


async def test_the_check_is_one_inspection(
    own_url: str, engine: AsyncEngine, make_host: Callable[..., Any], make_settings: Any
) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(UserKitBase.metadata.create_all)
        await conn.run_sync(SessionBase.metadata.create_all)
        await conn.run_sync(RoleBase.metadata.create_all)
    statements: list[str] = []
    event.listen(
        engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2])
    )
    h: Host = await make_host(database=engine, settings=make_settings(create_tables=None))
    # the table names, and one id (none here); the dialect's first-connect queries aside
    checks = [s for s in statements if "user" in s.lower() or "table" in s.lower()]
    assert len(checks) <= 2, statements
    assert (await h.register()).status_code == 201


async def test_with_create_tables_false_the_host_owns_the_schema(
    own_url: str, engine: AsyncEngine, make_host: Callable[..., Any], make_settings: Any
) -> None:
    # its own lifespan, or `userkit init-db`, may create the tables after the kit starts
    await make_host(settings=make_settings(database_url=own_url, create_tables=False))
    assert await table_names(engine) == set()


async def test_sessions_from_the_hosts_dependency_are_not_checked(
    engine: AsyncEngine, make_host: Callable[..., Any], make_settings: Any
) -> None:
    maker = async_sessionmaker(engine)

    async def get_db() -> AsyncIterator[AsyncSession]:
        async with maker() as session:
            yield session

    await make_host(FastAPI(), database=get_db, settings=make_settings(create_tables=None))


# --- ids written by fastapi-users -------------------------------------------------------------

STEP_1 = {"sqlite": "step1_sqlite", "mariadb": "step1_mysql"}


@pytest.fixture(params=sorted(STEP_1))
async def fastapi_users_database(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, AsyncEngine]]:
    """A database where fastapi-users registered a user (its ids: 36 characters)."""
    kind = str(request.param)
    if kind == "sqlite":
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/fastapi_users.db")
        yield kind, engine
        await engine.dispose()
        return
    async with own_database(MARIADB_URL) as url:
        engine = create_async_engine(url)
        yield kind, engine
        await engine.dispose()


async def migrate(kind: str, engine: AsyncEngine, *, convert_ids: bool) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(FUBase.metadata.create_all)
    async with client_for(fastapi_users_app(engine)) as fu:
        await register_with_fastapi_users(fu, "alice@example.com")
    statements = doc_sql(STEP_1[kind])
    assert statements[0].startswith("UPDATE") and "REPLACE(id, '-', '')" in statements[0]
    await run_sql(engine, statements if convert_ids else statements[1:])
    async with engine.begin() as conn:
        await conn.run_sync(SessionBase.metadata.create_all)
        await conn.run_sync(RoleBase.metadata.create_all)


async def test_ids_with_dashes_stop_the_startup(
    fastapi_users_database: tuple[str, AsyncEngine],
    make_host: Callable[..., Any],
    make_settings: Any,
) -> None:
    kind, engine = fastapi_users_database
    await migrate(kind, engine, convert_ids=False)  # the guide's id step forgotten
    with pytest.raises(ConfigurationError, match="Migrate from fastapi-users") as raised:
        await make_host(database=engine, settings=make_settings(create_tables=None))
    assert "REPLACE(id, '-', '')" in str(raised.value)


async def test_converted_ids_pass_the_check(
    fastapi_users_database: tuple[str, AsyncEngine],
    make_host: Callable[..., Any],
    make_settings: Any,
) -> None:
    kind, engine = fastapi_users_database
    await migrate(kind, engine, convert_ids=True)
    await make_host(database=engine, settings=make_settings(create_tables=None))
    async with engine.connect() as conn:
        quoted = conn.dialect.identifier_preparer.quote("user")
        stored = await conn.scalar(text(f"SELECT id FROM {quoted}"))  # noqa: S608
    assert len(stored) == 32
