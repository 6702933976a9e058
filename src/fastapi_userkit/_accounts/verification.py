"""Verifying an address: `POST /auth/request-verify-token` and `POST /auth/verify`."""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.emailed_tokens import EmailedTokens
from fastapi_userkit._accounts.login_sessions import StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit._action_tokens import Purpose, bound_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import AlreadyVerifiedError, BadTokenError
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


@dataclass(frozen=True, slots=True)
class Verification:
    """Verification links and their use.

    Attributes:
        users: The user store of a unit of work.
        tokens: Issues and reads verification tokens.
        throttle: The verification-request limits.
        mail: For the verification link.
        hooks: For `on_after_request_verify` and `on_after_verify`.
    """

    users: StoreFactory
    tokens: EmailedTokens
    throttle: Throttle
    mail: AccountMail
    hooks: UserKitHooks

    async def request(self, uow: UnitOfWork, email: str, origin: Origin) -> None:
        """Send a verification link to *email*'s account, if it is active and not
        verified yet.

        The same work and answer for every address: the request is counted per IP
        and per address, one lookup, one signed token, and after the response the
        e-mail and `on_after_request_verify` (or nothing).

        Raises:
            TooManyRequestsError: a limit is reached.
        """
        counted = await self.throttle.count(origin, "verify", email)
        async with self.throttle.unless_answered(counted):
            await self.tokens.offer(
                uow,
                Purpose.VERIFY_EMAIL,
                email,
                origin,
                eligible=lambda user: bool(user.is_active and not user.is_verified),
                deliver=lambda user, token: (
                    lambda: self.mail.verify_email(user, token),
                    lambda: self.hooks.on_after_request_verify(user, token, origin.request),
                    lambda: record(
                        self.hooks,
                        origin,
                        SecurityEventName.VERIFICATION_REQUEST,
                        "success",
                        user=user,
                    ),
                ),
                with_email=True,
            )

    async def verify(self, uow: UnitOfWork, token: str, origin: Origin) -> Any:
        """Mark the address verified with a verification token.

        Effects: `is_verified` is written only if the account still has the address
        (and password and token version) the token was issued for, and is not
        verified yet, in one conditional write, so a verification racing an address
        change cannot verify the new address; commit; `on_after_verify`.

        Raises:
            BadTokenError: bad or expired token, or the account changed since.
            AlreadyVerifiedError: the address is verified already.
        """
        event = SecurityEventName.VERIFICATION
        try:
            _, user = await self.tokens.read(uow, Purpose.VERIFY_EMAIL, token)
        except BadTokenError:
            await record(self.hooks, origin, event, "failure", reason="bad_token")
            raise
        if user.is_verified:
            raise AlreadyVerifiedError()
        expected = {**bound_state(user), "is_verified": False}
        if not await self.users(uow).update_if(user, expected, {"is_verified": True}):
            await record(self.hooks, origin, event, "failure", user=user, reason="bad_token")
            raise BadTokenError("the account changed since the token was issued")
        await uow.commit()
        await run_after_hook("on_after_verify", self.hooks.on_after_verify(user, origin.request))
        await record(self.hooks, origin, event, "success", user=user)
        return user
