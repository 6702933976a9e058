"""SQLAlchemy 2 mixins for the user table, combined with the host's `DeclarativeBase`.

The columns match fastapi-users' user table (`id`, `email`, `hashed_password`,
`is_active`, `is_superuser`, `is_verified`) plus what this library needs:
`email_key`, the canonical form of the address with a unique index,
`email_skeleton`, a digest that look-alike addresses share (indexed), and
`token_version`, bumped to invalidate every token issued before. Plain
SQLAlchemy types only, so Alembic autogenerates them untouched.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Uuid
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column

__all__ = [
    "EMAIL_MAX_LENGTH",
    "SKELETON_LENGTH",
    "EmailString",
    "IntegerIdUserMixin",
    "Timestamp",
    "UserColumns",
    "UserMixin",
]

EMAIL_MAX_LENGTH = 320
SKELETON_LENGTH = 64

#: A timezone-aware timestamp; on MariaDB/MySQL with microseconds (their DATETIME
#: keeps whole seconds by default, which would tie logins made in the same second).
Timestamp = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


#: An address or key compared byte for byte. MariaDB/MySQL compare strings under a
#: case- and accent-insensitive collation by default, where a dotless `i` equals `i`
#: and `ß` equals `s`: the unique indexes would merge distinct accounts.
EmailString = String(length=EMAIL_MAX_LENGTH).with_variant(
    mysql.VARCHAR(length=EMAIL_MAX_LENGTH, charset="utf8mb4", collation="utf8mb4_bin"),
    "mysql",
    "mariadb",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class UserColumns:
    """Every user column except the primary key; pick an id mixin below."""

    __tablename__ = "user"

    email: Mapped[str] = mapped_column(EmailString, unique=True, index=True, nullable=False)
    email_key: Mapped[str] = mapped_column(EmailString, unique=True, index=True, nullable=False)
    email_skeleton: Mapped[str] = mapped_column(
        String(length=SKELETON_LENGTH), index=True, nullable=False
    )
    hashed_password: Mapped[str] = mapped_column(String(length=1024), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_verified: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    token_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0", nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_utcnow, nullable=False)


class UserMixin(UserColumns):
    """User columns with a UUID primary key (the default, as in fastapi-users).

    Example:
        ```python
        class Base(DeclarativeBase):
            pass

        class User(UserMixin, Base):
            display_name: Mapped[str | None] = mapped_column(String(100))
        ```
    """

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class IntegerIdUserMixin(UserColumns):
    """User columns with an auto-incremented integer primary key."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
