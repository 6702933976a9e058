"""A host with its own `DeclarativeBase`, an extra column and integer ids."""

from fastapi import FastAPI
from sqlalchemy import String
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import (
    IntegerIdUserMixin,
    UserCreate,
    UserKitSettings,
    UserRead,
    UserSchemas,
    UserUpdate,
    include_user_router,
)


class Base(DeclarativeBase):
    pass


class Member(IntegerIdUserMixin, Base):
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)


class MemberRead(UserRead):
    display_name: str | None = None


class MemberCreate(UserCreate):
    display_name: str | None = None


class MemberUpdate(UserUpdate):
    display_name: str | None = None


def create_app(database_url: str, settings: UserKitSettings | None = None) -> FastAPI:
    engine = create_async_engine(database_url)
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    app = FastAPI()
    include_user_router(
        app,
        settings=settings,
        user_model=Member,
        schemas=UserSchemas(read=MemberRead, create=MemberCreate, update=MemberUpdate),
        database=sessions,
    )
    return app
