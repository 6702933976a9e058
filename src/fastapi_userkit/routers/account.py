"""`POST /users/me/email`, `POST /users/me/email/confirm` and `DELETE /users/me`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.deletion import Deletion
from fastapi_userkit._accounts.email_change import EmailChange
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, Flow, answering, refused
from fastapi_userkit.routers._common import SESSIONS, THROTTLED, answers, own_account
from fastapi_userkit.schemas import CurrentPassword, EmailChangeRequest, TokenRequest, UserRead


def create_email_change_router(
    emails: EmailChange,
    deps: Dependencies,
    route_class: type[APIRoute],
    read_schema: type[UserRead],
    *,
    require_verified: bool,
) -> APIRouter:
    """Build the router for changing the address by confirmation link."""
    router = APIRouter(route_class=route_class)
    requirements = own_account(verified=require_verified)
    current_user = deps.current_user(requirements)

    @router.post(
        "/me/email",
        status_code=status.HTTP_202_ACCEPTED,
        name="users:request_email_change",
        responses=answers(
            deps.refusals(requirements, {"POST"}),
            THROTTLED,
            {
                400: refused(
                    "`current_password` is wrong (`CURRENT_PASSWORD_INVALID`), or the new "
                    "address is taken (`UPDATE_USER_EMAIL_ALREADY_EXISTS`) or looks like "
                    "another account's (`UPDATE_USER_EMAIL_LOOKALIKE`); nothing happened.",
                    ErrorCode.CURRENT_PASSWORD_INVALID,
                    ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
                    ErrorCode.UPDATE_USER_EMAIL_LOOKALIKE,
                )
            },
        ),
    )
    async def request_email_change(
        body: EmailChangeRequest,
        user: Annotated[Any, Depends(current_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await emails.request(uow, user, body.current_password, str(body.new_email), origin)

    @router.post(
        "/me/email/confirm",
        response_model=read_schema,
        name="users:confirm_email_change",
        responses=answers(
            {
                400: refused(
                    "Bad, expired or used link (`EMAIL_CHANGE_BAD_TOKEN`), or the address "
                    "was taken meanwhile (`UPDATE_USER_EMAIL_ALREADY_EXISTS`, "
                    "`UPDATE_USER_EMAIL_LOOKALIKE`).",
                    ErrorCode.EMAIL_CHANGE_BAD_TOKEN,
                    ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
                    ErrorCode.UPDATE_USER_EMAIL_LOOKALIKE,
                )
            }
        ),
    )
    async def confirm_email_change(
        body: TokenRequest,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.EMAIL_CHANGE):
            return await emails.confirm(uow, body.token, origin)

    return router


def create_deletion_router(
    deletion: Deletion,
    deps: Dependencies,
    route_class: type[APIRoute],
    *,
    require_verified: bool,
) -> APIRouter:
    """Build the router for deleting one's own account."""
    router = APIRouter(route_class=route_class)
    requirements = own_account(verified=require_verified)
    current_user = deps.current_user(requirements)

    @router.delete(
        "/me",
        status_code=status.HTTP_204_NO_CONTENT,
        name="users:delete_current_user",
        responses=answers(
            deps.refusals(requirements, {"DELETE"}),
            THROTTLED,
            SESSIONS,
            {
                400: refused(
                    "`current_password` is wrong (`CURRENT_PASSWORD_INVALID`), or you are "
                    "the last active superuser (`LAST_SUPERUSER`); nothing happened.",
                    ErrorCode.CURRENT_PASSWORD_INVALID,
                    ErrorCode.LAST_SUPERUSER,
                )
            },
        ),
    )
    async def delete_me(
        body: CurrentPassword,
        user: Annotated[Any, Depends(current_user)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await deletion.delete_own(uow, user, body.current_password, origin)

    return router
