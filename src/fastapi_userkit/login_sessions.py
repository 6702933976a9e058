"""Login sessions: one per login, holding the refresh-token family.

(A *login session* is what a user ends by logging out; the database sessions the
kit uses are `AsyncSession`s inside a `UnitOfWork`, and never called sessions here.)

A `SessionStore` keeps sessions and the hashes of their refresh tokens. Access
tokens name their session (`sid`), so ending a session rejects its access tokens
at once. Refresh tokens are opaque random strings; only their SHA-256 is stored.
Each refresh rotates the token, and presenting a rotated token again revokes the
whole session (its family).

Implementations: `fastapi_userkit.db.login_sessions.SQLSessionStore` (default),
`MemorySessionStore` (tests, one process), and
`fastapi_userkit.contrib.redis.RedisSessionStore` (extra `[redis]`).
"""

import asyncio
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.exceptions import (
    BadTokenError,
    RefreshTokenReuseError,
    SessionStoreUnavailableError,
)

__all__ = [
    "LoginSession",
    "MemorySessionStore",
    "RefreshTokenReuseError",
    "SessionStore",
    "SessionStoreProvider",
    "SessionStoreUnavailableError",
    "hash_refresh_token",
    "is_session_id",
    "new_refresh_token",
    "new_session_id",
]

REFRESH_TOKEN_BYTES = 32  # 256 random bits


@dataclass(frozen=True, slots=True)
class LoginSession:
    """One login of one user."""

    id: str
    user_id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    """Absolute end of the session, whatever the refreshes."""
    user_agent: str | None = None
    ip: str | None = None
    revoked: bool = False

    def is_active(self, now: datetime) -> bool:
        """Whether the session may still authenticate requests."""
        return not self.revoked and now < self.expires_at


SESSION_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Shape of every session id the kit issues; anything else is refused unread."""


def is_session_id(value: str) -> bool:
    """Whether *value* has the shape of a session id (safe to send to any store)."""
    return SESSION_ID_PATTERN.fullmatch(value) is not None


def new_session_id() -> str:
    """A fresh, unguessable session id."""
    return str(uuid.uuid4())


def new_refresh_token() -> tuple[str, str]:
    """Return a new refresh token and the hash to store for it."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    """SHA-256 of a refresh token (a fast hash suits 256 random bits)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class SessionStore(Protocol):
    """Where login sessions and refresh-token hashes live.

    Stores bound to a database session flush but never commit.
    """

    async def create(
        self, session: LoginSession, refresh_hash: str, refresh_expires_at: datetime
    ) -> None:
        """Store a new session and its first refresh-token hash."""
        ...

    async def get(self, session_id: str) -> LoginSession | None:
        """Return the session, revoked or not, or `None` if unknown."""
        ...

    async def find(self, refresh_hash: str) -> LoginSession | None:
        """Return the session the refresh token *refresh_hash* belongs to, without
        spending it, or `None` if the token is unknown.
        """
        ...

    async def rotate(
        self, old_hash: str, new_hash: str, ttl: timedelta, now: datetime
    ) -> LoginSession:
        """Spend the refresh token *old_hash* and store *new_hash* in its place,
        valid for *ttl* but never past the session's absolute expiry.

        Raises:
            BadTokenError: unknown or expired token, or an ended session.
            RefreshTokenReuseError: the token was spent before; the session is revoked.
        """
        ...

    async def revoke(self, session_id: str) -> None:
        """End one session."""
        ...

    async def revoke_all(self, user_id: str, *, keep: str | None = None) -> None:
        """End every session of *user_id*, except *keep*."""
        ...

    async def list_active(self, user_id: str, now: datetime) -> list[LoginSession]:
        """Return the user's sessions that are neither revoked nor expired."""
        ...


class SessionStoreProvider(Protocol):
    """Gives the `SessionStore` for one unit of work (SQL stores use its session;
    others return themselves).
    """

    def bind(self, uow: UnitOfWork) -> SessionStore:
        """Return the store to use inside *uow*."""
        ...


@dataclass
class _MemoryToken:
    session_id: str
    expires_at: datetime
    used: bool = False


class MemorySessionStore(SessionStore, SessionStoreProvider):
    """Sessions in this process's memory: for tests and single-process development.

    Nothing is shared between workers and everything is lost on restart.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, LoginSession] = {}
        self._tokens: dict[str, _MemoryToken] = {}
        self._lock = asyncio.Lock()

    def bind(self, uow: UnitOfWork) -> SessionStore:  # noqa: D102 - see SessionStoreProvider
        return self

    async def create(  # noqa: D102 - see SessionStore
        self, session: LoginSession, refresh_hash: str, refresh_expires_at: datetime
    ) -> None:
        async with self._lock:
            self._sessions[session.id] = session
            self._tokens[refresh_hash] = _MemoryToken(session.id, refresh_expires_at)

    async def get(self, session_id: str) -> LoginSession | None:  # noqa: D102
        return self._sessions.get(session_id)

    async def find(self, refresh_hash: str) -> LoginSession | None:  # noqa: D102
        token = self._tokens.get(refresh_hash)
        return self._sessions.get(token.session_id) if token is not None else None

    async def rotate(  # noqa: D102
        self, old_hash: str, new_hash: str, ttl: timedelta, now: datetime
    ) -> LoginSession:
        async with self._lock:
            token = self._tokens.get(old_hash)
            if token is None:
                raise BadTokenError("unknown refresh token")
            session = self._sessions.get(token.session_id)
            if session is None or not session.is_active(now):
                raise BadTokenError("session ended")
            if token.used:
                revoked = replace(session, revoked=True)
                self._sessions[session.id] = revoked
                raise RefreshTokenReuseError(revoked)
            if now >= token.expires_at:
                raise BadTokenError("refresh token expired")
            token.used = True
            self._tokens[new_hash] = _MemoryToken(session.id, min(now + ttl, session.expires_at))
            updated = replace(session, last_used_at=now)
            self._sessions[session.id] = updated
            return updated

    async def revoke(self, session_id: str) -> None:  # noqa: D102
        async with self._lock:
            session = self._sessions.get(session_id)
            if session is not None:
                self._sessions[session_id] = replace(session, revoked=True)

    async def revoke_all(self, user_id: str, *, keep: str | None = None) -> None:  # noqa: D102
        async with self._lock:
            for session_id, session in self._sessions.items():
                if session.user_id == user_id and session_id != keep:
                    self._sessions[session_id] = replace(session, revoked=True)

    async def list_active(self, user_id: str, now: datetime) -> list[LoginSession]:  # noqa: D102
        return sorted(
            (s for s in self._sessions.values() if s.user_id == user_id and s.is_active(now)),
            key=lambda s: s.created_at,
        )
