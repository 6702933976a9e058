"""Changing the address: confirmed by a link (`POST /users/me/email`, then
`/users/me/email/confirm`), or at once (`PATCH /users/me`, `PATCH /users/{id}`).
"""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.addresses import change_address, ensure_available
from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.emailed_tokens import EmailedTokens
from fastapi_userkit._accounts.login_sessions import StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._action_tokens import Purpose, bound_state
from fastapi_userkit._email import canonical_email
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import BadTokenError, UserAlreadyExistsError
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


@dataclass(frozen=True, slots=True)
class EmailChange:
    """Address changes of one kit.

    Attributes:
        users: The user store of a unit of work.
        tokens: Issues and reads e-mail-change tokens.
        credentials: Checks the current password.
        mail: For the confirmation link and the notice to the old address.
        hooks: For `on_after_update`.
    """

    users: StoreFactory
    tokens: EmailedTokens
    credentials: Credentials
    mail: AccountMail
    hooks: UserKitHooks

    async def request(
        self, uow: UnitOfWork, user: Any, current_password: str, new_email: str, origin: Origin
    ) -> None:
        """Ask to move *user* to *new_email*; nothing changes until the link is used.

        Effects: the current password is checked under the login limits; after the
        response, the confirmation link goes to the new address and a notice to the
        present one.

        Raises:
            WrongPasswordError: *current_password* is wrong.
            TooManyRequestsError: a login limit is full.
            UserAlreadyExistsError: *new_email* is the present address, another
                account's, or looks like another account's (`LookAlikeEmailError`).
        """
        await self.credentials.confirm(user, current_password, origin)
        if canonical_email(new_email) == user.email_key:
            raise UserAlreadyExistsError()
        await ensure_available(self.users(uow), new_email, user)
        token = self.tokens.issue(Purpose.CHANGE_EMAIL, user, email=new_email)
        old_email = user.email
        origin.later.add(
            lambda: self.mail.confirm_email_change(new_email, token),
            lambda: self.mail.email_change_notice(old_email, new_email),
        )
        await record(
            self.hooks, origin, SecurityEventName.EMAIL_CHANGE_REQUEST, "success", user=user
        )

    async def confirm(self, uow: UnitOfWork, token: str, origin: Origin) -> Any:
        """Apply the change a confirmation link is for; following it proves the new
        mailbox, so the new address is verified.

        Effects: the new address and `is_verified` are written only if the account is
        still in the state the token was issued for (a password change, reset or
        logout-all since cancels it); commit; `on_after_update`.

        Raises:
            BadTokenError: bad, expired or used token, or the account changed since.
            UserAlreadyExistsError: the address was taken meanwhile, or one that looks
                like it (`LookAlikeEmailError`).
        """
        event = SecurityEventName.EMAIL_CHANGE
        try:
            claims, user = await self.tokens.read(uow, Purpose.CHANGE_EMAIL, token)
        except BadTokenError:
            await record(self.hooks, origin, event, "failure", reason="bad_token")
            raise
        if claims.email is None:
            raise BadTokenError("the token names no address")
        store = self.users(uow)
        await ensure_available(store, claims.email, user)
        changes = {"email": claims.email, "is_verified": True}
        if not await store.update_if(user, bound_state(user), changes):
            await record(self.hooks, origin, event, "failure", user=user, reason="bad_token")
            raise BadTokenError("the account changed since the token was issued")
        await uow.commit()
        await run_after_hook(
            "on_after_update",
            self.hooks.on_after_update(user, {"email": claims.email}, origin.request),
        )
        await record(self.hooks, origin, event, "success", user=user)
        return user

    async def apply_in(
        self, uow: UnitOfWork, user: Any, values: dict[str, Any], origin: Origin
    ) -> Any:
        """Write profile *values*, an address among them, inside *uow* (not
        committed). A new address clears `is_verified` (unless *values* sets it) and
        gets the old address a notice after the response.

        Raises:
            UserAlreadyExistsError: the new address is taken or looks like a taken one.
        """
        store = self.users(uow)
        changes, old_email = await change_address(store, user, values)
        if changes:
            user = await store.update(user, changes)
        if old_email is not None:
            new_email = user.email
            origin.later.add(lambda: self.mail.email_change_notice(old_email, new_email))
        return user
