"""Opening, refreshing and reading login sessions: the token side of the kit."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Request

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.sessions import BoundSQLSessionStore
from fastapi_userkit.dependencies import parse_user_id
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.schemas import TokenResponse
from fastapi_userkit.sessions import (
    LoginSession,
    hash_refresh_token,
    new_refresh_token,
    new_session_id,
)
from fastapi_userkit.tokens import AccessClaims

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

MAX_REFRESH_TOKEN_LENGTH = 256
USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who is calling: the user, their login session and the token's claims."""

    user: Any
    session: LoginSession
    claims: AccessClaims


def _user_agent(request: Request | None) -> str | None:
    if request is None:
        return None
    agent = request.headers.get("user-agent", "").replace("\x00", "")[:USER_AGENT_MAX_LENGTH]
    return agent or None


class LoginSessions:
    """Issues token pairs and resolves access tokens for one kit."""

    def __init__(self, kit: "UserKit[Any]") -> None:
        self.kit = kit

    def _response(self, user: Any, session_id: str, refresh_token: str) -> TokenResponse:
        codec = self.kit.access_tokens
        access = codec.issue(str(user.id), user.token_version, session_id)
        return TokenResponse(access_token=access, expires_in=codec.ttl, refresh_token=refresh_token)

    async def open(self, uow: UnitOfWork, user: Any, request: Request | None) -> TokenResponse:
        """Start a session for *user* and return its first token pair."""
        settings = self.kit.settings
        now = datetime.now(UTC)
        agent = _user_agent(request)
        ip = self.kit.throttle.ip(request)[:45] if request is not None else None
        session = LoginSession(
            id=new_session_id(),
            user_id=str(user.id),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=settings.session_ttl),
            user_agent=agent,
            ip=ip,
        )
        refresh_token, refresh_hash = new_refresh_token()
        refresh_expires = min(
            now + timedelta(seconds=settings.refresh_token_ttl), session.expires_at
        )
        await self.kit.session_store.bind(uow).create(session, refresh_hash, refresh_expires)
        return self._response(user, session.id, refresh_token)

    async def refresh(self, uow: UnitOfWork, refresh_token: str) -> tuple[Any, TokenResponse]:
        """Rotate *refresh_token* and return the user and a new pair.

        Raises:
            BadTokenError: unknown, expired or spent token, ended session, or a user
                who is gone or inactive (the session is then ended too).
            RefreshTokenReuseError: the token was rotated before; its session is revoked.
        """
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            raise BadTokenError("refresh token is empty or too long")
        store = self.kit.session_store.bind(uow)
        new_token, new_hash = new_refresh_token()
        ttl = timedelta(seconds=self.kit.settings.refresh_token_ttl)
        session = await store.rotate(
            hash_refresh_token(refresh_token), new_hash, ttl, datetime.now(UTC)
        )
        user = await self.kit.store(uow).get(parse_user_id(self.kit.id_type, session.user_id))
        if user is None or not user.is_active:
            await store.revoke(session.id)
            raise BadTokenError("the session's user is gone or inactive")
        return user, self._response(user, session.id, new_token)

    async def authenticate(self, token: str | None, uow: UnitOfWork) -> Authentication | None:
        """Resolve an access token to its user and session, or `None`.

        One signature check and one round trip: with the SQL store, user and
        session are read by primary key in a single query. The session must be
        live and belong to the user, and the token's version must be the user's.
        """
        if not token:
            return None
        try:
            claims = self.kit.access_tokens.read(token)
            user_id = parse_user_id(self.kit.id_type, claims.subject)
        except BadTokenError:
            return None
        store = self.kit.session_store.bind(uow)
        if isinstance(store, BoundSQLSessionStore):
            user, session = await store.get_with_user(
                self.kit.user_model, user_id, claims.session_id
            )
        else:
            session = await store.get(claims.session_id)
            user = await self.kit.store(uow).get(user_id) if session is not None else None
        if (
            user is None
            or session is None
            or session.user_id != claims.subject
            or not session.is_active(datetime.now(UTC))
            or user.token_version != claims.token_version
        ):
            return None
        return Authentication(user, session, claims)
