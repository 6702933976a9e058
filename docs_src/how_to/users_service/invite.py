import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from fastapi_userkit import include_user_router

engine = create_async_engine("sqlite+aiosqlite:///./app.db")
sessions = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session, session.begin():
        yield session


app = FastAPI()
kit = include_user_router(app, database=sessions)


# --8<-- [start:route]
@app.post("/admin/users")
async def invite(
    email: str,
    admin: kit.Superuser,
    session: Annotated[AsyncSession, Depends(get_session)],
) -> dict[str, str]:
    user = await kit.users.create(
        email=email, password=secrets.token_urlsafe(24), db_session=session
    )
    return {"id": str(user.id)}


# --8<-- [end:route]
