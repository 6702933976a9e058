"""`kit.users`: account operations for code outside a request (scripts, CLIs,
startup tasks, tests).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Generic

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.exceptions import InvalidCredentialsError, UserNotFoundError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.protocols import UserT
from fastapi_userkit.schemas import Email

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_email_adapter: TypeAdapter[str] = TypeAdapter(Email)


class UserService(Generic[UserT]):
    """Programmatic access to the kit's users.

    Every method opens its own session and commits it, unless you pass
    `session=`: then it works inside your transaction, flushes, and leaves the
    commit (and after-commit hooks, which do not run) to you.
    """

    def __init__(self, kit: "UserKit[UserT]") -> None:
        self._kit = kit

    @asynccontextmanager
    async def _unit(self, session: AsyncSession | None) -> AsyncIterator[UnitOfWork]:
        if session is not None:
            yield UnitOfWork(session, owned=False)
            return
        async with self._kit.database.open() as uow:
            yield uow

    async def _existing(self, uow: UnitOfWork, user_id: Any) -> UserT:
        return _found(await self._kit.store(uow).get(user_id))

    async def create(
        self,
        *,
        email: str,
        password: str,
        is_superuser: bool = False,
        is_verified: bool = False,
        is_active: bool = True,
        session: AsyncSession | None = None,
        **fields: Any,
    ) -> UserT:
        """Create a user; *fields* fill the host's own columns.

        Raises:
            pydantic.ValidationError: *email* is not an e-mail address.
            InvalidPasswordError: the password breaks the policy.
            UserAlreadyExistsError: the canonical e-mail is taken.
        """
        normalized = _email_adapter.validate_python(email)
        async with self._unit(session) as uow:
            user = await self._kit.manager(uow).create(
                email=normalized,
                password=password,
                is_superuser=is_superuser,
                is_verified=is_verified,
                is_active=is_active,
                **fields,
            )
            await uow.commit()
        if uow.owned:
            await run_after_hook("on_after_register", self._kit.hooks.on_after_register(user))
        return user

    async def get(self, user_id: Any, *, session: AsyncSession | None = None) -> UserT:
        """Return the user with *user_id*.

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(session) as uow:
            return await self._existing(uow, user_id)

    async def get_by_email(self, email: str, *, session: AsyncSession | None = None) -> UserT:
        """Return the user whose address matches *email* (case-insensitively).

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(session) as uow:
            return _found(await self._kit.store(uow).get_by_email(email))

    async def authenticate(
        self, email: str, password: str, *, session: AsyncSession | None = None
    ) -> UserT | None:
        """Return the active user with these credentials, or `None`.

        Same rules as the login route: one hash whether or not the user exists,
        and an outdated hash is upgraded.
        """
        async with self._unit(session) as uow:
            try:
                user = await self._kit.manager(uow).authenticate(email, password)
            except InvalidCredentialsError:
                return None
            await uow.commit()
        return user

    async def set_password(
        self, user_id: Any, password: str, *, session: AsyncSession | None = None
    ) -> UserT:
        """Set a new password for *user_id*; every token issued before stops working.

        Raises:
            UserNotFoundError: no such user.
            InvalidPasswordError: the password breaks the policy.
        """
        async with self._unit(session) as uow:
            user = await self._existing(uow, user_id)
            user = await self._kit.manager(uow).set_password(user, password)
            await self._kit.end_all_sessions(uow, user)
            await uow.commit()
        return user

    async def revoke_sessions(self, user_id: Any, *, session: AsyncSession | None = None) -> None:
        """End every login session of *user_id* and invalidate its access tokens.

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(session) as uow:
            user = await self._existing(uow, user_id)
            await self._kit.end_all_sessions(uow, user)
            await uow.commit()

    async def deactivate(self, user_id: Any, *, session: AsyncSession | None = None) -> UserT:
        """Deactivate *user_id*: no more logins, and every session ends now.

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(session) as uow:
            user = await self._existing(uow, user_id)
            user = await self._kit.store(uow).update(user, {"is_active": False})
            await self._kit.end_all_sessions(uow, user)
            await uow.commit()
        return user


def _found(user: UserT | None) -> UserT:
    if user is None:
        raise UserNotFoundError()
    return user
