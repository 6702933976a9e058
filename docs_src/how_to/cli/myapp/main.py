from fastapi import FastAPI
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import IntegerIdUserMixin, include_user_router


class Base(DeclarativeBase):
    pass


class Member(IntegerIdUserMixin, Base):
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)


app = FastAPI()
kit = include_user_router(app, user_model=Member)
