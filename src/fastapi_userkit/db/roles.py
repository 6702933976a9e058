"""Roles and their scopes in SQL, in the users' database.

Three tables, plain SQLAlchemy types: `userkit_role` (one row per role),
`userkit_role_scope` (the scopes a role grants) and `userkit_user_role` (which
user holds which role). User ids are stored as strings, as in the session tables,
so the tables work with any user model and id type. Removing a role removes its
scopes and its grants (`ON DELETE CASCADE`, and explicitly, for databases that do
not enforce foreign keys).
"""

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import (
    ForeignKey,
    Select,
    String,
    bindparam,
    delete,
    distinct,
    func,
    select,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit.db.models import Timestamp

__all__ = [
    "ROLE_TABLES",
    "RoleBase",
    "RoleRow",
    "RoleScopeRow",
    "SQLRoleStore",
    "UserRoleRow",
    "has_scopes_statement",
]

NAME_LENGTH = 64
SCOPE_LENGTH = 128


def _exact(length: int) -> String:
    """A string compared byte for byte, also on MariaDB/MySQL (whose default
    collation would make `Editor` and `editor` one role).
    """
    return String(length=length).with_variant(
        mysql.VARCHAR(length=length, charset="utf8mb4", collation="utf8mb4_bin"),
        "mysql",
        "mariadb",
    )


class RoleBase(DeclarativeBase):
    """Declarative base of the role tables; add its `metadata` to Alembic's
    `target_metadata` next to your own.
    """


class RoleRow(RoleBase):
    """One role (`userkit_role`)."""

    __tablename__ = "userkit_role"

    name: Mapped[str] = mapped_column(_exact(NAME_LENGTH), primary_key=True)
    description: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)


class RoleScopeRow(RoleBase):
    """One scope a role grants (`userkit_role_scope`)."""

    __tablename__ = "userkit_role_scope"

    role_name: Mapped[str] = mapped_column(
        _exact(NAME_LENGTH),
        ForeignKey("userkit_role.name", ondelete="CASCADE"),
        primary_key=True,
    )
    scope: Mapped[str] = mapped_column(_exact(SCOPE_LENGTH), primary_key=True, index=True)


