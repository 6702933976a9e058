"""The ready-made user model used when the host passes no `user_model=`."""

from sqlalchemy.orm import DeclarativeBase

from fastapi_userkit.db.models import UserMixin

__all__ = [
    "User",
    "UserKitBase",
]


class UserKitBase(DeclarativeBase):
    """Declarative base of the default model; hosts with a base of their own
    combine `UserMixin` with it instead.
    """


class User(UserMixin, UserKitBase):
    """Default user: the `user` table with a UUID id."""
