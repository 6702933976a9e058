"""Create the kit's own tables: the session tables (userkit_session,
userkit_refresh_token) and the role tables (userkit_role, userkit_role_scope,
userkit_user_role).

Usage: python create_session_tables.py DATABASE_URL (the URL of fill_email_keys.py)
"""

import asyncio
import sys

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase


async def create_session_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(SessionBase.metadata.create_all)
        await conn.run_sync(RoleBase.metadata.create_all)


async def main(url: str) -> None:
    engine = create_async_engine(url)
    try:
        await create_session_tables(engine)
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
