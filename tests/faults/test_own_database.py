"""The suite's own fixture under a race: `own_database` on MariaDB kills the
connections it listed, and one of them may have ended in between (MariaDB then answers
1094 "Unknown thread id"); the teardown must still drop the database."""

from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import own_database
from tests.faults.conftest import MARIADB_URL

pytestmark = pytest.mark.single_pass


async def test_a_connection_gone_before_its_kill_is_tolerated() -> None:
    ended_first: list[str] = []

    def end_it_first(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        # The listed connection ends just before the teardown's KILL reaches it.
        if statement.startswith("KILL ") and not ended_first:
            ended_first.append(statement)
            cursor.execute(statement)

    event.listen(Engine, "before_cursor_execute", end_it_first)
    try:
        async with own_database(MARIADB_URL) as url:
            engine = create_async_engine(url)
            left_open = await engine.connect()  # as a test may leave one
            await left_open.execute(text("SELECT 1"))
            name = left_open.engine.url.database
    finally:
        event.remove(Engine, "before_cursor_execute", end_it_first)
    assert ended_first
    await left_open.invalidate()  # killed by the teardown
    await engine.dispose()
    admin = create_async_engine(MARIADB_URL)
    async with admin.connect() as conn:
        schemata = await conn.scalars(text("SELECT schema_name FROM information_schema.schemata"))
        assert name not in set(schemata)  # dropped all the same
    await admin.dispose()
