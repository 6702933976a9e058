"""`UserManager`: the account rules, on one unit of work.

It checks the password policy, hashes off the event loop, keeps timing parity
for unknown users and upgrades old hashes. It flushes through the store and
never commits: routers and `UserService` decide when the transaction ends.
"""

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from fastapi_userkit._email import canonical_email
from fastapi_userkit.exceptions import (
    InvalidCredentialsError,
    LastSuperuserError,
    LookAlikeEmailError,
    UserAlreadyExistsError,
)
from fastapi_userkit.passwords import PasswordHash
from fastapi_userkit.policy import PasswordPolicy
from fastapi_userkit.protocols import UserStore, UserT

_R = TypeVar("_R")


def removes_superuser(user: Any, values: dict[str, Any] | None = None) -> bool:
    """Whether applying *values* to *user* (or deleting it, without *values*) takes an
    active superuser away.
    """
    if not (user.is_superuser and user.is_active):
        return False
    if values is None:
        return True
    return values.get("is_superuser") is False or values.get("is_active") is False


class UserManager(Generic[UserT]):
    """Account operations shared by the HTTP routes and `kit.users`.

    Args:
        store: Persistence for this unit of work.
        password_hash: Hashers and their thread pool.
        policy: Rules new passwords must pass.
    """

    def __init__(
        self, store: UserStore[UserT], password_hash: PasswordHash, policy: PasswordPolicy
    ) -> None:
        self.store = store
        self.password_hash = password_hash
        self.policy = policy

    async def create(
        self,
        *,
        email: str,
        password: str,
        is_active: bool = True,
        is_superuser: bool = False,
        is_verified: bool = False,
        **fields: Any,
    ) -> UserT:
        """Create a user after checking the policy.

        Raises:
            InvalidPasswordError: the password breaks the policy (every reason).
            UserAlreadyExistsError: the canonical e-mail is taken.
        """
        await self.policy.check(password, email)
        await self.check_email_available(email)
        hashed = await self.password_hash.hash(password)
        values = {
            **fields,
            "email": email,
            "hashed_password": hashed,
            "is_active": is_active,
            "is_superuser": is_superuser,
            "is_verified": is_verified,
        }
        return await self.store.create(values)

    async def authenticate(self, email: str, password: str) -> UserT:
        """Return the active user *email*/*password* identifies.

        Unknown e-mails still spend one hash; a valid password on an old hash
        upgrades it.

        Raises:
            InvalidCredentialsError: unknown e-mail, wrong password or inactive user.
        """
        user = await self.store.get_by_email(email)
        if user is None:
            await self.password_hash.dummy_verify(password)
            raise InvalidCredentialsError()
        valid, new_hash = await self.password_hash.verify_and_update(password, user.hashed_password)
        if not valid or not user.is_active:
            raise InvalidCredentialsError()
        if new_hash is not None:
            await self.store.update(user, {"hashed_password": new_hash})
        return user

    async def check_password(self, user: UserT, password: str) -> bool:
        """Return whether *password* is *user*'s current password (one hash)."""
        valid, _ = await self.password_hash.verify_and_update(password, user.hashed_password)
        return valid

    async def set_password(self, user: UserT, password: str) -> UserT:
        """Give *user* a new password (the caller ends their sessions).

        Raises:
            InvalidPasswordError: the password breaks the policy.
        """
        await self.policy.check(password, user.email)
        hashed = await self.password_hash.hash(password)
        return await self.store.update(user, {"hashed_password": hashed})

    async def check_email_available(self, email: str, user: UserT | None = None) -> None:
        """Refuse *email* when it names an account other than *user*, or looks like
        the address of one.

        Raises:
            UserAlreadyExistsError: another account has this canonical address.
            LookAlikeEmailError: another account's address looks the same.
        """
        if user is not None and canonical_email(email) == user.email_key:
            return
        if await self.store.get_by_email(email) is not None:
            raise UserAlreadyExistsError()
        look_alike = await self.store.get_look_alike(email)
        if look_alike is not None and (user is None or look_alike.id != user.id):
            raise LookAlikeEmailError()

    async def keep_a_superuser(self, write: Callable[[], Awaitable[_R]]) -> _R:
        """Run *write*, a change that may remove a superuser, and refuse it when no
        active superuser would be left.

        The superusers' rows are locked first (PostgreSQL, MariaDB) and counted
        again after the write (SQLite serialises writers), so two admins demoting
        each other at the same moment cannot both succeed.

        Raises:
            LastSuperuserError: the change would leave no active superuser; the
                caller rolls the transaction back.
        """
        await self.store.lock_superusers()
        result = await write()
        if not await self.store.lock_superusers():
            raise LastSuperuserError()
        return result

    async def update(self, user: UserT, values: dict[str, Any]) -> UserT:
        """Apply profile *values*. Any change of the stored address, even of its
        spelling, clears `is_verified` unless *values* sets it.

        Raises:
            UserAlreadyExistsError: the new e-mail is taken.
        """
        changes = dict(values)
        if "email" in changes:
            if changes["email"] == user.email:
                del changes["email"]
            else:
                await self.check_email_available(changes["email"], user)
                changes.setdefault("is_verified", False)
        if not changes:
            return user
        return await self.store.update(user, changes)
