"""Where the kit gets its database sessions from.

`include_user_router(database=...)` accepts a URL, an `AsyncEngine`, an
`async_sessionmaker` or the host's own session dependency. `Database` turns each
into the same two things: a request-scoped `UnitOfWork` dependency, and
`open()` for work outside a request.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import Table, inspect, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from fastapi_userkit.exceptions import ConfigurationError

__all__ = [
    "Database",
    "DatabaseSource",
    "UnitOfWork",
]

logger = logging.getLogger("fastapi_userkit.db")

DatabaseSource = str | AsyncEngine | async_sessionmaker[AsyncSession] | Callable[..., Any]
"""What `include_user_router(database=...)` accepts."""


class UnitOfWork:
    """A session plus who owns its transaction.

    When the kit opened the session it commits it; when the session came from
    the host's dependency, the kit only flushes and the host commits.
    """

    __slots__ = ("owned", "session")

    def __init__(self, session: AsyncSession, *, owned: bool) -> None:
        self.session = session
        self.owned = owned

    async def commit(self) -> None:
        """Commit when the kit owns the transaction; otherwise flush into the host's."""
        if self.owned:
            await self.session.commit()
        else:
            await self.session.flush()

    async def rollback(self) -> None:
        """Roll back when the kit owns the transaction; the host's is the host's to end."""
        if self.owned:
            await self.session.rollback()


class Database:
    """Sessions for one kit, from whichever source the host gave.

    Args:
        source: URL, engine, sessionmaker or session dependency.
        tables: Tables the kit may create at startup (SQLite development default).
        create_tables: `True`/`False` to force; `None` creates only on SQLite.
        engine_options: Keyword arguments for the engine the kit creates from a URL.
    """

    def __init__(
        self,
        source: DatabaseSource,
        *,
        tables: list[Table],
        create_tables: bool | None,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        self._owns_engine = False
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self._dependency: Callable[..., Any] | None = None
        if isinstance(source, str):
            self._url = source
        elif isinstance(source, AsyncEngine):
            self._engine = source
        elif isinstance(source, async_sessionmaker):
            self._sessionmaker = source
        elif callable(source):
            self._dependency = source
        else:
            raise ConfigurationError(
                "database= must be a URL, an AsyncEngine, an async_sessionmaker "
                f"or a session dependency, not {type(source).__name__}"
            )
        self._tables = tables
        self._engine_options = engine_options or {}
        self._create_tables = create_tables
        self._ready = False
        self._lock = asyncio.Lock()

    @property
    def dialect_name(self) -> str | None:
        """Name of the SQL dialect (`sqlite`, `postgresql`, ...), `None` if unknown."""
        if self._engine is not None:
            return self._engine.dialect.name
        bind = self._sessionmaker.kw.get("bind") if self._sessionmaker is not None else None
        if isinstance(bind, AsyncEngine):
            return bind.dialect.name
        if self._dependency is None and self._sessionmaker is None:
            return self._url.split(":", 1)[0].split("+", 1)[0]
        return None

    @property
    def uses_host_sessions(self) -> bool:
        """Whether sessions come from the host's dependency (the host commits)."""
        return self._dependency is not None

    def _maker(self) -> async_sessionmaker[AsyncSession]:
        if self._sessionmaker is None:
            if self._engine is None:
                self._engine = create_async_engine(self._url, **self._engine_options)
                self._owns_engine = True
            self._sessionmaker = async_sessionmaker(self._engine, expire_on_commit=False)
        return self._sessionmaker

    async def startup(self) -> None:
        """Create the engine if the kit owns it, and the tables where allowed."""
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            if self._dependency is None:
                maker = self._maker()
                create = self._create_tables
                if create is None:
                    create = self.dialect_name == "sqlite"
                if create:
                    await self._create(maker)
            self._ready = True

    @property
    def tables(self) -> list[Table]:
        """The tables the kit uses: the user table, and the session tables when
        login sessions live in SQL.
        """
        return list(self._tables)

    async def create_tables(self) -> None:
        """Create the kit's missing tables now, whatever `create_tables` says (the
        `userkit init-db` command; use migrations in production).

        Raises:
            ConfigurationError: sessions come from the host's dependency.
        """
        if self._dependency is not None:
            raise ConfigurationError("the kit cannot create tables through your session dependency")
        await self._create(self._maker())

    async def _create(self, maker: async_sessionmaker[AsyncSession]) -> None:
        bind = maker.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            logger.warning("cannot create tables: the sessionmaker has no engine bound")
            return
        async with bind.begin() as conn:
            if bind.dialect.name == "postgresql":
                # Workers starting together must not race to create the same tables.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(hashtext('fastapi_userkit.create_tables'))")
                )

            def create(sync_conn: Any) -> None:
                existing = set(inspect(sync_conn).get_table_names())
                missing = [t for t in self._tables if t.name not in existing]
                for table in missing:
                    table.create(sync_conn, checkfirst=True)

            await conn.run_sync(create)

    async def shutdown(self) -> None:
        """Dispose of the engine, if the kit created it."""
        if self._owns_engine and self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = None
            self._owns_engine = False
        self._ready = False

    @asynccontextmanager
    async def open(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work outside a request; the caller commits it."""
        if self._dependency is not None:
            raise ConfigurationError(
                "this kit takes its sessions from a request dependency; pass "
                "db_session= to work outside a request"
            )
        await self.startup()
        async with self._maker()(expire_on_commit=False) as session:
            yield UnitOfWork(session, owned=True)

    def dependency(self) -> Callable[..., Any]:
        """Build the request-scoped `UnitOfWork` dependency."""
        if self._dependency is not None:
            host_dependency = self._dependency

            async def host_unit_of_work(
                session: Annotated[AsyncSession, Depends(host_dependency)],
            ) -> UnitOfWork:
                return UnitOfWork(session, owned=False)

            return host_unit_of_work

        async def unit_of_work() -> AsyncIterator[UnitOfWork]:
            if not self._ready:
                await self.startup()
            async with self._maker()(expire_on_commit=False) as session:
                yield UnitOfWork(session, owned=True)

        return unit_of_work
