"""Reads outside any ORM session: the one indexed read every authenticated request
makes.

`Database.read_first()` runs a read-only Core statement and returns its first row,
committed data only, with no unit of work around it:

- on a SQLite file, in one thread of the kit's own with a plain `sqlite3` connection
  (through a synchronous SQLAlchemy engine, so column types are processed exactly as
  on the async engine). The requests waiting for a read are answered in batches: one
  hand-off to the thread and one back to the event loop serve every read queued
  meanwhile, where aiosqlite needs about five hand-offs per statement (cursor,
  execute, fetch, close, and the rollback when the connection returns to the pool);
- elsewhere, on a connection of the kit's engine, as one Core statement.
"""

import asyncio
import contextlib
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, NullPool, Row, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.sql import Executable

__all__ = ["SQLiteReadThread", "is_sqlite_file"]

_STOP = object()


def is_sqlite_file(url: URL) -> bool:
    """Whether *url* names an aiosqlite database in a file, which a second connection
    opened elsewhere sees the same (not `:memory:`, not a URI of its own).
    """
    if url.get_backend_name() != "sqlite" or url.get_driver_name() != "aiosqlite":
        return False
    database = url.database or ""
    return (
        database not in ("", ":memory:")
        and not database.startswith("file:")
        and (url.query.get("uri") not in ("true", "1"))
    )


@dataclass
class _Read:
    statement: Executable
    params: dict[str, Any]
    future: "asyncio.Future[Row[Any] | None]"
    loop: asyncio.AbstractEventLoop = field(repr=False)


def _answer(reads: Sequence[tuple[_Read, Row[Any] | None, BaseException | None]]) -> None:
    for read, row, error in reads:
        if read.future.done():  # the request went away
            continue
        if error is not None:
            read.future.set_exception(error)
        else:
            read.future.set_result(row)


class SQLiteReadThread:
    """One daemon thread that runs the reads on a SQLite file, batch by batch.

    Args:
        url: The async engine's URL (`sqlite+aiosqlite:///path`).
        timeout: Seconds a read waits for a writer's lock (`sqlite3`'s `timeout`).
    """

    def __init__(self, url: URL, *, timeout: float) -> None:
        self._engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"),
            poolclass=NullPool,
            connect_args={"timeout": timeout, "check_same_thread": False},
        )
        event.listen(self._engine, "connect", _read_only)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name="fastapi-userkit-sqlite-reads", daemon=True
        )
        self._thread.start()

    async def first(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The first row of *statement*, or `None`."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Row[Any] | None] = loop.create_future()
        self._queue.put(_Read(statement, params, future, loop))
        return await future

    def close(self) -> None:
        """Stop the thread once the reads already queued are answered."""
        self._queue.put(_STOP)
        self._thread.join(timeout=5)
        self._engine.dispose()

    def _run(self) -> None:
        conn: Connection | None = None
        while True:
            batch = [self._queue.get()]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            reads: list[_Read] = [item for item in batch if item is not _STOP]
            answers: dict[asyncio.AbstractEventLoop, list[Any]] = {}
            for read in reads:
                row: Row[Any] | None = None
                error: BaseException | None = None
                try:
                    if conn is None:
                        conn = self._engine.connect()
                    row = conn.execute(read.statement, read.params).first()
                except Exception as exc:  # handed to the request that asked
                    error = exc
                    if conn is not None:
                        conn.invalidate()
                        conn.close()
                        conn = None
                answers.setdefault(read.loop, []).append((read, row, error))
            if conn is not None:
                conn.rollback()  # each batch sees the latest commits
            for loop, answered in answers.items():
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                    loop.call_soon_threadsafe(_answer, answered)
            if stop:
                if conn is not None:
                    conn.close()
                return


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA query_only = ON")
    finally:
        cursor.close()
