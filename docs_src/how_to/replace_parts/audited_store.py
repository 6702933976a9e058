import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import SQLAlchemyUserStore, UserMixin, include_user_router


class Base(DeclarativeBase):
    pass


class User(UserMixin, Base):
    pass


class AuditEntry(Base):  # created by your migrations, like your other tables
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID]
    fields: Mapped[list[str]] = mapped_column(JSON)


class AuditedStore(SQLAlchemyUserStore[User]):
    async def update(self, user: User, values: dict[str, Any]) -> User:
        user = await super().update(user, values)
        self.session.add(AuditEntry(user_id=user.id, fields=sorted(values)))
        return user


app = FastAPI()
kit = include_user_router(
    app, user_model=User, user_store=lambda uow: AuditedStore(uow.session, User)
)
