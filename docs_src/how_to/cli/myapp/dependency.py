"""A kit on your own session dependency: `userkit --app myapp.dependency:userkit_cli ...`"""

from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fastapi_userkit import UserKit, include_user_router
from myapp.main import Member

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session, session.begin():
        yield session


app = FastAPI()
kit = include_user_router(app, user_model=Member, database=get_session)


# --8<-- [start:cli]
def userkit_cli() -> UserKit:
    """The same users, for the `userkit` command, on sessions the kit opens itself."""
    return include_user_router(FastAPI(), user_model=Member, database=sessions)


# --8<-- [end:cli]
