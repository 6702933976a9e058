"""Passwords as credentials: check them (at login, or to confirm a change) and turn
a new one into a hash.

Checks keep timing parity (unknown e-mails cost one hash) and upgrade old hashes.
A current-password check counts against the login limits, so a stolen session
cannot guess the password faster than the login form could.
"""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import InvalidCredentialsError, WrongPasswordError
from fastapi_userkit.passwords import PasswordHash
from fastapi_userkit.policy import PasswordPolicy
from fastapi_userkit.protocols import UserStore


@dataclass(frozen=True, slots=True)
class Credentials:
    """Password checks and new hashes.

    Attributes:
        hashing: Hashers and their thread pool.
        policy: Rules new passwords must pass.
        throttle: The login limits.
    """

    hashing: PasswordHash
    policy: PasswordPolicy
    throttle: Throttle

    async def authenticate(self, store: UserStore[Any], email: str, password: str) -> Any:
        """Return the active user *email*/*password* identifies; upgrade an old hash
        (written, not committed).

        Raises:
            InvalidCredentialsError: unknown e-mail, wrong password or inactive user.
        """
        user = await store.get_by_email(email)
        if user is None:
            await self.hashing.dummy_verify(password)
            raise InvalidCredentialsError()
        valid, new_hash = await self.hashing.verify_and_update(password, user.hashed_password)
        if not valid or not user.is_active:
            raise InvalidCredentialsError(user_id=str(user.id))
        if new_hash is not None:
            await store.update(user, {"hashed_password": new_hash})
        return user

    async def confirm(self, user: Any, password: str | None, origin: Origin) -> None:
        """Check *user*'s current *password* before a sensitive change, under the
        login limits.

        Raises:
            WrongPasswordError: missing or wrong.
            TooManyRequestsError: a login limit is full.
        """
        if password is None:
            raise WrongPasswordError()
        counted = await self.throttle.reserve_login(origin, user.email)
        async with self.throttle.unless_answered(counted):
            valid, _ = await self.hashing.verify_and_update(password, user.hashed_password)
        if valid:
            await self.throttle.login_succeeded(origin, user.email, counted)
            return
        await self.throttle.login_failed(origin, user.email, counted)
        await record(
            self.throttle.hooks,
            origin,
            SecurityEventName.REAUTHENTICATION,
            "failure",
            user=user,
            reason="wrong_password",
        )
        raise WrongPasswordError()

    async def new_hash(self, password: str, email: str) -> str:
        """Check *password* against the policy for the account *email*, and hash it.

        Raises:
            InvalidPasswordError: the policy refused it (every reason).
        """
        await self.policy.check(password, email)
        return await self.hashing.hash(password)
