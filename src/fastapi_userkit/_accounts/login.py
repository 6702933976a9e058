"""Logging in with a password: the bearer, cookie and RFC 6749 password grants."""

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from starlette.responses import Response

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.login_sessions import LoginSessions, StoreFactory
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    InvalidCredentialsError,
    TooManyRequestsError,
    UnverifiedLoginError,
)
from fastapi_userkit.hooks import UserKitHooks, run_after_hook
from fastapi_userkit.schemas import TokenResponse


@dataclass(frozen=True, slots=True)
class Login:
    """Password logins.

    Attributes:
        users: The user store of a unit of work.
        credentials: Checks the password.
        sessions: Opens the login session.
        throttle: The login limits.
        hooks: For `on_login_failed` and `on_after_login`.
        require_verified: Refuse users whose address is not verified.
    """

    users: StoreFactory
    credentials: Credentials
    sessions: LoginSessions
    throttle: Throttle
    hooks: UserKitHooks
    _: KW_ONLY
    require_verified: bool

    async def log_in(
        self,
        uow: UnitOfWork,
        email: str,
        password: str,
        origin: Origin,
        respond: Callable[[Any, TokenResponse], Response],
    ) -> Response:
        """Check the credentials, open a session and answer with its tokens.

        Effects, in order: the attempt is counted on every login counter before the
        password is checked; a failure keeps it counted and runs `on_login_failed`;
        an outage gives it back; a success takes it back and trusts the client's IP
        for the account; an upgraded hash is committed; then the new session is
        written and committed; *respond* turns the user and the tokens into the
        response, which `on_after_login` receives.

        Raises:
            TooManyRequestsError: a login counter is full (no password is checked).
            InvalidCredentialsError: unknown e-mail, wrong password or inactive user.
            UnverifiedLoginError: verified logins are required (an upgraded hash is
                still committed).
        """
        try:
            counted = await self.throttle.reserve_login(origin, email)
        except TooManyRequestsError:
            await self._failed(origin, None, "rate_limited")
            raise
        async with self.throttle.unless_answered(counted):
            try:
                user = await self.credentials.authenticate(self.users(uow), email, password)
            except InvalidCredentialsError as error:
                await self.throttle.login_failed(origin, email, counted)
                await run_after_hook(
                    "on_login_failed", self.hooks.on_login_failed(email, origin.request)
                )
                await self._failed(origin, error.user_id, "invalid_credentials")
                raise
        await self.throttle.login_succeeded(origin, email, counted)
        # The database work (an upgraded hash) is committed before the session is
        # written: a session store outside the database (Redis) is not rolled back,
        # so a commit that fails must not leave a live session nobody holds.
        await uow.commit()
        if self.require_verified and not user.is_verified:
            await self._failed(origin, str(user.id), "unverified")
            raise UnverifiedLoginError()
        session_id, tokens = await self.sessions.open(uow, user, origin)
        await uow.commit()
        await record(
            self.hooks, origin, SecurityEventName.LOGIN, "success", user=user, session_id=session_id
        )
        response = respond(user, tokens)
        await run_after_hook(
            "on_after_login", self.hooks.on_after_login(user, origin.request, response)
        )
        return response

    async def _failed(self, origin: Origin, user_id: str | None, reason: str) -> None:
        await record(
            self.hooks, origin, SecurityEventName.LOGIN, "failure", user_id=user_id, reason=reason
        )
