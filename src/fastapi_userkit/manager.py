"""`UserManager`: the account rules, on one unit of work.

It checks the password policy, hashes off the event loop, keeps timing parity
for unknown users and upgrades old hashes. It flushes through the store and
never commits: routers and `UserService` decide when the transaction ends.
"""

from typing import Any, Generic

from fastapi_userkit._email import canonical_email
from fastapi_userkit.exceptions import InvalidCredentialsError, UserAlreadyExistsError
from fastapi_userkit.passwords import PasswordHash
from fastapi_userkit.policy import PasswordPolicy
from fastapi_userkit.protocols import UserStore, UserT


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
        if await self.store.get_by_email(email) is not None:
            raise UserAlreadyExistsError()
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
        """Raise `UserAlreadyExistsError` when *email* names an account other than
        *user*.
        """
        if user is not None and canonical_email(email) == user.email_key:
            return
        if await self.store.get_by_email(email) is not None:
            raise UserAlreadyExistsError()

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
