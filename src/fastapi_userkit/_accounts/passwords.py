"""Changing a password, by the user or for them. Resets have their own module.

Every change goes through `set_in`: policy, hash, then every access token of the
user is invalidated and every session ends but the one that made the change.
"""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions, StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


@dataclass(frozen=True, slots=True)
class Passwords:
    """Password changes of one kit.

    Attributes:
        credentials: Checks the current password, hashes the new one.
        sessions: Ends the other sessions.
        users: The user store of a unit of work.
        mail: For the "password changed" notice.
        hooks: For `on_after_password_change`.
    """

    credentials: Credentials
    sessions: LoginSessions
    users: StoreFactory
    mail: AccountMail
    hooks: UserKitHooks

    async def set_in(self, uow: UnitOfWork, user: Any, password: str, *, keep: str | None) -> Any:
        """Give *user* *password* inside *uow* (not committed): every access token
        issued before is invalidated and every session but *keep* ends.

        Raises:
            InvalidPasswordError: the policy refused it; nothing was written.
        """
        hashed = await self.credentials.new_hash(password, user.email)
        user = await self.users(uow).update(user, {"hashed_password": hashed})
        await self.sessions.end_all(uow, user, keep=keep)
        return user

    def notify(self, user: Any, origin: Origin) -> None:
        """After the response, e-mail the account's address that its password changed."""
        address = user.email
        origin.later.add(lambda: self.mail.password_changed(address))

    async def change_own(
        self,
        uow: UnitOfWork,
        auth: Authentication,
        current_password: str,
        new_password: str,
        origin: Origin,
    ) -> Any:
        """The caller changes their own password (`POST /users/me/password`).

        Effects, in order: the current password is checked under the login limits;
        the new one is set, every other session ends and every access token is
        invalidated (the caller refreshes to get a new one); commit;
        `on_after_password_change`; after the response, the "password changed"
        notice.

        Raises:
            WrongPasswordError: *current_password* is wrong; nothing changed.
            TooManyRequestsError: a login limit is full.
            InvalidPasswordError: the policy refused *new_password*.
        """
        await self.credentials.confirm(auth.user, current_password, origin)
        user = await self.set_in(uow, auth.user, new_password, keep=auth.session.id)
        await uow.commit()
        await run_after_hook(
            "on_after_password_change", self.hooks.on_after_password_change(user, origin.request)
        )
        await record(
            self.hooks,
            origin,
            SecurityEventName.PASSWORD_CHANGE,
            "success",
            user=user,
            session_id=auth.session.id,
        )
        self.notify(user, origin)
        return user

    async def set_for(self, uow: UnitOfWork, user: Any, password: str, origin: Origin) -> Any:
        """Someone else sets *user*'s password (`kit.users.set_password()`, the
        `userkit set-password` command).

        Effects: the password is set, every session of *user* ends and every access
        token is invalidated; commit; the "password changed" notice (after the
        response, or when the `kit.users` call returns). No hook runs: the user did
        not act.

        Raises:
            InvalidPasswordError: the policy refused *password*.
        """
        user = await self.set_in(uow, user, password, keep=None)
        await uow.commit()
        await record(
            self.hooks,
            origin,
            SecurityEventName.ADMIN_UPDATE,
            "success",
            user=user,
            reason="password",
        )
        self.notify(user, origin)
        return user
