"""Alembic environment for a host app on fastapi-userkit's default user model.

- Database URL: `USERKIT_DATABASE_URL`, the variable the app reads, else
  `sqlalchemy.url` from alembic.ini. It must name an async driver
  (`postgresql+asyncpg://...`): the migrations run on an async engine.
- Models: the default `user` table (`UserKitBase.metadata`) and the tables of the
  default SQL session store (`SessionBase.metadata`), the role tables
  (`RoleBase.metadata`) and the second-factor tables (`MfaBase.metadata`, used with
  `USERKIT_MFA_ENABLED=true`). A host with its own
  `DeclarativeBase` lists `Base.metadata` instead of `UserKitBase.metadata`.
- `USERKIT_ALEMBIC_SCHEMA` (optional, PostgreSQL with asyncpg): run with
  `search_path` set to that schema, so the tables and Alembic's `alembic_version`
  live there. The app must then use the same `search_path`. The tests use it to
  migrate a throw-away schema.
"""

import asyncio
import os
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_userkit.db.default import UserKitBase
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.mfa import MfaBase
from fastapi_userkit.db.roles import RoleBase

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

target_metadata = [
    UserKitBase.metadata,
    SessionBase.metadata,
    RoleBase.metadata,
    MfaBase.metadata,
]

database_url = os.environ.get("USERKIT_DATABASE_URL") or config.get_main_option("sqlalchemy.url")
schema = os.environ.get("USERKIT_ALEMBIC_SCHEMA")

# compare_type: report column type changes (e.g. a longer String) in autogenerate
# and `alembic check`, not only added and removed columns.
options: dict[str, Any] = {"target_metadata": target_metadata, "compare_type": True}


def run_migrations_offline() -> None:
    """Write the SQL to stdout instead of running it (`alembic upgrade head --sql`)."""
    context.configure(url=database_url, literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    connect_args = {"server_settings": {"search_path": schema}} if schema else {}
    engine = create_async_engine(database_url, poolclass=pool.NullPool, connect_args=connect_args)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
