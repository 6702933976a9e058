"""Input checks and OpenAPI pieces shared by the routers."""

from typing import Any

from fastapi.exceptions import RequestValidationError

from fastapi_userkit._http.dependencies import Requirements
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
