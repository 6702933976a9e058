"""`POST /auth/forgot-password` and `POST /auth/reset-password`."""

from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.reset import PasswordReset
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, Flow, answering, refused
from fastapi_userkit.routers._common import SESSIONS, THROTTLED, answers
from fastapi_userkit.schemas import EmailRequest, ResetPasswordRequest, with_password_lengths


def create_reset_router(
    reset: PasswordReset,
    deps: Dependencies,
    route_class: type[APIRoute],
    *,
    password_lengths: tuple[int, int] | None = None,
) -> APIRouter:
    """Build the password-reset router."""
    router = APIRouter(route_class=route_class)
    reset_schema = with_password_lengths(ResetPasswordRequest, password_lengths)

    @router.post(
        "/forgot-password",
        status_code=status.HTTP_202_ACCEPTED,
        name="reset:forgot_password",
        responses=answers(THROTTLED),
    )
    async def forgot_password(
        body: EmailRequest,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.RESET):
            await reset.request(uow, body.email, origin)

    @router.post(
        "/reset-password",
        name="reset:reset_password",
        responses=answers(
            SESSIONS,
            {
                400: refused(
                    "Bad, expired or used token, unknown or inactive user, or a password "
                    "changed since (`RESET_PASSWORD_BAD_TOKEN`); "
                    "`RESET_PASSWORD_INVALID_PASSWORD` with every reason.",
                    ErrorCode.RESET_PASSWORD_BAD_TOKEN,
                    reasons=(ErrorCode.RESET_PASSWORD_INVALID_PASSWORD,),
                )
            },
        ),
    )
    async def reset_password(
        body: reset_schema,  # type: ignore[valid-type]
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.RESET):
            await reset.complete(uow, body.token, body.password, origin)  # type: ignore[attr-defined]

    return router