class UserRoleRow(RoleBase):
    """One role held by one user (`userkit_user_role`)."""

    __tablename__ = "userkit_user_role"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role_name: Mapped[str] = mapped_column(
        _exact(NAME_LENGTH),
        ForeignKey("userkit_role.name", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    )
    granted_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    granted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


ROLE_TABLES = [RoleRow.__table__, RoleScopeRow.__table__, UserRoleRow.__table__]


def has_scopes_statement() -> Select[tuple[int]]:
    """How many of the scopes `:scopes` (an expanding list) the user `:user_id`
    holds through their roles: one row, one number. The check of every scoped
    request, read outside the ORM.
    """
    return (
        select(func.count(distinct(RoleScopeRow.scope)))
        .select_from(UserRoleRow)
        .join(RoleScopeRow, RoleScopeRow.role_name == UserRoleRow.role_name)
        .where(
            UserRoleRow.user_id == bindparam("user_id"),
            RoleScopeRow.scope.in_(bindparam("scopes", expanding=True)),
        )
    )


class SQLRoleStore:
    """The role tables, inside one database session; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def roles(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Every role: name → (description, sorted scopes), by name."""
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        for row in await self.session.scalars(select(RoleRow).order_by(RoleRow.name)):
            found[row.name] = (row.description, ())
        scopes = await self.session.execute(
            select(RoleScopeRow.role_name, RoleScopeRow.scope).order_by(
                RoleScopeRow.role_name, RoleScopeRow.scope
            )
        )
        for name, scope in scopes:
            if name in found:
                description, held = found[name]
                found[name] = (description, (*held, scope))
        return found

    async def role(self, name: str) -> tuple[str, tuple[str, ...]] | None:
        """The description and sorted scopes of the role *name*, or `None`."""
        row = await self.session.get(RoleRow, name)
        if row is None:
            return None
        scopes = await self.session.scalars(
            select(RoleScopeRow.scope)
            .where(RoleScopeRow.role_name == name)
            .order_by(RoleScopeRow.scope)
        )
        return row.description, tuple(scopes)

    async def lock(self, name: str) -> RoleRow | None:
        """The row of role *name*, locked for update where the database can."""
        result = await self.session.scalars(
            select(RoleRow).where(RoleRow.name == name).with_for_update()
        )
        return result.first()

    async def add(self, name: str, description: str, scopes: Collection[str]) -> None:
        """Insert a role (an `IntegrityError` on flush if the name is taken)."""
        self.session.add(RoleRow(name=name, description=description, created_at=datetime.now(UTC)))
        await self.session.flush()
        self.session.add_all(RoleScopeRow(role_name=name, scope=scope) for scope in scopes)
        await self.session.flush()

    async def replace(self, row: RoleRow, description: str, scopes: Collection[str]) -> None:
        """Give the role of *row* this description and exactly these scopes."""
        row.description = description
        await self.session.execute(delete(RoleScopeRow).where(RoleScopeRow.role_name == row.name))
        self.session.add_all(RoleScopeRow(role_name=row.name, scope=scope) for scope in scopes)
        await self.session.flush()

    async def remove(self, row: RoleRow) -> None:
        """Delete the role of *row*, its scopes and its grants."""
        name = row.name
        await self.session.execute(delete(UserRoleRow).where(UserRoleRow.role_name == name))
        await self.session.execute(delete(RoleScopeRow).where(RoleScopeRow.role_name == name))
        await self.session.delete(row)
        await self.session.flush()

    async def roles_of(self, user_id: str) -> tuple[str, ...]:
        """The names of the roles *user_id* holds, sorted."""
        names = await self.session.scalars(
            select(UserRoleRow.role_name)
            .where(UserRoleRow.user_id == user_id)
            .order_by(UserRoleRow.role_name)
        )
        return tuple(names)

    async def scopes_of(self, user_id: str) -> frozenset[str]:
        """Every scope *user_id* holds through their roles."""
        scopes = await self.session.scalars(
            select(distinct(RoleScopeRow.scope))
            .join(UserRoleRow, RoleScopeRow.role_name == UserRoleRow.role_name)
            .where(UserRoleRow.user_id == user_id)
        )
        return frozenset(scopes)

    async def holders(self, name: str) -> list[str]:
        """The ids (as stored) of the users holding role *name*."""
        return list(
            await self.session.scalars(
                select(UserRoleRow.user_id).where(UserRoleRow.role_name == name)
            )
        )

    async def grant(self, user_id: str, name: str, granted_by: str | None) -> bool:
        """Give role *name* to *user_id*; `False` if they held it already."""
        if await self.session.get(UserRoleRow, (user_id, name)) is not None:
            return False
        self.session.add(
            UserRoleRow(
                user_id=user_id,
                role_name=name,
                granted_at=datetime.now(UTC),
                granted_by=granted_by,
            )
        )
        await self.session.flush()
        return True

    async def revoke(self, user_id: str, name: str) -> bool:
        """Take role *name* from *user_id*; `False` if they did not hold it."""
        result = await self.session.execute(
            delete(UserRoleRow).where(UserRoleRow.user_id == user_id, UserRoleRow.role_name == name)
        )
        await self.session.flush()
        return bool(getattr(result, "rowcount", 0))

    async def forget(self, user_id: str) -> None:
        """Remove every grant of *user_id* (their account is being deleted)."""
        await self.session.execute(delete(UserRoleRow).where(UserRoleRow.user_id == user_id))

    async def with_role(self, names: Sequence[str]) -> list[str]:
        """The ids (as stored) of the users holding any of the roles *names*."""
        return list(
            await self.session.scalars(
                select(distinct(UserRoleRow.user_id)).where(UserRoleRow.role_name.in_(names))
            )
        )
