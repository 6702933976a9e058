"""Roles and scopes: the names, the values and the checks hosts use.

A role is a named set of scopes (strings such as `items:write`); users hold
roles; a route asks for scopes with `kit.current_user(scopes=[...])`. Superusers
hold every scope. The check reads the live grants on every request, so a revoked
role or scope stops working on the next request, on every worker.
"""

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import StringConstraints
from starlette.requests import HTTPConnection

from fastapi_userkit.exceptions import ConfigurationError

__all__ = [
    "ADMIN_SCOPE",
    "ROLE_NAME_PATTERN",
    "SCOPE_PATTERN",
    "Access",
    "Role",
    "RoleName",
    "Scope",
    "check_scopes",
]

ADMIN_SCOPE = "users:admin"
"""The scope of the admin routes (`/users`, `/users/{id}`, `/roles`), besides
superusers."""

SCOPE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}$"
"""A scope: a letter or digit, then up to 127 letters, digits and `_ . : / -`
(a subset of RFC 6749's scope token: no spaces, quotes or backslashes)."""

ROLE_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
"""A role name: a letter or digit, then up to 63 letters, digits and `_ . : -`."""

Scope = Annotated[str, StringConstraints(pattern=SCOPE_PATTERN)]
RoleName = Annotated[str, StringConstraints(pattern=ROLE_NAME_PATTERN)]

_SCOPE = re.compile(SCOPE_PATTERN)


def check_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """*scopes* without duplicates, in their order.

    Raises:
        ConfigurationError: one of them is not a valid scope.
    """
    if isinstance(scopes, str):
        raise ConfigurationError(f"scopes= takes a list of scopes, not the string {scopes!r}")
    found = tuple(dict.fromkeys(scopes))
    bad = [scope for scope in found if not isinstance(scope, str) or not _SCOPE.match(scope)]
    if bad:
        raise ConfigurationError(
            f"not a valid scope: {', '.join(map(repr, bad))} (letters, digits and _ . : / -)"
        )
    return found


@dataclass(frozen=True, slots=True)
class Role:
    """A role and the scopes it grants.

    Attributes:
        name: The role's name.
        description: What the role is for.
        scopes: The scopes it grants, sorted.
    """

    name: str
    description: str = ""
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Access:
    """What a policy rule decides on: who calls, what the route requires, and the
    request (its path parameters, headers, state).

    Attributes:
        user: The authenticated, active user (who passed the route's other checks).
        required: The scopes the route requires (from `scopes=` and `Security`).
        request: The HTTP request or WebSocket.
    """

    user: Any
    required: tuple[str, ...]
    request: HTTPConnection
    _holds: Callable[[Any, tuple[str, ...]], Awaitable[bool]] = field(repr=False)

    async def allows(self, *scopes: str) -> bool:
        """Whether the user holds every one of *scopes* now (superusers hold all)."""
        return await self._holds(self.user, tuple(scopes))
