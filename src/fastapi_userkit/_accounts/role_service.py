"""`kit.roles`: the role operations for code outside a request (scripts, the
`userkit` command, startup tasks that define the host's roles, tests).
"""

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fastapi_userkit._accounts.users import Operations
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.exceptions import UserNotFoundError
from fastapi_userkit.roles import Role
from fastapi_userkit.schemas import RoleCreate


class RoleService(Operations):
    """Programmatic access to the kit's roles, through the same operations as the
    admin routes, acting as nobody in particular (no scope limits, no guard rails
    on an admin's own rights; security events have no actor).

    Every method opens its own database session and commits it, unless you pass
    `db_session=` (then it works inside your transaction).

    Example:
        ```python
        await kit.roles.ensure("editor", ["items:read", "items:write"])
        await kit.roles.grant(user, "editor")
        ```
    """

    async def list(self, *, db_session: AsyncSession | None = None) -> list[Role]:
        """Every role, by name."""
        return await self._run(db_session, lambda uow, _: self._accounts.roles.list(uow))

    async def get(self, name: str, *, db_session: AsyncSession | None = None) -> Role:
        """The role *name*.

        Raises:
            RoleNotFoundError: no such role.
        """
        return await self._run(db_session, lambda uow, _: self._accounts.roles.get(uow, name))

    async def create(
        self,
        name: str,
        scopes: Iterable[str] = (),
        *,
        description: str = "",
        db_session: AsyncSession | None = None,
    ) -> Role:
        """Define the role *name* granting *scopes*.

        Raises:
            RoleAlreadyExistsError: the name is taken.
            pydantic.ValidationError: *name*, a scope or *description* is not valid.
        """
        role = _valid(name, scopes, description)
        return await self._run(
            db_session, lambda uow, origin: self._accounts.roles.create(uow, None, role, origin)
        )

    async def update(
        self,
        name: str,
        scopes: Iterable[str],
        *,
        description: str = "",
        db_session: AsyncSession | None = None,
    ) -> Role:
        """Give the role *name* exactly *scopes* and *description*; its holders
        gain and lose scopes on their next request.

        Raises:
            RoleNotFoundError: no such role.
        """
        role = _valid(name, scopes, description)
        return await self._run(
            db_session, lambda uow, origin: self._accounts.roles.replace(uow, None, role, origin)
        )

    async def ensure(
        self,
        name: str,
        scopes: Iterable[str],
        *,
        description: str = "",
        db_session: AsyncSession | None = None,
    ) -> Role:
        """Create the role *name*, or give the existing one exactly *scopes* and
        *description*: the idempotent form for a startup task that defines the
        host's roles in code.
        """
        role = _valid(name, scopes, description)

        async def ensure(uow: UnitOfWork, origin: Any) -> Role:
            roles = self._accounts.roles
            if await roles.store(uow).role(role.name) is None:
                return await roles.create(uow, None, role, origin)
            return await roles.replace(uow, None, role, origin)

        return await self._run(db_session, ensure)

    async def delete(self, name: str, *, db_session: AsyncSession | None = None) -> None:
        """Delete the role *name*, its scopes and every grant of it.

        Raises:
            RoleNotFoundError: no such role.
        """
        await self._run(
            db_session, lambda uow, origin: self._accounts.roles.delete(uow, None, name, origin)
        )

    async def grant(self, user: Any, name: str, *, db_session: AsyncSession | None = None) -> bool:
        """Give the role *name* to *user* (a user or a user id); `False` if they
        held it already.

        Raises:
            UserNotFoundError: no such user.
            RoleNotFoundError: no such role.
        """

        async def grant(uow: UnitOfWork, origin: Any) -> bool:
            found = await self._user(uow, user)
            return await self._accounts.roles.grant(uow, None, found, name, origin)

        return await self._run(db_session, grant)

    async def revoke(self, user: Any, name: str, *, db_session: AsyncSession | None = None) -> bool:
        """Take the role *name* from *user* (a user or a user id), effective on
        their next request; `False` if they did not hold it.

        Raises:
            UserNotFoundError: no such user.
            RoleNotFoundError: no such role.
        """

        async def revoke(uow: UnitOfWork, origin: Any) -> bool:
            found = await self._user(uow, user)
            return await self._accounts.roles.revoke(uow, None, found, name, origin)

        return await self._run(db_session, revoke)

    async def of(
        self, user: Any, *, db_session: AsyncSession | None = None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The roles *user* (a user or a user id) holds and the scopes they grant.

        Raises:
            UserNotFoundError: no such user.
        """

        async def of(uow: UnitOfWork, _: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
            return await self._accounts.roles.of(uow, await self._user(uow, user))

        return await self._run(db_session, of)

    async def _user(self, uow: UnitOfWork, user: Any) -> Any:
        user_id = getattr(user, "id", user)
        found = await self._accounts.users(uow).get(user_id)
        if found is None:
            raise UserNotFoundError()
        return found


def _valid(name: str, scopes: Iterable[str], description: str) -> Role:
    if isinstance(scopes, str):
        raise TypeError(f"scopes takes a list of scopes, not the string {scopes!r}")
    checked = RoleCreate(name=name, scopes=list(dict.fromkeys(scopes)), description=description)
    return Role(checked.name, checked.description, tuple(sorted(checked.scopes)))
