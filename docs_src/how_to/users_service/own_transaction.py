import uuid

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import include_user_router


class Base(DeclarativeBase):
    pass


class Profile(Base):  # one of your own tables
    __tablename__ = "profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID]


engine = create_async_engine("sqlite+aiosqlite:///./app.db")
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()
kit = include_user_router(app, database=sessions)


# --8<-- [start:transaction]
async def create_ada() -> None:
    async with sessions() as session, session.begin():
        user = await kit.users.create(
            email="ada@example.com", password="a long passphrase", db_session=session
        )
        session.add(Profile(user_id=user.id))
    # committed here, both rows or neither


# --8<-- [end:transaction]
