"""Roles as account operations: define, change and delete roles, grant and revoke
them, and the scope check behind every scoped request.

Who may do what: `actor=None` (the `userkit` command, `kit.roles`) and superusers
may do anything; an admin who is not a superuser (one holding `users:admin`) may
define, change, delete, grant and revoke only roles whose scopes they hold
themselves, and may not take away their own `users:admin` (`SelfLockoutError`).

Side effects, in order: write and flush; the guard rails (a refused change raises
before the commit, and the caller's unit of work is rolled back); commit; the
security event.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from fastapi_userkit._accounts.administration import user_by_url_id
from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import StoreFactory
from fastapi_userkit.db.database import Database, UnitOfWork
from fastapi_userkit.db.roles import SQLRoleStore, has_scopes_statement
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    InsufficientScopeError,
    RoleAlreadyExistsError,
    RoleNotFoundError,
    SelfLockoutError,
)
from fastapi_userkit.hooks import UserKitHooks
from fastapi_userkit.roles import ADMIN_SCOPE, Role

_HOLDS = has_scopes_statement()


@dataclass(frozen=True, slots=True)
class Roles:
    """The roles of one kit.

    Attributes:
        database: For the scope check, read outside the ORM where it can be.
        users: The user store of a unit of work.
        parse_id: Turns an id from a URL into a user id (`BadTokenError` if it cannot).
        hooks: For `on_security_event`.
    """

    database: Database
    users: StoreFactory
    parse_id: Callable[[str], Any]
    hooks: UserKitHooks

    @staticmethod
    def store(uow: UnitOfWork) -> SQLRoleStore:
        """The role tables inside *uow*."""
        return SQLRoleStore(uow.session)

    async def holds(self, uow: UnitOfWork | None, user: Any, scopes: tuple[str, ...]) -> bool:
        """Whether *user* holds every one of *scopes* now: superusers hold all;
        other users hold the scopes of the roles granted to them. One indexed read
        of committed grants (outside the ORM where the kit opens its own sessions).
        """
        if not scopes or user.is_superuser:
            return True
        params = {"user_id": str(user.id), "scopes": list(scopes)}
        if self.database.reads_directly or uow is None:
            row = await self.database.read_first(_HOLDS, params)
            count = 0 if row is None else row[0]
        else:
            count = await uow.session.scalar(_HOLDS, params)
        return int(count or 0) == len(scopes)

    async def list(self, uow: UnitOfWork) -> list[Role]:
        """Every role, by name."""
        found = await self.store(uow).roles()
        return [Role(name, description, scopes) for name, (description, scopes) in found.items()]

    async def get(self, uow: UnitOfWork, name: str) -> Role:
        """The role *name*.

        Raises:
            RoleNotFoundError: no such role.
        """
        found = await self.store(uow).role(name)
        if found is None:
            raise RoleNotFoundError()
        return Role(name, *found)

    async def create(self, uow: UnitOfWork, actor: Any, role: Role, origin: Origin) -> Role:
        """Define *role*.

        Raises:
            InsufficientScopeError: *actor* does not hold every scope of *role*.
            RoleAlreadyExistsError: the name is taken.
        """
        store = self.store(uow)
        await self._may_handle(store, actor, role.scopes)
        if await store.role(role.name) is not None:
            raise RoleAlreadyExistsError()
        try:
            await store.add(role.name, role.description, role.scopes)
        except IntegrityError:  # defined at the same moment by another request
            raise RoleAlreadyExistsError() from None
        await uow.commit()
        await self._record(origin, SecurityEventName.ROLE_CREATE, actor, role.name)
        return await self.get(uow, role.name)

    async def replace(self, uow: UnitOfWork, actor: Any, role: Role, origin: Origin) -> Role:
        """Give the existing role *role.name* exactly *role*'s description and
        scopes; its holders gain and lose scopes on their next request.

        Raises:
            RoleNotFoundError: no such role.
            InsufficientScopeError: *actor* does not hold every old and new scope.
            SelfLockoutError: *actor* would lose their own `users:admin`.
        """
        store = self.store(uow)
        row = await store.lock(role.name)
        if row is None:
            raise RoleNotFoundError()
        old = await store.role(role.name)
        await self._may_handle(store, actor, {*role.scopes, *(old[1] if old else ())})
        await store.replace(row, role.description, role.scopes)
        await self._keep_admin(store, actor)
        await uow.commit()
        await self._record(origin, SecurityEventName.ROLE_UPDATE, actor, role.name)
        return await self.get(uow, role.name)

    async def delete(self, uow: UnitOfWork, actor: Any, name: str, origin: Origin) -> None:
        """Delete the role *name*, its scopes and its grants.

        Raises:
            RoleNotFoundError: no such role.
            InsufficientScopeError: *actor* does not hold every scope of the role.
            SelfLockoutError: *actor* would lose their own `users:admin`.
        """
        store = self.store(uow)
        row = await store.lock(name)
        if row is None:
            raise RoleNotFoundError()
        old = await store.role(name)
        await self._may_handle(store, actor, old[1] if old else ())
        await store.remove(row)
        await self._keep_admin(store, actor)
        await uow.commit()
        await self._record(origin, SecurityEventName.ROLE_DELETE, actor, name)

    async def of(self, uow: UnitOfWork, user: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The roles *user* holds and the scopes they grant, both sorted."""
        store = self.store(uow)
        user_id = str(user.id)
        return await store.roles_of(user_id), tuple(sorted(await store.scopes_of(user_id)))

    async def user(self, uow: UnitOfWork, user_id: str) -> Any:
        """The user with the id *user_id* (as written in a URL).

        Raises:
            UserNotFoundError: no such user, or not an id at all.
        """
        return await user_by_url_id(self.users(uow), self.parse_id, user_id)

    async def grant(
        self, uow: UnitOfWork, actor: Any, user: Any, name: str, origin: Origin
    ) -> bool:
        """Give role *name* to *user*; `False` if they held it already.

        Raises:
            RoleNotFoundError: no such role.
            InsufficientScopeError: *actor* does not hold every scope of the role.
        """
        store = self.store(uow)
        role = await self.get(uow, name)
        await self._may_handle(store, actor, role.scopes)
        try:
            granted = await store.grant(str(user.id), name, _id_of(actor))
        except IntegrityError:  # granted at the same moment, or the role just deleted
            await uow.rollback()
            return await self._granted_meanwhile(uow, user, name)
        await uow.commit()
        if granted:
            await self._record(origin, SecurityEventName.ROLE_GRANT, actor, name, user=user)
        return granted

    async def _granted_meanwhile(self, uow: UnitOfWork, user: Any, name: str) -> bool:
        if name not in await self.store(uow).roles_of(str(user.id)):
            raise RoleNotFoundError()
        return False

    async def revoke(
        self, uow: UnitOfWork, actor: Any, user: Any, name: str, origin: Origin
    ) -> bool:
        """Take role *name* from *user*, effective on their next request; `False`
        if they did not hold it.

        Raises:
            RoleNotFoundError: no such role.
            InsufficientScopeError: *actor* does not hold every scope of the role.
            SelfLockoutError: *actor* would lose their own `users:admin`.
        """
        store = self.store(uow)
        role = await self.get(uow, name)
        await self._may_handle(store, actor, role.scopes)
        revoked = await store.revoke(str(user.id), name)
        await self._keep_admin(store, actor)
        await uow.commit()
        if revoked:
            await self._record(origin, SecurityEventName.ROLE_REVOKE, actor, name, user=user)
        return revoked

    async def _may_handle(self, store: SQLRoleStore, actor: Any, scopes: Collection[str]) -> None:
        if actor is None or actor.is_superuser or not scopes:
            return
        held = await store.scopes_of(str(actor.id))
        if not held.issuperset(scopes):
            raise InsufficientScopeError(tuple(sorted(scopes)))

    async def _keep_admin(self, store: SQLRoleStore, actor: Any) -> None:
        if actor is None or actor.is_superuser:
            return
        if ADMIN_SCOPE not in await store.scopes_of(str(actor.id)):
            raise SelfLockoutError()

    async def _record(
        self,
        origin: Origin,
        event: SecurityEventName,
        actor: Any,
        name: str,
        *,
        user: Any = None,
    ) -> None:
        await record(self.hooks, origin, event, "success", user=user, actor=actor, reason=name)


def _id_of(user: Any) -> str | None:
    return None if user is None else str(user.id)
