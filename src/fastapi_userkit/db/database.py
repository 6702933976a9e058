"""Where the kit gets its database sessions from.

`include_user_router(database=...)` accepts a URL, an `AsyncEngine`, an
`async_sessionmaker` or the host's own session dependency. `Database` turns each
into the same two things: a request-scoped `UnitOfWork` dependency, and
`open()` for work outside a request.
"""

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import (
    Connection,
    Row,
    String,
    Table,
    Uuid,
    event,
    inspect,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql import Executable

from fastapi_userkit.db._direct_reads import SQLiteReadThread, is_sqlite_file
from fastapi_userkit.db._driver_logs import hide_aiosqlite_parameters
from fastapi_userkit.db._outage import is_outage
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
        tables: The kit's tables, which it may create at startup (SQLite development
            default) and otherwise checks for.
        create_tables: `True`/`False` to force; `None` creates only on SQLite (and
            checks elsewhere that the tables exist).
        engine_options: Keyword arguments for the engine the kit creates from a URL:
            those of `create_async_engine()`, plus `connect_timeout` and
            `statement_timeout` in seconds, which become the connect arguments of the
            URL's driver (see `_driver_timeouts`).
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
        options = dict(engine_options or {})
        self._connect_timeout: float | None = options.pop("connect_timeout", None)
        self._statement_timeout: float | None = options.pop("statement_timeout", None)
        self._engine_options = options
        self._create_tables = create_tables
        self._ready = False
        self._started = False
        self._lock = asyncio.Lock()
        self._read_thread: SQLiteReadThread | None = None
        self._driver_logs_checked = False

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
                self._engine = create_async_engine(self._url, **self._url_engine_options())
                event.listen(self._engine.sync_engine, "handle_error", _discard_on_timeout)
                self._owns_engine = True
            self._sessionmaker = async_sessionmaker(self._engine, expire_on_commit=False)
        if not self._driver_logs_checked:
            self._driver_logs_checked = True
            bind = self._sessionmaker.kw.get("bind")
            if isinstance(bind, AsyncEngine) and bind.dialect.driver == "aiosqlite":
                hide_aiosqlite_parameters()
        return self._sessionmaker

    def _url_engine_options(self) -> dict[str, Any]:
        """The engine options, with the timeouts as the driver's connect arguments."""
        url = make_url(self._url)
        timeouts = _driver_timeouts(
            url, connect=self._connect_timeout, statement=self._statement_timeout
        )
        options = dict(self._engine_options)
        # SQL parameters (password and token hashes) stay out of SQLAlchemy's logs and of
        # the text of its exceptions, which tracebacks print.
        options.setdefault("hide_parameters", True)
        # Arguments written in the URL, or given as connect_args, win over the settings.
        connect_args = {k: v for k, v in timeouts.items() if k not in url.query}
        connect_args.update(options.get("connect_args") or {})
        if connect_args:
            options["connect_args"] = connect_args
        return options

    async def startup(self) -> None:
        """Create the engine if the kit owns it, create the tables where allowed, and
        check the tables otherwise.

        The application still starts when the database cannot be reached (unless the
        kit must create its tables): the check then runs in the first request that
        reaches the database.

        Raises:
            ConfigurationError: the kit's tables are missing, or its user ids are
                written in a form its id column cannot look up.
        """
        self._started = True
        try:
            await self._prepare()
        except Exception as error:
            if not is_outage(error) or self._creates_tables():
                raise
            logger.warning(
                "database unreachable at startup (%s); the kit's tables are checked when it "
                "answers",
                type(error).__name__,
            )

    def _creates_tables(self) -> bool:
        if self._create_tables is None:
            return self.dialect_name == "sqlite"
        return self._create_tables

    async def _prepare(self) -> None:
        """Startup proper, once: errors propagate, an outage included."""
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            if self._dependency is None:
                maker = self._maker()
                if self._creates_tables():
                    await self._create(maker)
                # `create_tables=false` means the host owns the schema, maybe created
                # later by its own lifespan or by `userkit init-db`: nothing is checked.
                if self._create_tables is not False:
                    await self._check(maker)
            self._ready = True

    async def _check(self, maker: async_sessionmaker[AsyncSession]) -> None:
        """One inspection: every kit table exists, and user ids can be looked up.

        Raises:
            ConfigurationError: a table is missing, or ids are not in the form their
                column type looks up.
        """
        bind = maker.kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            return  # nothing to inspect through
        async with bind.connect() as conn:
            await conn.run_sync(self._check_schema)

    def _check_schema(self, sync_conn: Connection) -> None:
        inspector = inspect(sync_conn)
        schemas = {table.schema for table in self._tables}
        existing = {schema: set(inspector.get_table_names(schema=schema)) for schema in schemas}
        missing = [t.name for t in self._tables if t.name not in existing[t.schema]]
        if missing:
            raise ConfigurationError(
                f"the kit's tables are missing from the database: {', '.join(missing)}. "
                "Create them with your migrations (see 'Manage the schema with Alembic' in "
                "the documentation), with `userkit init-db` in development, or let the kit "
                "create them at startup with USERKIT_CREATE_TABLES=true."
            )
        for table in self._tables:
            _check_uuid_spelling(sync_conn, table)

    def _check_on_first_use(self, session: AsyncSession) -> None:
        """Run the startup check on *session*'s connection when it first gets one.

        A request that needs no database (no token, an optional user) thus still does
        not touch it, and one that does pays no extra connection attempt.
        """

        def check(_session: Any, _transaction: Any, connection: Connection) -> None:
            if not self._ready:
                self._check_schema(connection)
                self._ready = True

        event.listen(session.sync_session, "after_begin", check)

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

    @property
    def reads_directly(self) -> bool:
        """Whether `read_first()` can run: the kit opens its own sessions."""
        return self._dependency is None

    async def read_first(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The first row of the read-only *statement*, outside any session.

        It sees committed data only. On a SQLite file it runs in the kit's read
        thread (see `_direct_reads`); elsewhere as one Core statement on a pooled
        connection of the engine.
        """
        await self._prepare()
        if self._read_thread is not None:
            return await self._read_thread.first(statement, params)
        bind = self._maker().kw.get("bind")
        if not isinstance(bind, AsyncEngine):
            raise ConfigurationError("direct reads need a sessionmaker bound to an engine")
        if is_sqlite_file(bind.url):
            timeout = self._statement_timeout if self._statement_timeout is not None else 5.0
            self._read_thread = SQLiteReadThread(bind.url, timeout=timeout)
            return await self._read_thread.first(statement, params)
        async with bind.connect() as conn:
            result = await conn.execute(statement, params)
            return result.first()

    async def shutdown(self) -> None:
        """Dispose of the engine, if the kit created it, and stop the read thread."""
        if self._read_thread is not None:
            thread, self._read_thread = self._read_thread, None
            await asyncio.to_thread(thread.close)
        if self._owns_engine and self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessionmaker = None
            self._owns_engine = False
        self._ready = False
        self._started = False

    @asynccontextmanager
    async def open(self) -> AsyncIterator[UnitOfWork]:
        """A unit of work outside a request; the caller commits it."""
        if self._dependency is not None:
            raise ConfigurationError(
                "this kit takes its sessions from a request dependency; pass "
                "db_session= to work outside a request"
            )
        await self._prepare()
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
            if not self._started:  # used without a lifespan: start up now
                await self.startup()
            async with self._maker()(expire_on_commit=False) as session:
                if not self._ready:  # the database was unreachable at startup
                    self._check_on_first_use(session)
                yield UnitOfWork(session, owned=True)

        return unit_of_work


def _check_uuid_spelling(sync_conn: Connection, table: Table) -> None:
    """Refuse ids that SQLAlchemy's `Uuid` type stores without dashes but the database
    holds with them, as fastapi-users' `GUID` wrote them on databases without a UUID
    type: reading works, but every lookup and update by id misses.

    Raises:
        ConfigurationError: the first id read has dashes.
    """
    columns = list(table.primary_key.columns)
    if len(columns) != 1 or not isinstance(columns[0].type, Uuid):
        return
    if columns[0].type.native_uuid and sync_conn.dialect.supports_native_uuid:
        return  # PostgreSQL: a real UUID column, whatever spelling was inserted
    sample = sync_conn.execute(select(type_coerce(columns[0], String())).limit(1)).scalar()
    if isinstance(sample, str) and "-" in sample:
        raise ConfigurationError(
            f"the ids in table {table.name!r} are written with dashes (36 characters), as "
            "fastapi-users writes them, but the kit's id column reads and looks them up as "
            "32 hexadecimal digits: no user could be found by id. Convert them first, as "
            "step 1 of 'Migrate from fastapi-users' in the documentation does (REPLACE(id, "
            "'-', '') in this table and in every column that holds user ids)."
        )


def _driver_timeouts(url: URL, *, connect: float | None, statement: float | None) -> dict[str, Any]:
    """The connect arguments that bound a connection attempt and each statement, for the
    driver *url* names. Other drivers get none.

    | Driver | *connect* | *statement* |
    |---|---|---|
    | asyncpg | `timeout` (the whole connection, login included) | `command_timeout` |
    | asyncmy | a deadline on the whole connection, and `connect_timeout` | `read_timeout` |
    | aiomysql | a deadline on the whole connection | (none) |
    | aiosqlite | (none) | `timeout`: how long to wait for a lock |

    Args:
        url: The database URL.
        connect: Seconds to open a connection; `None` leaves the driver's default.
        statement: Seconds to wait for one statement; `None` leaves the driver's default.

    Returns:
        Keyword arguments for `create_async_engine(connect_args=...)`.
    """
    driver = url.get_driver_name()
    args: dict[str, Any] = {}
    if driver == "asyncpg":
        args.update(timeout=connect, command_timeout=statement)
    elif driver == "asyncmy":
        args.update(connect_timeout=connect, read_timeout=statement)
    elif driver == "aiosqlite":
        args.update(timeout=statement)
    if driver in ("asyncmy", "aiomysql") and connect is not None:
        # Their connect_timeout covers the TCP connection only, not the server's greeting
        # and the login that follow; SQLAlchemy's MySQL dialects take the driver's
        # connect function as `async_creator_fn`, which a deadline can wrap.
        args["async_creator_fn"] = _with_deadline(importlib.import_module(driver).connect, connect)
    return {k: v for k, v in args.items() if v is not None}


def _with_deadline(
    connect: Callable[..., Awaitable[Any]], seconds: float
) -> Callable[..., Awaitable[Any]]:
    async def connect_in_time(*args: Any, **kwargs: Any) -> Any:
        # A cancelled attempt closes its socket (the drivers close on any BaseException).
        return await asyncio.wait_for(connect(*args, **kwargs), seconds)

    return connect_in_time


def _discard_on_timeout(context: ExceptionContext) -> None:
    """Drop a connection whose statement ran out of time instead of rolling it back.

    A driver-side timeout leaves the connection in an unknown state, and on a server
    that stopped answering a rollback, or a polite close, would wait once more. So the
    driver connection is terminated at once (asyncpg's `terminate()`; asyncmy has
    closed it already) and SQLAlchemy discards it. The other pooled connections are
    kept: one slow statement does not prove them broken.
    """
    if not isinstance(context.original_exception, TimeoutError):
        return
    context.is_disconnect = True
    context.invalidate_pool_on_disconnect = False
    connection = context.connection
    if connection is None or connection.invalidated:
        return
    # Best effort: an error raised here would replace the timeout the caller must see.
    with contextlib.suppress(Exception):
        terminate = getattr(connection.connection.driver_connection, "terminate", None)
        if callable(terminate) and not asyncio.iscoroutinefunction(terminate):
            terminate()
