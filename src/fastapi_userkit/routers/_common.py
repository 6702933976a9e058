"""Input checks and OpenAPI pieces shared by the routers."""

from collections.abc import Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError

from fastapi_userkit._http.dependencies import Requirements
from fastapi_userkit.errors import (
    DATABASE_DOWN,
    RATE_LIMITER_DOWN,
    SESSION_STORE_DOWN,
    TOO_LARGE,
    TOO_MANY,
    Refusals,
    documented,
)
from fastapi_userkit.schemas import PRIVILEGED_FIELDS


def refuse_privileged(values: dict[str, Any]) -> None:
    """Refuse a self-service body that sets a privileged field, as FastAPI refuses
    unknown fields (422), even if a host schema lets the field through.
    """
    privileged = sorted(PRIVILEGED_FIELDS & values.keys())
    if privileged:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", name),
                    "msg": "Extra inputs are not permitted",
                }
                for name in privileged
            ]
        )


def own_account(*, verified: bool) -> Requirements:
    """What the routes acting on the caller's own account require."""
    return Requirements(active=True, verified=verified, superuser=False, optional=False)


SUPERUSER = Requirements(active=True, verified=False, superuser=True, optional=False)

THROTTLED: Mapping[int, Refusals] = {429: TOO_MANY, 503: RATE_LIMITER_DOWN}
"""What a route under the rate limits (logins, e-mails sent, a current password
checked) can add to its answers."""
SESSIONS: Mapping[int, Refusals] = {503: SESSION_STORE_DOWN}
"""What a route that opens, reads or ends login sessions can add."""


def answers(
    *parts: Mapping[int, Refusals], success: Mapping[int | str, dict[str, Any]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a kit route: the refusals of its *parts*, the 413 and
    503 any kit route can send, and the *success* answers besides its own.
    """
    return {**(success or {}), **documented({413: TOO_LARGE, 503: DATABASE_DOWN}, *parts)}
