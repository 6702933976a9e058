"""Deleting an account: by its owner (`DELETE /users/me`) or by a superuser
(`DELETE /users/{id}`).
"""

from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.login_sessions import LoginSessions, StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._accounts.second_factors import SecondFactors
from fastapi_userkit._accounts.superusers import keep_a_superuser
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.roles import SQLRoleStore
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


@dataclass(frozen=True, slots=True)
class Deletion:
    """Account deletion.

    Attributes:
        users: The user store of a unit of work.
        credentials: Checks the owner's password.
        sessions: Ends the account's sessions.
        mail: For the "account deleted" notice.
        hooks: For `on_before_delete` and `on_after_delete`.
        factors: The second factors, when they are on (removed with the account).
    """

    users: StoreFactory
    credentials: Credentials
    sessions: LoginSessions
    mail: AccountMail
    hooks: UserKitHooks
    factors: SecondFactors | None = None

    async def delete_own(
        self, uow: UnitOfWork, user: Any, current_password: str, origin: Origin
    ) -> None:
        """The owner deletes their account: the current password is checked under
        the login limits, then as `delete`.

        Raises:
            WrongPasswordError: *current_password* is wrong; nothing is deleted.
            TooManyRequestsError: a login limit is full.
            LastSuperuserError: the user is the last active superuser.
        """
        await self.credentials.confirm(user, current_password, origin)
        await self.delete(uow, user, origin)

    async def delete(
        self, uow: UnitOfWork, user: Any, origin: Origin, *, actor: Any = None
    ) -> None:
        """Delete *user*.

        Effects, in order: `on_before_delete` (it may raise: nothing is written
        yet); the row is deleted, unless it is the last active superuser, with its
        role grants and second factors; every session ends; commit;
        `on_after_delete`; after the response, the "account deleted" notice to the
        old address.

        Raises:
            LastSuperuserError: the user is the last active superuser; nothing is deleted.

        *actor* is the superuser who deletes someone else's account, for the
        security event.
        """
        await self.hooks.on_before_delete(user, origin.request)
        store = self.users(uow)
        user_id = str(user.id)
        await keep_a_superuser(store, user, None, lambda: store.delete(user))
        # An integer id may be given again to a new account: it must not inherit roles.
        await SQLRoleStore(uow.session).forget(user_id)
        if self.factors is not None:
            await self.factors.store(uow).forget(user_id)
        # Only once the deletion is allowed: a Redis session store is not rolled back.
        await self.sessions.revoke_all(uow, user)
        await uow.commit()
        await run_after_hook("on_after_delete", self.hooks.on_after_delete(user, origin.request))
        await record(
            self.hooks, origin, SecurityEventName.ACCOUNT_DELETE, "success", user=user, actor=actor
        )
        address = user.email
        origin.later.add(lambda: self.mail.account_deleted(address))
