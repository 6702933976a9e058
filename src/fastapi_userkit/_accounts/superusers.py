"""The guard that keeps at least one active superuser."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi_userkit.exceptions import LastSuperuserError
from fastapi_userkit.protocols import UserStore

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


async def keep_a_superuser(
    store: UserStore[Any],
    user: Any,
    values: dict[str, Any] | None,
    write: Callable[[], Awaitable[_R]],
) -> _R:
    """Run *write*, which applies *values* to *user* (or deletes it), and refuse it
    when no active superuser would be left.

    The superusers' rows are locked first (PostgreSQL, MariaDB) and counted again
    after the write (SQLite serialises writers), so two admins demoting each other at
    the same moment cannot both succeed. A write that takes no superuser away runs
    unguarded.

    Raises:
        LastSuperuserError: the change would leave no active superuser; the caller's
            transaction must be rolled back (it is not committed).
    """
    if not removes_superuser(user, values):
        return await write()
    await store.lock_superusers()
    result = await write()
    if not await store.lock_superusers():
        raise LastSuperuserError()
    return result
