from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import IntegerIdUserMixin


class Base(DeclarativeBase):
    pass


class User(IntegerIdUserMixin, Base):
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)
