"""The read behind every authenticated request: the user, and with the SQL session
store the login session too, by primary key in one Core statement outside the ORM
session (`Database.read_first`).

The row becomes a user object as the ORM would load it (every column set, no
pending change) and joins the request's session with `attach()`, so routes get a
persistent object exactly as from `session.get()`. Models the statement cannot
load whole (columns from other tables or SQL expressions, inheritance) keep the ORM
read: `AuthenticationRead.for_model()` returns `None` for them.
"""

from typing import Any

from sqlalchemy import Column, Select, Table, bindparam, distinct, func, inspect, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, make_transient_to_detached

from fastapi_userkit.db.database import Database
from fastapi_userkit.db.login_sessions import LoginSessionRow, row_to_session
from fastapi_userkit.db.roles import RoleScopeRow, UserRoleRow
from fastapi_userkit.login_sessions import LoginSession

__all__ = ["AuthenticationRead", "attach"]


class AuthenticationRead:
    """Reads a user (and a SQL login session) for one access token.

    Args:
        database: Where to read.
        mapper: The user model's mapper; every column attribute is a column of its
            one table.
    """

    def __init__(self, database: Database, mapper: Mapper[Any]) -> None:
        self._database = database
        self._mapper = mapper
        table: Table = mapper.local_table  # type: ignore[assignment]
        self._keys = [(prop.key, prop.columns[0]) for prop in mapper.column_attrs]
        self._names = [key for key, _ in self._keys]
        columns = [column for _, column in self._keys]
        self._user_only: Select[Any] = select(*columns).where(
            table.c[_primary_key(mapper).name] == bindparam("user_id")
        )
        session_table: Table = LoginSessionRow.__table__  # type: ignore[assignment]
        self._session_columns = list(session_table.c)
        self._with_session: Select[Any] = (
            select(*columns, *self._session_columns)
            .select_from(table.join(session_table, true()))
            .where(
                table.c[_primary_key(mapper).name] == bindparam("user_id"),
                session_table.c.id == bindparam("session_id"),
            )
        )

        # How many of `:scopes` the user holds, as one more column of the same read.
        held = (
            select(func.count(distinct(RoleScopeRow.scope)))
            .select_from(UserRoleRow)
            .join(RoleScopeRow, RoleScopeRow.role_name == UserRoleRow.role_name)
            .where(
                UserRoleRow.user_id == bindparam("grants_of"),
                RoleScopeRow.scope.in_(bindparam("scopes", expanding=True)),
            )
            .scalar_subquery()
        )
        self._user_only_scoped = self._user_only.add_columns(held)
        self._with_session_scoped = self._with_session.add_columns(held)

    @classmethod
    def for_model(cls, database: Database, user_model: type[Any]) -> "AuthenticationRead | None":
        """The read for *user_model*, or `None` where only the ORM can load it whole."""
        mapper: Mapper[Any] = inspect(user_model)
        table = mapper.local_table
        if (
            not database.reads_directly
            or not isinstance(table, Table)
            or mapper.inherits is not None
            or mapper.polymorphic_on is not None
            or len(mapper.primary_key) != 1
        ):
            return None
        for prop in mapper.column_attrs:
            if len(prop.columns) != 1:
                return None
            column = prop.columns[0]
            if not isinstance(column, Column) or column.table is not table:
                return None
        return cls(database, mapper)

    async def user(
        self, user_id: Any, scopes: tuple[str, ...] = (), grants_of: str = ""
    ) -> tuple[Any | None, bool]:
        """The user with *user_id*, detached, or `None`; and whether the user
        `grants_of` (the id as the grants store it) holds every one of *scopes*.
        """
        params = {"user_id": user_id}
        statement = self._user_only
        if scopes:
            statement = self._user_only_scoped
            params |= {"scopes": list(scopes), "grants_of": grants_of}
        row = await self._database.read_first(statement, params)
        if row is None:
            return None, False
        return self._user(row), bool(scopes) and row[len(self._keys)] == len(scopes)

    async def user_and_session(
        self, user_id: Any, session_id: str, scopes: tuple[str, ...] = (), grants_of: str = ""
    ) -> tuple[Any | None, LoginSession | None, bool]:
        """The user and the SQL login session, both found or neither; and whether
        the user holds every one of *scopes* (see `user`).
        """
        params = {"user_id": user_id, "session_id": session_id}
        statement = self._with_session
        if scopes:
            statement = self._with_session_scoped
            params |= {"scopes": list(scopes), "grants_of": grants_of}
        row = await self._database.read_first(statement, params)
        if row is None:
            return None, None, False
        count = len(self._keys)
        end = count + len(self._session_columns)
        values = dict(zip((c.name for c in self._session_columns), row[count:end], strict=True))
        return self._user(row), row_to_session(values), bool(scopes) and row[end] == len(scopes)

    def _user(self, row: Any) -> Any:
        user = self._mapper.class_manager.new_instance()
        # As the ORM's loader fills an instance: straight into its __dict__; then the
        # values become the committed state and the identity key is set.
        user.__dict__.update(zip(self._names, row, strict=False))
        make_transient_to_detached(user)
        return user


def attach(session: AsyncSession, user: Any) -> Any:
    """Make *user* (detached) persistent in *session*; the session's own copy wins
    when it has one already.
    """
    key = inspect(user).key
    existing = session.identity_map.get(key) if key is not None else None
    if existing is not None:
        return existing
    session.add(user)
    return user


def _primary_key(mapper: Mapper[Any]) -> Column[Any]:
    return mapper.primary_key[0]  # type: ignore[return-value]
