"""Login sessions in SQL: the default `SessionStore`, in the users' database.

Two tables, plain SQLAlchemy types: `userkit_session` (one row per login) and
`userkit_refresh_token` (one row per refresh token ever issued, by SHA-256, so a
rotated token presented again is recognised and revokes its session).
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, ForeignKey, String, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.models import Timestamp
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.login_sessions import (
    LoginSession,
    RefreshTokenReuseError,
    SessionStore,
    SessionStoreProvider,
)

__all__ = [
    "SESSION_TABLES",
    "BoundSQLSessionStore",
    "LoginSessionRow",
    "RefreshTokenRow",
    "SQLSessionStore",
    "SessionBase",
    "row_to_session",
]


def _aware(value: datetime) -> datetime:
    # SQLite and MariaDB return naive datetimes even for timezone-aware columns.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class SessionBase(DeclarativeBase):
    """Declarative base of the session tables; add its `metadata` to Alembic's
    `target_metadata` next to your own.
    """


class LoginSessionRow(SessionBase):
    """One login session (`userkit_session`)."""

    __tablename__ = "userkit_session"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    last_used_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(512), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(45), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)

    def to_session(self) -> LoginSession:
        """The row as a `LoginSession` value."""
        return LoginSession(
            id=self.id,
            user_id=self.user_id,
            created_at=_aware(self.created_at),
            last_used_at=_aware(self.last_used_at),
            expires_at=_aware(self.expires_at),
            user_agent=self.user_agent,
            ip=self.ip,
            revoked=self.revoked,
        )


class RefreshTokenRow(SessionBase):
    """The hash of one refresh token (`userkit_refresh_token`)."""

    __tablename__ = "userkit_refresh_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(36),
        ForeignKey("userkit_session.id", ondelete="CASCADE"),
        index=True,
        nullable=False,
    )
    expires_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


def row_to_session(values: Mapping[str, Any]) -> LoginSession:
    """A `LoginSession` from the values of a `userkit_session` row, by column name."""
    return LoginSession(
        id=values["id"],
        user_id=values["user_id"],
        created_at=_aware(values["created_at"]),
        last_used_at=_aware(values["last_used_at"]),
        expires_at=_aware(values["expires_at"]),
        user_agent=values["user_agent"],
        ip=values["ip"],
        revoked=bool(values["revoked"]),
    )


SESSION_TABLES = [LoginSessionRow.__table__, RefreshTokenRow.__table__]


class BoundSQLSessionStore(SessionStore):
    """`SQLSessionStore` working inside one database session; flushes only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(  # noqa: D102 - see SessionStore
        self, session: LoginSession, refresh_hash: str, refresh_expires_at: datetime
    ) -> None:
        self.session.add(
            LoginSessionRow(
                id=session.id,
                user_id=session.user_id,
                created_at=session.created_at,
                last_used_at=session.last_used_at,
                expires_at=session.expires_at,
                user_agent=session.user_agent,
                ip=session.ip,
                revoked=session.revoked,
            )
        )
        await self.session.flush()
        self.session.add(
            RefreshTokenRow(
                token_hash=refresh_hash, session_id=session.id, expires_at=refresh_expires_at
            )
        )
        await self.session.flush()

    async def get(self, session_id: str) -> LoginSession | None:  # noqa: D102
        row = await self.session.get(LoginSessionRow, session_id)
        return None if row is None else row.to_session()

    async def get_with_user(
        self, user_model: type[Any], user_id: Any, session_id: str
    ) -> tuple[Any | None, LoginSession | None]:
        """Load a user and a session by primary key in one round trip."""
        # Two primary-key lookups in one statement; the ids come from the token.
        result = await self.session.execute(
            select(user_model, LoginSessionRow)
            .join(LoginSessionRow, true())
            .where(user_model.id == user_id, LoginSessionRow.id == session_id)
        )
        row = result.first()
        if row is None:
            return None, None
        return row[0], row[1].to_session()

    async def find(self, refresh_hash: str) -> LoginSession | None:  # noqa: D102
        result = await self.session.execute(
            select(LoginSessionRow)
            .join(RefreshTokenRow, LoginSessionRow.id == RefreshTokenRow.session_id)
            .where(RefreshTokenRow.token_hash == refresh_hash)
        )
        row = result.scalar_one_or_none()
        return None if row is None else row.to_session()

    async def rotate(  # noqa: D102
        self, old_hash: str, new_hash: str, ttl: timedelta, now: datetime
    ) -> LoginSession:
        result = await self.session.execute(
            select(RefreshTokenRow, LoginSessionRow)
            .join(LoginSessionRow, LoginSessionRow.id == RefreshTokenRow.session_id)
            .where(RefreshTokenRow.token_hash == old_hash)
        )
        row = result.first()
        if row is None:
            raise BadTokenError("unknown refresh token")
        token: RefreshTokenRow = row[0]
        session_row: LoginSessionRow = row[1]
        if not session_row.to_session().is_active(now):
            raise BadTokenError("session ended")
        if token.used_at is not None:
            raise await self._reuse(session_row)
        if now >= _aware(token.expires_at):
            raise BadTokenError("refresh token expired")
        spent = await self.session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.token_hash == old_hash, RefreshTokenRow.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(spent, "rowcount", 0) != 1:  # a concurrent refresh spent it first
            raise await self._reuse(session_row)
        self.session.add(
            RefreshTokenRow(
                token_hash=new_hash,
                session_id=session_row.id,
                expires_at=min(now + ttl, _aware(session_row.expires_at)),
            )
        )
        session_row.last_used_at = now
        await self.session.flush()
        return session_row.to_session()

    async def _reuse(self, session_row: LoginSessionRow) -> RefreshTokenReuseError:
        await self.session.execute(
            update(LoginSessionRow)
            .where(LoginSessionRow.id == session_row.id)
            .values(revoked=True)
            .execution_options(synchronize_session=False)
        )
        await self.session.flush()
        return RefreshTokenReuseError(replace(session_row.to_session(), revoked=True))

    async def revoke(self, session_id: str) -> None:  # noqa: D102
        await self.session.execute(
            update(LoginSessionRow)
            .where(LoginSessionRow.id == session_id)
            .values(revoked=True)
            .execution_options(synchronize_session=False)
        )
        await self.session.flush()

    async def revoke_all(self, user_id: str, *, keep: str | None = None) -> None:  # noqa: D102
        statement = update(LoginSessionRow).where(
            LoginSessionRow.user_id == user_id, LoginSessionRow.revoked.is_(False)
        )
        if keep is not None:
            statement = statement.where(LoginSessionRow.id != keep)
        await self.session.execute(
            statement.values(revoked=True).execution_options(synchronize_session=False)
        )
        await self.session.flush()

    async def list_active(self, user_id: str, now: datetime) -> list[LoginSession]:  # noqa: D102
        result = await self.session.execute(
            select(LoginSessionRow)
            .where(
                LoginSessionRow.user_id == user_id,
                LoginSessionRow.revoked.is_(False),
                LoginSessionRow.expires_at > now,
            )
            .order_by(LoginSessionRow.created_at, LoginSessionRow.id)
        )
        return [row.to_session() for row in result.scalars()]


class SQLSessionStore(SessionStoreProvider):
    """The default session store: tables in the same database as the users.

    Writes join the request's transaction like every other write of the kit.
    """

    tables = SESSION_TABLES

    def bind(self, uow: UnitOfWork) -> BoundSQLSessionStore:  # noqa: D102
        return BoundSQLSessionStore(uow.session)
