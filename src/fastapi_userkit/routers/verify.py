"""`POST /auth/request-verify-token` and `POST /auth/verify`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.verification import Verification
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, Flow, answering, refused
from fastapi_userkit.routers._common import THROTTLED, answers
from fastapi_userkit.schemas import EmailRequest, TokenRequest, UserRead


def create_verify_router(
    verification: Verification,
    deps: Dependencies,
    route_class: type[APIRoute],
    read_schema: type[UserRead],
) -> APIRouter:
    """Build the e-mail verification router."""
    router = APIRouter(route_class=route_class)

    @router.post(
        "/request-verify-token",
        status_code=status.HTTP_202_ACCEPTED,
        name="verify:request-token",
        responses=answers(THROTTLED),
    )
    async def request_verify_token(
        body: EmailRequest,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.VERIFY):
            await verification.request(uow, body.email, origin)

    @router.post(
        "/verify",
        response_model=read_schema,
        name="verify:verify",
        responses=answers(
            {
                400: refused(
                    "Bad or expired token, unknown or inactive user, or an address changed "
                    "since (`VERIFY_USER_BAD_TOKEN`); `VERIFY_USER_ALREADY_VERIFIED` when "
                    "there is nothing to do.",
                    ErrorCode.VERIFY_USER_BAD_TOKEN,
                    ErrorCode.VERIFY_USER_ALREADY_VERIFIED,
                )
            }
        ),
    )
    async def verify(
        body: TokenRequest,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.VERIFY):
            return await verification.verify(uow, body.token, origin)

    return router
