"""Admins managing other accounts: `GET /users`, `GET`, `PATCH` and
`DELETE /users/{id}`.

Admins are superusers and users holding the `users:admin` scope. Only a superuser
changes a superuser's account or anyone's `is_superuser`; no admin takes away their
own superuser flag or active status, or deletes their own account, here
(`SelfLockoutError`: another admin or the `userkit` command can).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.deletion import Deletion
from fastapi_userkit._accounts.email_change import EmailChange
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions, StoreFactory
from fastapi_userkit._accounts.passwords import Passwords
from fastapi_userkit._accounts.superusers import keep_a_superuser, removes_superuser
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.roles import SQLRoleStore
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    BadTokenError,
    InsufficientScopeError,
    LastSuperuserError,
    SelfLockoutError,
    UserNotFoundError,
)
from fastapi_userkit.hooks import UserKitHooks, run_after_hook
from fastapi_userkit.protocols import UserPage


async def user_by_url_id(store: Any, parse_id: Callable[[str], Any], user_id: str) -> Any:
    """The user with the id *user_id* as written in a URL.

    Raises:
        UserNotFoundError: no such user, or not an id at all.
    """
    try:
        user = await store.get(parse_id(user_id))
    except BadTokenError:
        user = None
    if user is None:
        raise UserNotFoundError()
    return user


@dataclass(frozen=True, slots=True)
class Administration:
    """What superusers do to accounts.

    Attributes:
        users: The user store of a unit of work.
        parse_id: Turns an id from a URL into a user id (`BadTokenError` if it cannot).
        credentials: Checks an admin's own password when they edit their own account.
        emails: Applies a new address.
        passwords: Applies a new password.
        sessions: Ends the sessions of a deactivated user.
        deletion: Deletes accounts.
        hooks: For `on_after_update`.
    """

    users: StoreFactory
    parse_id: Callable[[str], Any]
    credentials: Credentials
    emails: EmailChange
    passwords: Passwords
    sessions: LoginSessions
    deletion: Deletion
    hooks: UserKitHooks

    async def list(
        self,
        uow: UnitOfWork,
        *,
        offset: int,
        limit: int,
        search: str | None,
        role: str | None = None,
    ) -> UserPage[Any]:
        """A page of users in the order of their canonical address, optionally those
        whose canonical address contains *search*, and those holding *role*.
        """
        store = self.users(uow)
        if role is None:
            return await store.list(offset=offset, limit=limit, search=search)
        ids = []
        for stored in await SQLRoleStore(uow.session).with_role([role]):
            try:
                ids.append(self.parse_id(stored))
            except BadTokenError:  # a grant written for another id type: nobody here
                continue
        if not ids:
            return UserPage(items=[], total=0)
        return await store.list(offset=offset, limit=limit, search=search, ids=ids)  # type: ignore[call-arg]

    async def get(self, uow: UnitOfWork, user_id: str) -> Any:
        """The user with the id *user_id* (as written in a URL).

        Raises:
            UserNotFoundError: no such user, or not an id at all.
        """
        return await user_by_url_id(self.users(uow), self.parse_id, user_id)

    async def update(
        self,
        uow: UnitOfWork,
        admin: Authentication,
        user_id: str,
        values: dict[str, Any],
        current_password: str | None,
        origin: Origin,
    ) -> Any:
        """Apply *values* (profile fields, `email`, `password`, `is_active`,
        `is_superuser`, `is_verified`; `None` means "unchanged") to a user.

        Effects, in order: on the admin's own account, `email` and `password` need
        *current_password*, checked under the login limits, as `PATCH /users/me`
        does; the values are written (a new address clears `is_verified` unless the
        values set it), refused if no active superuser would be left; a new password
        or a deactivation invalidates every access token and ends every session of
        the user (but the admin's own current one); commit; `on_after_update` (with
        `password_changed: True` instead of the password); after the response, the
        notices to the old address and about the password.

        Raises:
            UserNotFoundError: no such user.
            WrongPasswordError: own account, without the right current password.
            TooManyRequestsError: a login limit is full.
            UserAlreadyExistsError: the new address is taken or looks like a taken one.
            InvalidPasswordError: the policy refused the new password.
            LastSuperuserError: no active superuser would be left.
            SelfLockoutError: *admin* would drop their own superuser flag or deactivate
                themselves.
            InsufficientScopeError: *admin* is not a superuser and the user is one, or
                the values set `is_superuser`.
        """
        user = await self.get(uow, user_id)
        changes = {k: v for k, v in values.items() if v is not None}
        password = changes.pop("password", None)
        own = user.id == admin.user.id
        if not admin.user.is_superuser and (user.is_superuser or "is_superuser" in changes):
            raise InsufficientScopeError(())
        if own and (changes.get("is_superuser") is False or changes.get("is_active") is False):
            await self._refuse_own_removal(uow, user, changes)
        if own and (password is not None or "email" in changes):
            await self.credentials.confirm(user, current_password, origin)

        async def write() -> Any:
            updated = await self.emails.apply_in(uow, user, changes, origin)
            if password is not None:
                keep = admin.session.id if own and updated.is_active else None
                updated = await self.passwords.set_in(uow, updated, password, keep=keep)
            return updated

        user = await keep_a_superuser(self.users(uow), user, changes, write)
        if changes.get("is_active") is False and password is None:
            await self.sessions.end_all(uow, user)
        await uow.commit()
        reported = {**changes, **({"password_changed": True} if password is not None else {})}
        await run_after_hook(
            "on_after_update", self.hooks.on_after_update(user, reported, origin.request)
        )
        await record(
            self.hooks,
            origin,
            SecurityEventName.ADMIN_UPDATE,
            "success",
            user=user,
            actor=admin.user,
            reason=",".join(sorted({*changes, *(["password"] if password is not None else [])})),
        )
        if password is not None:
            self.passwords.notify(user, origin)
        return user

    async def delete(
        self, uow: UnitOfWork, admin: Authentication, user_id: str, origin: Origin
    ) -> None:
        """The admin *admin* deletes a user, as `Deletion.delete` does.

        Raises:
            UserNotFoundError: no such user.
            SelfLockoutError: the user is *admin* (`DELETE /users/me` deletes one's own).
            InsufficientScopeError: the user is a superuser and *admin* is not.
            LastSuperuserError: the user is the last active superuser.
        """
        user = await self.get(uow, user_id)
        if user.id == admin.user.id:
            await self._refuse_own_removal(uow, user, None)
        if user.is_superuser and not admin.user.is_superuser:
            raise InsufficientScopeError(())
        await self.deletion.delete(uow, user, origin, actor=admin.user)

    async def _refuse_own_removal(
        self, uow: UnitOfWork, user: Any, values: dict[str, Any] | None
    ) -> None:
        """Refuse an admin's change that removes their own rights or account: the
        last active superuser hears `LastSuperuserError`, as before; anyone else
        `SelfLockoutError`.
        """
        if removes_superuser(user, values) and len(await self.users(uow).lock_superusers()) <= 1:
            raise LastSuperuserError()
        raise SelfLockoutError()
