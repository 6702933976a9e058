"""The Alembic path of SPEC §2/§5: `examples/alembic` migrates PostgreSQL with no drift.

On PostgreSQL the kit never creates tables: the schema comes from migrations. On
SQLite (development) it still creates them at startup, without Alembic.
"""

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from fastapi_userkit import UserKitSettings, include_user_router
from fastapi_userkit.db.default import User
from fastapi_userkit.db.login_sessions import SESSION_TABLES
from fastapi_userkit.db.mfa import MFA_TABLES
from fastapi_userkit.db.roles import ROLE_TABLES
from tests.conftest import PASSWORD, POSTGRES_URL, SECRET

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parent.parent
ALEMBIC_INI = ROOT / "examples" / "alembic" / "alembic.ini"
KIT_TABLES = (
    {User.__table__.name}
    | {table.name for table in SESSION_TABLES}
    | {table.name for table in ROLE_TABLES}
    | {table.name for table in MFA_TABLES}
)


async def alembic(*args: str, env: dict[str, str]) -> str:
    """Run the example's Alembic in a subprocess, as a host's CI would; return its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "alembic",
        "-c",
        str(ALEMBIC_INI),
        *args,
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    text_output = output.decode()
    assert process.returncode == 0, f"alembic {' '.join(args)} failed:\n{text_output}"
    return text_output


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await _table_names(conn)


async def _table_names(conn: AsyncConnection) -> set[str]:
    return set(await conn.run_sync(lambda sync_conn: inspect(sync_conn).get_table_names()))


async def test_upgrade_check_use_and_downgrade_on_postgres(pg_engine: AsyncEngine) -> None:
    async with pg_engine.connect() as conn:  # pg_engine's search_path is a fresh schema
        schema = (await conn.execute(text("SELECT current_schema()"))).scalar_one()
    env = {"USERKIT_DATABASE_URL": POSTGRES_URL, "USERKIT_ALEMBIC_SCHEMA": schema}

    await alembic("upgrade", "head", env=env)
    assert await table_names(pg_engine) == KIT_TABLES | {"alembic_version"}
    output = await alembic("check", env=env)
    assert "No new upgrade operations detected" in output

    app = FastAPI()
    settings = UserKitSettings(
        secret_key=SECRET, bcrypt_rounds=4, database_url=POSTGRES_URL, create_tables=False
    )
    include_user_router(app, settings=settings, database=pg_engine)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        registered = await client.post(
            "/auth/register", json={"email": "mig@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text
        login = await client.post(
            "/auth/jwt/login", data={"username": "mig@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        tokens: dict[str, Any] = login.json()
        me = await client.get(
            "/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.status_code == 200, me.text
        assert me.json()["email"] == "mig@example.com"
        refreshed = await client.post(
            "/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
    async with pg_engine.connect() as conn:
        counts = (
            await conn.execute(
                text(
                    'SELECT (SELECT count(*) FROM "user"), (SELECT count(*) FROM userkit_session),'
                    " (SELECT count(*) FROM userkit_refresh_token)"
                )
            )
        ).one()
    assert tuple(counts) == (1, 1, 2)
    await pg_engine.dispose()  # no pooled connection in the way of DROP TABLE

    await alembic("downgrade", "base", env=env)
    async with pg_engine.connect() as conn:
        assert await _table_names(conn) == {"alembic_version"}  # Alembic keeps its own, empty
        assert (await conn.execute(text("SELECT count(*) FROM alembic_version"))).scalar() == 0


async def test_offline_sql_needs_no_database() -> None:
    """`alembic upgrade head --sql` prints the DDL for review without connecting."""
    output = await alembic(
        "upgrade",
        "head",
        "--sql",
        env={"USERKIT_DATABASE_URL": "postgresql+asyncpg://nobody@192.0.2.1:1/none"},
    )
    assert 'CREATE TABLE "user"' in output
    assert "CREATE UNIQUE INDEX ix_user_email_key" in output
    assert "TIMESTAMP WITH TIME ZONE" in output


async def test_sqlite_creates_its_tables_at_startup_without_alembic(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/dev.db"
    app = FastAPI()
    settings = UserKitSettings(
        secret_key=SECRET, bcrypt_rounds=4, database_url=url, mfa_enabled=True
    )
    include_user_router(app, settings=settings)
    async with LifespanManager(app):
        pass
    engine = create_async_engine(url)
    try:
        assert await table_names(engine) == KIT_TABLES  # and no alembic_version
    finally:
        await engine.dispose()
