"""`kit.users`: the account operations for code outside a request (scripts, the
`userkit` command, startup tasks, tests).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Deferred, Origin
from fastapi_userkit.db.database import Database, UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    ConfigurationError,
    InvalidCredentialsError,
    UserNotFoundError,
)
from fastapi_userkit.protocols import ModelT, UserPage
from fastapi_userkit.schemas import Email, TokenResponse

if TYPE_CHECKING:
    from fastapi_userkit._accounts import Accounts

_email_adapter: TypeAdapter[str] = TypeAdapter(Email)
_R = TypeVar("_R")


class Operations:
    """Runs account operations outside a request: in a database session of its own,
    committed, or inside the caller's (`db_session=`).
    """

    def __init__(self, accounts: "Accounts", database: Database) -> None:
        self._accounts = accounts
        self._database = database

    @asynccontextmanager
    async def _unit(self, db_session: AsyncSession | None) -> AsyncIterator[UnitOfWork]:
        if db_session is not None:
            yield UnitOfWork(db_session, owned=False)
            return
        async with self._database.open() as uow:
            yield uow

    async def _run(
        self,
        db_session: AsyncSession | None,
        operation: Callable[[UnitOfWork, Origin], Awaitable[_R]],
    ) -> _R:
        later = Deferred()
        async with self._unit(db_session) as uow:
            result = await operation(uow, Origin(later=later))
        await later.run()
        return result


class UserService(Operations, Generic[ModelT]):
    """Programmatic access to the kit's users, through the same operations as the
    HTTP routes.

    Every method opens its own database session and commits it, unless you pass
    `db_session=`: then it works inside your transaction, flushes, and leaves the
    commit to you (and `create()` runs no `on_after_register`). E-mails the
    operation sends (the "password changed" notice, say) go out when the call
    returns.
    """

    async def _existing(self, uow: UnitOfWork, user_id: Any) -> Any:
        return _found(await self._accounts.users(uow).get(user_id))

    async def create(
        self,
        *,
        email: str,
        password: str,
        is_superuser: bool = False,
        is_verified: bool = False,
        is_active: bool = True,
        db_session: AsyncSession | None = None,
        **fields: Any,
    ) -> ModelT:
        """Create a user; *fields* fill the host's own columns.

        Raises:
            pydantic.ValidationError: *email* is not an e-mail address.
            InvalidPasswordError: the password breaks the policy.
            UserAlreadyExistsError: the canonical e-mail is taken.
        """
        values = {
            **fields,
            "email": _email_adapter.validate_python(email),
            "password": password,
            "is_superuser": is_superuser,
            "is_verified": is_verified,
            "is_active": is_active,
        }
        return await self._run(
            db_session, lambda uow, origin: self._accounts.registration.create(uow, values, origin)
        )

    async def get(self, user_id: Any, *, db_session: AsyncSession | None = None) -> ModelT:
        """Return the user with *user_id*.

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(db_session) as uow:
            return await self._existing(uow, user_id)  # type: ignore[no-any-return]

    async def get_by_email(self, email: str, *, db_session: AsyncSession | None = None) -> ModelT:
        """Return the user whose address matches *email* (in canonical form).

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(db_session) as uow:
            return _found(await self._accounts.users(uow).get_by_email(email))  # type: ignore[no-any-return]

    async def list(
        self,
        *,
        offset: int = 0,
        limit: int = 50,
        search: str | None = None,
        db_session: AsyncSession | None = None,
    ) -> UserPage[ModelT]:
        """A page of users in the order of their canonical address, optionally only
        those whose address contains *search*, and how many match in all.
        """
        async with self._unit(db_session) as uow:
            return await self._accounts.administration.list(
                uow, offset=offset, limit=limit, search=search
            )

    async def authenticate(
        self, email: str, password: str, *, db_session: AsyncSession | None = None
    ) -> ModelT | None:
        """Return the active user with these credentials, or `None`.

        Same rules as the login route, without its rate limits: one hash whether or
        not the user exists, and an outdated hash is upgraded.
        """
        async with self._unit(db_session) as uow:
            try:
                user = await self._accounts.credentials.authenticate(
                    self._accounts.users(uow), email, password
                )
            except InvalidCredentialsError:
                return None
            await uow.commit()
        return user  # type: ignore[no-any-return]

    async def set_password(
        self, user_id: Any, password: str, *, db_session: AsyncSession | None = None
    ) -> ModelT:
        """Set a new password for *user_id*: every session and access token ends, and
        the account's address gets the "password changed" notice.

        Raises:
            UserNotFoundError: no such user.
            InvalidPasswordError: the password breaks the policy.
        """

        async def operation(uow: UnitOfWork, origin: Origin) -> Any:
            user = await self._existing(uow, user_id)
            return await self._accounts.passwords.set_for(uow, user, password, origin)

        return await self._run(db_session, operation)

    async def revoke_sessions(
        self, user_id: Any, *, db_session: AsyncSession | None = None
    ) -> None:
        """End every login session of *user_id* and invalidate its access tokens.

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(db_session) as uow:
            user = await self._existing(uow, user_id)
            await self._accounts.sessions.end_all(uow, user)
            await uow.commit()
        await record(
            self._accounts.hooks, Origin(), SecurityEventName.LOGOUT_ALL, "success", user=user
        )

    async def deactivate(self, user_id: Any, *, db_session: AsyncSession | None = None) -> ModelT:
        """Deactivate *user_id*: no more logins, and every session ends now.

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(db_session) as uow:
            user = await self._existing(uow, user_id)
            user = await self._accounts.users(uow).update(user, {"is_active": False})
            await self._accounts.sessions.end_all(uow, user)
            await uow.commit()
        await record(
            self._accounts.hooks,
            Origin(),
            SecurityEventName.ADMIN_UPDATE,
            "success",
            user=user,
            reason="is_active",
        )
        return user  # type: ignore[no-any-return]

    async def reset_second_factors(
        self, user_id: Any, *, db_session: AsyncSession | None = None
    ) -> None:
        """Remove every second factor of *user_id* (a user who lost their device
        and their recovery codes): their logins take the password alone, and the
        account's address gets the "second factor removed" notice.

        Raises:
            UserNotFoundError: no such user.
            SecondFactorStateError: the user has none.
            ConfigurationError: second factors are off (`USERKIT_MFA_ENABLED`).
        """
        factors = self._accounts.factors
        if factors is None:
            raise ConfigurationError("second factors are off: set USERKIT_MFA_ENABLED=true")

        async def operation(uow: UnitOfWork, origin: Origin) -> None:
            user = await self._existing(uow, user_id)
            await factors.remove(uow, user, origin)

        await self._run(db_session, operation)

    async def open_session(
        self, user_id: Any, *, db_session: AsyncSession | None = None
    ) -> TokenResponse:
        """Open a login session for *user_id*, as a login would, and return its first
        token pair (for tests, and for hosts that log users in by other means).

        Raises:
            UserNotFoundError: no such user.
        """
        async with self._unit(db_session) as uow:
            user = await self._existing(uow, user_id)
            _, tokens = await self._accounts.sessions.open(uow, user, Origin())
            await uow.commit()
        return tokens


def _found(user: Any | None) -> Any:
    if user is None:
        raise UserNotFoundError()
    return user
