"""Login sessions as account operations: open one, refresh it, resolve an access
token, and end one, one of the user's or all of them.

Side effects, in order: the session store's writes join the unit of work; the
operation commits; then the hooks run (`on_after_logout`, and
`on_refresh_token_reuse` when a spent refresh token comes back).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi_userkit._access_tokens import AccessClaims, AccessTokenCodec
from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit.db._authentication_read import AuthenticationRead, attach
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.login_sessions import BoundSQLSessionStore, SQLSessionStore
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    BadTokenError,
    RefreshTokenReuseError,
    SessionNotFoundError,
)
from fastapi_userkit.hooks import UserKitHooks, run_after_hook
from fastapi_userkit.login_sessions import (
    LoginSession,
    SessionStoreProvider,
    hash_refresh_token,
    is_session_id,
    new_refresh_token,
    new_session_id,
)
from fastapi_userkit.protocols import UserStore
from fastapi_userkit.schemas import TokenResponse

MAX_REFRESH_TOKEN_LENGTH = 256
USER_AGENT_MAX_LENGTH = 512
IP_MAX_LENGTH = 45

StoreFactory = Callable[[UnitOfWork], UserStore[Any]]
"""Gives the user store of one unit of work."""


@dataclass(frozen=True, slots=True)
class Authentication:
    """Who is calling: the user, their login session and the token's claims."""

    user: Any
    session: LoginSession
    claims: AccessClaims
    scopes_held: tuple[str, ...] = ()
    """Scopes the read found the user to hold, when the request asked for them (one
    more column of the same read); empty when it did not ask or they are not all held."""


