"""SQLAlchemy pieces: user mixins, the default model, the store, session sources."""

from fastapi_userkit.db.database import Database as Database
from fastapi_userkit.db.database import UnitOfWork as UnitOfWork
from fastapi_userkit.db.models import IntegerIdUserMixin as IntegerIdUserMixin
from fastapi_userkit.db.models import UserColumns as UserColumns
from fastapi_userkit.db.models import UserMixin as UserMixin
from fastapi_userkit.db.store import SQLAlchemyUserStore as SQLAlchemyUserStore

__all__ = [
    "Database",
    "IntegerIdUserMixin",
    "SQLAlchemyUserStore",
    "UnitOfWork",
    "UserColumns",
    "UserMixin",
]
