"""Logging in with a password, and with a second factor where the user has one:
the bearer, cookie and RFC 6749 password grants, the second step, and the
re-authentication of a logged-in user.
"""

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass
from typing import Any

from starlette.responses import Response

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions, StoreFactory
from fastapi_userkit._accounts.second_factors import SecondFactors
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    InvalidCredentialsError,
    SecondFactorRequiredError,
    TooManyRequestsError,
    UnverifiedLoginError,
    WrongCodeError,
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
        factors: The second factors, when they are on.
    """

    users: StoreFactory
    credentials: Credentials
    sessions: LoginSessions
    throttle: Throttle
    hooks: UserKitHooks
    _: KW_ONLY
    require_verified: bool
    factors: SecondFactors | None = None

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
        response, which `on_after_login` receives. A user with a second factor
        gets no session: the attempt is given back (the IP is not trusted yet) and
        a challenge is raised for `complete`.

        Raises:
            TooManyRequestsError: a login counter is full (no password is checked).
            InvalidCredentialsError: unknown e-mail, wrong password or inactive user.
            UnverifiedLoginError: verified logins are required (an upgraded hash is
                still committed).
            SecondFactorRequiredError: the password was right; the login goes on
                at `complete` with the challenge it carries.
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
            methods, challenge = (
                await self.factors.login_challenge(uow, user) if self.factors else ((), "")
            )
        if methods:
            # Not a guess, but not a login yet: the IP earns no trust and the
            # account's counters are not cleared until the second factor.
            await self.throttle.give_back(counted)
        else:
            await self.throttle.login_succeeded(origin, email, counted)
        # The database work (an upgraded hash) is committed before the session is
        # written: a session store outside the database (Redis) is not rolled back,
        # so a commit that fails must not leave a live session nobody holds.
        await uow.commit()
        if self.require_verified and not user.is_verified:
            await self._failed(origin, str(user.id), "unverified")
            raise UnverifiedLoginError()
        if methods:
            assert self.factors is not None  # noqa: S101 - methods come from the factors
            await record(self.hooks, origin, SecurityEventName.MFA_CHALLENGE, "success", user=user)
            raise SecondFactorRequiredError(challenge, self.factors.challenge_ttl, methods)
        return await self._open(uow, user, origin, respond)

    async def complete(
        self,
        uow: UnitOfWork,
        challenge: str,
        code: str | None,
        origin: Origin,
        respond: Callable[[Any, TokenResponse], Response],
        passkey: dict[str, Any] | None = None,
    ) -> Response:
        """The second step of a login: check *code* (or *passkey*, an assertion and
        its token) against the user *challenge* names, then open the session as
        `log_in` does.

        Effects, in order: the challenge is read (and must still match the user's
        account and second-factor state); the attempt is counted on the login
        counters; a wrong code keeps it counted; a right one is spent and
        committed, the IP is trusted, a used recovery code is reported by e-mail;
        then the session is opened and committed, and `on_after_login` runs.

        Raises:
            BadChallengeError: the challenge is unknown, expired or spent.
            WrongCodeError: the code is wrong or used already.
            TooManyRequestsError: a login counter is full (no code is checked).
        """
        if self.factors is None:
            raise RuntimeError("second factors are off")
        user = await self.factors.challenged(uow, challenge)
        method = await self._second_factor(uow, user, code, origin, passkey=passkey)
        await uow.commit()
        return await self._open(uow, user, origin, respond, method=method)

    async def log_in_with_passkey(
        self,
        uow: UnitOfWork,
        passkey: dict[str, Any],
        origin: Origin,
        respond: Callable[[Any, TokenResponse], Response],
    ) -> Response:
        """A passwordless login: a passkey assertion (with user verification, so
        two factors in one) names and proves its user; then as `log_in`.

        Effects, in order: the attempt is counted on the client IP's login counter;
        the assertion is verified and spent; a failure keeps it counted; the user
        must be active (and verified, when required); commit; the session opens.

        Raises:
            WrongCodeError: the assertion does not verify, or was used already.
            InvalidCredentialsError: its user is gone or inactive.
            UnverifiedLoginError: verified logins are required.
            TooManyRequestsError: the client IP's login counter is full.
        """
        if self.factors is None:
            raise RuntimeError("second factors are off")
        counted = await self.throttle.reserve_ip(origin)
        async with self.throttle.unless_answered(counted):
            try:
                owner = await self.factors.assert_passkey(uow, passkey, origin, owner=None)
            except WrongCodeError:
                await self._failed(origin, None, "invalid_passkey")
                raise
            user = await self.users(uow).get(self.factors.parse_id(owner))
        if user is None or not user.is_active:
            await self._failed(origin, owner, "invalid_credentials")
            raise InvalidCredentialsError(user_id=owner)
        await self.throttle.give_back(counted)
        await uow.commit()
        if self.require_verified and not user.is_verified:
            await self._failed(origin, str(user.id), "unverified")
            raise UnverifiedLoginError()
        return await self._open(uow, user, origin, respond, method="passkey")

    async def reauthenticate(
        self,
        uow: UnitOfWork,
        auth: Authentication,
        password: str | None,
        code: str | None,
        origin: Origin,
        passkey: dict[str, Any] | None = None,
    ) -> str:
        """Prove again who the caller is: the password and, when the user has a
        second factor, a code or a passkey; or a passkey alone (it proves two
        factors). Returns a new access token for the same session, whose
        authentication time is now (for `current_user(fresh=...)`).

        Raises:
            WrongPasswordError: the password is wrong.
            WrongCodeError: the code is missing, wrong or used already.
            TooManyRequestsError: a login counter is full.
        """
        user = auth.user
        reauthentication = SecurityEventName.REAUTHENTICATION
        if password is not None or passkey is None:
            await self.credentials.confirm(user, password, origin)
        if passkey is not None or (
            self.factors is not None and await self.factors.methods(uow, user)
        ):
            await self._second_factor(
                uow, user, code, origin, event=reauthentication, passkey=passkey
            )
            await uow.commit()
        await record(
            self.hooks,
            origin,
            SecurityEventName.REAUTHENTICATION,
            "success",
            user=user,
            session_id=auth.session.id,
        )
        return self.sessions.reissue(auth)

    async def _second_factor(
        self,
        uow: UnitOfWork,
        user: Any,
        code: str | None,
        origin: Origin,
        *,
        event: SecurityEventName = SecurityEventName.LOGIN,
        passkey: dict[str, Any] | None = None,
    ) -> str:
        """Check and spend *code* or *passkey* for *user* under the login limits (not
        committed); return the method used.
        """
        if self.factors is None:
            raise WrongCodeError()
        if not code and passkey is None:
            raise WrongCodeError(missing=True)
        try:
            counted = await self.throttle.reserve_login(origin, user.email)
        except TooManyRequestsError:
            await self._failed(origin, str(user.id), "rate_limited", event)
            raise
        async with self.throttle.unless_answered(counted):
            try:
                method = await self.factors.spend(uow, user, code, origin, passkey)
            except WrongCodeError:
                await self.throttle.login_failed(origin, user.email, counted)
                if event == SecurityEventName.LOGIN:
                    await run_after_hook(
                        "on_login_failed", self.hooks.on_login_failed(user.email, origin.request)
                    )
                await self._failed(origin, str(user.id), "invalid_code", event)
                raise
        await self.throttle.login_succeeded(origin, user.email, counted)
        if method == "recovery_code":
            await self.factors.notify_recovery_code_used(uow, user, origin)
        return method

    async def _open(
        self,
        uow: UnitOfWork,
        user: Any,
        origin: Origin,
        respond: Callable[[Any, TokenResponse], Response],
        *,
        method: str | None = None,
    ) -> Response:
        session_id, tokens = await self.sessions.open(uow, user, origin)
        await uow.commit()
        await record(
            self.hooks,
            origin,
            SecurityEventName.LOGIN,
            "success",
            user=user,
            session_id=session_id,
            reason=method,
        )
        response = respond(user, tokens)
        await run_after_hook(
            "on_after_login", self.hooks.on_after_login(user, origin.request, response)
        )
        return response

    async def _failed(
        self,
        origin: Origin,
        user_id: str | None,
        reason: str,
        event: SecurityEventName = SecurityEventName.LOGIN,
    ) -> None:
        await record(self.hooks, origin, event, "failure", user_id=user_id, reason=reason)
