"""`GET /users/me`, `PATCH /users/me` and `POST /users/me/password`."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import Authentication
from fastapi_userkit._accounts.passwords import Passwords
from fastapi_userkit._accounts.profile import Profile
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, Flow, answering, refused
from fastapi_userkit.routers._common import (
    SESSIONS,
    THROTTLED,
    answers,
    own_account,
    refuse_privileged,
)
from fastapi_userkit.schemas import PasswordChange, UserSchemas, with_password_lengths


def create_users_router(
    profile: Profile,
    passwords: Passwords,
    deps: Dependencies,
    route_class: type[APIRoute],
    schemas: UserSchemas,
    *,
    require_verified: bool,
    password_lengths: tuple[int, int] | None = None,
) -> APIRouter:
    """Build the router of the current user's own account."""
    router = APIRouter(route_class=route_class)
    change_schema = with_password_lengths(PasswordChange, password_lengths)
    update_schema = schemas.update
    requirements = own_account(verified=require_verified)
    current_user = deps.current_user(requirements)

    @router.get(
        "/me",
        response_model=schemas.read,
        name="users:current_user",
        responses=answers(deps.refusals(requirements, {"GET"})),
    )
    async def me(user: Annotated[Any, Depends(current_user)]) -> Any:
        return user

    @router.patch(
        "/me",
        response_model=schemas.read,
        name="users:patch_current_user",
        responses=answers(
            deps.refusals(requirements, {"PATCH"}),
            THROTTLED,
            SESSIONS,
            {
                400: refused(
                    "`email` or `password` without the right `current_password` "
                    "(`CURRENT_PASSWORD_INVALID`), a taken e-mail "
                    "(`UPDATE_USER_EMAIL_ALREADY_EXISTS`), one that looks like another "
                    "account's (`UPDATE_USER_EMAIL_LOOKALIKE`), or a refused password "
                    "(`UPDATE_USER_INVALID_PASSWORD` with every reason). Nothing is applied.",
                    ErrorCode.CURRENT_PASSWORD_INVALID,
                    ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
                    ErrorCode.UPDATE_USER_EMAIL_LOOKALIKE,
                    reasons=(ErrorCode.UPDATE_USER_INVALID_PASSWORD,),
                )
            },
        ),
    )
    async def update_me(
        body: update_schema,  # type: ignore[valid-type]
        user: Annotated[Any, Depends(current_user)],
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        values: dict[str, Any] = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        refuse_privileged(values)
        current_password = values.pop("current_password", None)
        with answering(Flow.ACCOUNT):
            return await profile.update(uow, auth, values, current_password, origin)

    @router.post(
        "/me/password",
        status_code=status.HTTP_204_NO_CONTENT,
        name="users:change_password",
        responses=answers(
            deps.refusals(requirements, {"POST"}),
            THROTTLED,
            SESSIONS,
            {
                400: refused(
                    "Wrong `current_password` (`CURRENT_PASSWORD_INVALID`) or a refused new "
                    "password (`UPDATE_USER_INVALID_PASSWORD` with every reason).",
                    ErrorCode.CURRENT_PASSWORD_INVALID,
                    reasons=(ErrorCode.UPDATE_USER_INVALID_PASSWORD,),
                )
            },
        ),
    )
    async def change_password(
        body: change_schema,  # type: ignore[valid-type]
        user: Annotated[Any, Depends(current_user)],
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await passwords.change_own(
                uow,
                auth,
                body.current_password,  # type: ignore[attr-defined]
                body.new_password,  # type: ignore[attr-defined]
                origin,
            )

    return router