class LoginSessions:
    """Opens, refreshes, resolves and ends the login sessions of one kit.

    Args:
        access_tokens: Signs and reads access tokens.
        store: Where sessions and refresh-token hashes live.
        users: The user store of a unit of work.
        parse_id: Turns a token's `sub` into a user id (`BadTokenError` if it cannot).
        user_model: The mapped user class (the SQL store reads user and session at once).
        hooks: For `on_after_logout` and `on_refresh_token_reuse`.
        session_ttl: Absolute lifetime of a session, in seconds.
        refresh_ttl: Lifetime of each refresh token, in seconds.
        direct_read: Reads user (and SQL session) outside the ORM for `authenticate`;
            `None` keeps the ORM read (the host's user store or sessions, or a model
            the read cannot load whole).
    """

    def __init__(
        self,
        *,
        access_tokens: AccessTokenCodec,
        store: SessionStoreProvider,
        users: StoreFactory,
        parse_id: Callable[[str], Any],
        user_model: type[Any],
        hooks: UserKitHooks,
        session_ttl: int,
        refresh_ttl: int,
        direct_read: AuthenticationRead | None = None,
    ) -> None:
        self.access_tokens = access_tokens
        self.store = store
        self.users = users
        self.parse_id = parse_id
        self.user_model = user_model
        self.hooks = hooks
        self.session_ttl = session_ttl
        self.refresh_ttl = refresh_ttl
        self.direct_read = direct_read

    def _pair(
        self, user: Any, session_id: str, refresh_token: str, auth_time: datetime
    ) -> TokenResponse:
        codec = self.access_tokens
        access = codec.issue(str(user.id), user.token_version, session_id, auth_time=auth_time)
        return TokenResponse(access_token=access, expires_in=codec.ttl, refresh_token=refresh_token)

    def reissue(self, auth: Authentication) -> str:
        """A new access token for the caller's session, whose user has just proved
        who they are again (its `auth_time` is now).
        """
        user = auth.user
        return self.access_tokens.issue(str(user.id), user.token_version, auth.session.id)

    async def open(self, uow: UnitOfWork, user: Any, origin: Origin) -> tuple[str, TokenResponse]:
        """Start a session for *user* and return its id and first token pair (not
        committed).
        """
        now = datetime.now(UTC)
        agent = (origin.user_agent or "").replace("\x00", "")[:USER_AGENT_MAX_LENGTH]
        session = LoginSession(
            id=new_session_id(),
            user_id=str(user.id),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(seconds=self.session_ttl),
            user_agent=agent or None,
            ip=origin.ip[:IP_MAX_LENGTH] if origin.ip is not None else None,
        )
        refresh_token, refresh_hash = new_refresh_token()
        refresh_expires = min(now + timedelta(seconds=self.refresh_ttl), session.expires_at)
        await self.store.bind(uow).create(session, refresh_hash, refresh_expires)
        return session.id, self._pair(user, session.id, refresh_token, now)

    async def refresh(
        self, uow: UnitOfWork, refresh_token: str, origin: Origin
    ) -> tuple[Any, TokenResponse]:
        """Rotate *refresh_token*, commit, and return the user and a new pair.

        Effects, in order: the token's session and its user are read first, so a
        failure there (an outage: 503) leaves the token unspent for the client's
        retry; a session whose user is gone or inactive is ended and committed; the
        token is spent and a new one stored; commit. A token presented a second
        time revokes its session; the revocation is committed, then
        `on_refresh_token_reuse` runs.

        Raises:
            BadTokenError: unknown, expired or spent token, ended session, or a user
                who is gone or inactive.
            RefreshTokenReuseError: the token was rotated before; its session is revoked.
        """
        if not refresh_token or len(refresh_token) > MAX_REFRESH_TOKEN_LENGTH:
            raise BadTokenError("refresh token is empty or too long")
        store = self.store.bind(uow)
        old_hash = hash_refresh_token(refresh_token)
        found = await store.find(old_hash)
        if found is None:
            raise BadTokenError("unknown refresh token")
        user = await self.users(uow).get(self.parse_id(found.user_id))
        if user is None or not user.is_active:
            await store.revoke(found.id)
            await uow.commit()
            raise BadTokenError("the session's user is gone or inactive")
        new_token, new_hash = new_refresh_token()
        ttl = timedelta(seconds=self.refresh_ttl)
        try:
            session = await store.rotate(old_hash, new_hash, ttl, datetime.now(UTC))
        except RefreshTokenReuseError:
            await uow.commit()  # keep the revocation
            await run_after_hook(
                "on_refresh_token_reuse", self.hooks.on_refresh_token_reuse(user, origin.request)
            )
            await record(
                self.hooks,
                origin,
                SecurityEventName.REFRESH_TOKEN_REUSE,
                "failure",
                user=user,
                session_id=found.id,
                reason="session_revoked",
            )
            raise
        # A refresh proves nothing about the user: the new token's authentication
        # time is the login's.
        pair = self._pair(user, session.id, new_token, session.created_at)
        await uow.commit()
        return user, pair

    async def authenticate(
        self, token: str | None, uow: UnitOfWork, scopes: tuple[str, ...] = ()
    ) -> Authentication | None:
        """Resolve an access token to its user and session, or `None`.

        One signature check and one round trip: with the SQL store, user and
        session are read by primary key in a single query. The session must be
        live and belong to the user, and the token's version must be the user's.
        With *scopes*, the same read tells whether the user's live grants hold them
        all (`Authentication.scopes_held`), where the read is the kit's own.
        """
        if not token:
            return None
        try:
            claims = self.access_tokens.read(token)
            user_id = self.parse_id(claims.subject)
        except BadTokenError:
            return None
        user, session, held = await self._read(
            uow, user_id, claims.session_id, scopes, claims.subject
        )
        if (
            user is None
            or session is None
            or session.user_id != claims.subject
            or not session.is_active(datetime.now(UTC))
            or user.token_version != claims.token_version
        ):
            return None
        if self.direct_read is not None and uow.owned:
            user = attach(uow.session, user)
        return Authentication(user, session, claims, scopes if held else ())

    async def _read(
        self,
        uow: UnitOfWork,
        user_id: Any,
        session_id: str,
        scopes: tuple[str, ...],
        grants_of: str,
    ) -> tuple[Any | None, LoginSession | None, bool]:
        """User, session and whether *scopes* are held, for `authenticate`: one
        statement outside the ORM where possible (the kit's own sessions and user
        store), else through the stores (and the scopes are not read here).
        """
        direct = self.direct_read if uow.owned else None
        if direct is not None and type(self.store) is SQLSessionStore:
            return await direct.user_and_session(user_id, session_id, scopes, grants_of)
        store = self.store.bind(uow)
        if direct is None and isinstance(store, BoundSQLSessionStore):
            user, session = await store.get_with_user(self.user_model, user_id, session_id)
            return user, session, False
        session = await store.get(session_id)
        if session is None:
            return None, None, False
        if direct is not None:
            user, held = await direct.user(user_id, scopes, grants_of)
            return user, session, held
        return await self.users(uow).get(user_id), session, False

    async def end(self, uow: UnitOfWork, auth: Authentication, origin: Origin) -> None:
        """Log out: end the caller's session, commit, run `on_after_logout`."""
        await self.store.bind(uow).revoke(auth.session.id)
        await uow.commit()
        await run_after_hook(
            "on_after_logout", self.hooks.on_after_logout(auth.user, origin.request)
        )
        await record(
            self.hooks,
            origin,
            SecurityEventName.LOGOUT,
            "success",
            user=auth.user,
            session_id=auth.session.id,
        )

    async def end_one(
        self, uow: UnitOfWork, auth: Authentication, session_id: str, origin: Origin
    ) -> None:
        """End one live session of the caller, commit, run `on_after_logout`.

        Raises:
            SessionNotFoundError: no live session of the caller has this id (another
                user's session is not found either).
        """
        store = self.store.bind(uow)
        target = await store.get(session_id) if is_session_id(session_id) else None
        if (
            target is None
            or target.user_id != str(auth.user.id)
            or not target.is_active(datetime.now(UTC))
        ):
            raise SessionNotFoundError()
        await store.revoke(target.id)
        await uow.commit()
        await run_after_hook(
            "on_after_logout", self.hooks.on_after_logout(auth.user, origin.request)
        )
        await record(
            self.hooks,
            origin,
            SecurityEventName.SESSION_REVOKE,
            "success",
            user=auth.user,
            session_id=target.id,
        )

    async def end_all(self, uow: UnitOfWork, user: Any, *, keep: str | None = None) -> None:
        """Invalidate every access token of *user* (token version bump) and end every
        session but *keep*, whose refresh token then yields fresh tokens. Not
        committed: it is a step of the operations that change credentials.
        """
        await self.users(uow).bump_token_version(user)
        await self.store.bind(uow).revoke_all(str(user.id), keep=keep)

    async def revoke_all(self, uow: UnitOfWork, user: Any) -> None:
        """End every session of *user* (not committed), leaving the token version to
        the caller's own write.
        """
        await self.store.bind(uow).revoke_all(str(user.id))

    async def log_out_everywhere(self, uow: UnitOfWork, user: Any, origin: Origin) -> None:
        """End every session of *user* and every access token, commit, and run
        `on_after_logout`.
        """
        await self.end_all(uow, user)
        await uow.commit()
        await run_after_hook("on_after_logout", self.hooks.on_after_logout(user, origin.request))
        await record(self.hooks, origin, SecurityEventName.LOGOUT_ALL, "success", user=user)

    async def list(self, uow: UnitOfWork, auth: Authentication) -> list[tuple[LoginSession, bool]]:
        """The caller's live sessions, oldest first, each with whether it is the
        session of the request.
        """
        sessions = await self.store.bind(uow).list_active(str(auth.user.id), datetime.now(UTC))
        return [(session, session.id == auth.session.id) for session in sessions]
