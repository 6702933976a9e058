# --8<-- [start:dependency]
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fastapi_userkit import include_user_router
from fastapi_userkit.db.default import User  # the kit's model, or your own

engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session, session.begin():
        yield session


app = FastAPI()
kit = include_user_router(app, user_model=User, database=get_session)
# --8<-- [end:dependency]


# --8<-- [start:script]
async def create_admin() -> None:
    async with sessions() as session, session.begin():
        await kit.users.create(
            email="admin@example.com",
            password="a long passphrase",
            is_superuser=True,
            db_session=session,
        )


# --8<-- [end:script]
