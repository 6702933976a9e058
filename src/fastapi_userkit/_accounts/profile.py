"""A user editing their own account: `PATCH /users/me`."""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.email_change import EmailChange
from fastapi_userkit._accounts.login_sessions import Authentication
from fastapi_userkit._accounts.passwords import Passwords
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.hooks import UserKitHooks, run_after_hook

NEEDS_CURRENT_PASSWORD = ("email", "password")
"""Fields that change the credentials, so need the current password."""


@dataclass(frozen=True, slots=True)
class Profile:
    """Edits of one's own account.

    Attributes:
        credentials: Checks the current password.
        emails: Applies a new address.
        passwords: Applies a new password.
        hooks: For `on_after_update` and `on_after_password_change`.
    """

    credentials: Credentials
    emails: EmailChange
    passwords: Passwords
    hooks: UserKitHooks

    async def update(
        self,
        uow: UnitOfWork,
        auth: Authentication,
        values: dict[str, Any],
        current_password: str | None,
        origin: Origin,
        *,
        keep_session: bool = True,
    ) -> Any:
        """Apply *values* (profile fields, `email`, `password`) to the caller's
        account; `email` and `password` need *current_password*. `None` for either
        means "unchanged".

        Effects, in order: the current password is checked under the login limits
        (only when `email` or `password` changes); the fields and address are
        written, a new address clearing `is_verified`; a new password invalidates
        every access token and ends every other session (all of them without
        *keep_session*); commit; `on_after_update` (with `password_changed: True`
        instead of the password), then `on_after_password_change`; after the
        response, the notices to the old address and about the password. A
        refusal leaves everything as it was.

        Raises:
            WrongPasswordError: `email` or `password` without the right current password.
            TooManyRequestsError: a login limit is full.
            UserAlreadyExistsError: the new address is taken or looks like a taken one.
            InvalidPasswordError: the policy refused the new password.
        """
        changes = {
            k: v for k, v in values.items() if not (k in NEEDS_CURRENT_PASSWORD and v is None)
        }
        if any(name in changes for name in NEEDS_CURRENT_PASSWORD):
            await self.credentials.confirm(auth.user, current_password, origin)
        password = changes.pop("password", None)
        user = await self.emails.apply_in(uow, auth.user, changes, origin)
        if password is not None:
            keep = auth.session.id if keep_session else None
            user = await self.passwords.set_in(uow, user, password, keep=keep)
        await uow.commit()
        reported = {**changes, **({"password_changed": True} if password is not None else {})}
        await run_after_hook(
            "on_after_update", self.hooks.on_after_update(user, reported, origin.request)
        )
        if "email" in changes:
            await record(self.hooks, origin, SecurityEventName.EMAIL_CHANGE, "success", user=user)
        if password is not None:
            await run_after_hook(
                "on_after_password_change",
                self.hooks.on_after_password_change(user, origin.request),
            )
            await record(
                self.hooks,
                origin,
                SecurityEventName.PASSWORD_CHANGE,
                "success",
                user=user,
                session_id=auth.session.id if keep_session else None,
            )
            self.passwords.notify(user, origin)
        return user
