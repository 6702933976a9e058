"""Resetting a forgotten password: `POST /auth/forgot-password` and
`POST /auth/reset-password`.
"""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.emailed_tokens import EmailedTokens
from fastapi_userkit._accounts.login_sessions import LoginSessions, StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit._action_tokens import Purpose, bound_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


@dataclass(frozen=True, slots=True)
class PasswordReset:
    """Reset links and their use.

    Attributes:
        users: The user store of a unit of work.
        tokens: Issues and reads reset tokens.
        credentials: Checks and hashes the new password.
        sessions: Ends every session after a reset.
        throttle: The reset-request limits.
        mail: For the reset link and the "password changed" notice.
        hooks: For `on_after_forgot_password` and `on_after_reset_password`.
    """

    users: StoreFactory
    tokens: EmailedTokens
    credentials: Credentials
    sessions: LoginSessions
    throttle: Throttle
    mail: AccountMail
    hooks: UserKitHooks

    async def request(self, uow: UnitOfWork, email: str, origin: Origin) -> None:
        """Send a reset link to *email*'s account, if it is active.

        The same work and answer for every address: the request is counted per IP
        and per address, one lookup, one signed token, and after the response the
        e-mail and `on_after_forgot_password` (or nothing).

        Raises:
            TooManyRequestsError: a limit is reached.
        """
        counted = await self.throttle.count(origin, "forgot_password", email)
        async with self.throttle.unless_answered(counted):
            await self.tokens.offer(
                uow,
                Purpose.RESET_PASSWORD,
                email,
                origin,
                eligible=lambda user: bool(user.is_active),
                deliver=lambda user, token: (
                    lambda: self.mail.reset_password(user, token),
                    lambda: self.hooks.on_after_forgot_password(user, token, origin.request),
                    lambda: record(
                        self.hooks,
                        origin,
                        SecurityEventName.PASSWORD_RESET_REQUEST,
                        "success",
                        user=user,
                    ),
                ),
            )

    async def complete(self, uow: UnitOfWork, token: str, password: str, origin: Origin) -> Any:
        """Set a new password with a reset token.

        Effects, in order: the token is read; the policy checks the password; the
        new hash and a token-version bump are written only if the account is still
        in the state the token was issued for (so one use wins, even concurrently);
        every session ends; commit; `on_after_reset_password`; after the response,
        the "password changed" notice.

        Raises:
            BadTokenError: bad, expired or used token, or the account changed since.
            InvalidPasswordError: the policy refused the password; the token still works.
        """
        event = SecurityEventName.PASSWORD_RESET
        try:
            _, user = await self.tokens.read(uow, Purpose.RESET_PASSWORD, token)
        except BadTokenError:
            await record(self.hooks, origin, event, "failure", reason="bad_token")
            raise
        new_hash = await self.credentials.new_hash(password, user.email)
        changes = {"hashed_password": new_hash, "token_version": user.token_version + 1}
        if not await self.users(uow).update_if(user, bound_state(user), changes):
            await record(self.hooks, origin, event, "failure", user=user, reason="bad_token")
            raise BadTokenError("the account changed since the token was issued")
        await self.sessions.revoke_all(uow, user)  # the version was bumped above
        await uow.commit()
        await run_after_hook(
            "on_after_reset_password", self.hooks.on_after_reset_password(user, origin.request)
        )
        await record(self.hooks, origin, event, "success", user=user)
        address = user.email
        origin.later.add(lambda: self.mail.password_changed(address))
        return user
