"""User administration for admins (superusers, and users holding `users:admin`):
`GET /users`, `GET`, `PATCH` and `DELETE /users/{id}`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.routing import APIRoute
from pydantic import create_model

from fastapi_userkit._accounts.administration import Administration
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import Authentication
from fastapi_userkit._http.dependencies import Dependencies, Requirements
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    NOT_FOUND_DETAIL,
    ErrorCode,
    Flow,
    Refusals,
    answering,
    refused,
)
from fastapi_userkit.roles import ROLE_NAME_PATTERN
from fastapi_userkit.routers._common import SESSIONS, THROTTLED, answers
from fastapi_userkit.schemas import UserAdminUpdate, UserRead, with_password_lengths

_NOT_FOUND = {404: refused("No user has this id.", NOT_FOUND_DETAIL)}
_SUPERUSERS_ONLY = {
    403: Refusals(
        "You are not a superuser, and the user is one or the change sets `is_superuser` "
        "(`INSUFFICIENT_SCOPE`).",
        (ErrorCode.INSUFFICIENT_SCOPE.value,),
        headers=("WWW-Authenticate",),
    )
}


def create_admin_router(
    administration: Administration,
    deps: Dependencies,
    route_class: type[APIRoute],
    read_schema: type[UserRead],
    *,
    admin: Requirements,
    password_lengths: tuple[int, int] | None = None,
) -> APIRouter:
    """Build the user administration router; *admin* is what its routes require."""
    router = APIRouter(route_class=route_class)
    update_schema = with_password_lengths(UserAdminUpdate, password_lengths)
    superuser = deps.current_user(admin)
    page: Any = create_model("UserPage", items=(list[read_schema], ...), total=(int, ...))  # type: ignore[valid-type]

    @router.get(
        "",
        response_model=page,
        name="users:users",
        dependencies=[Depends(superuser)],
        responses=answers(deps.refusals(admin, {"GET"})),
    )
    async def list_users(
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        q: Annotated[str | None, Query(max_length=320)] = None,
        role: Annotated[
            str | None,
            Query(pattern=ROLE_NAME_PATTERN, max_length=64, description="Only holders of it."),
        ] = None,
    ) -> Any:
        found = await administration.list(uow, offset=offset, limit=limit, search=q, role=role)
        return {"items": found.items, "total": found.total}

    @router.get(
        "/{id}",
        response_model=read_schema,
        name="users:user",
        dependencies=[Depends(superuser)],
        responses=answers(deps.refusals(admin, {"GET"}), _NOT_FOUND),
    )
    async def get_user(id: str, uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)]) -> Any:
        with answering(Flow.ACCOUNT):
            return await administration.get(uow, id)

    @router.patch(
        "/{id}",
        response_model=read_schema,
        name="users:patch_user",
        dependencies=[Depends(superuser)],
        responses=answers(
            deps.refusals(admin, {"PATCH"}),
            THROTTLED,
            SESSIONS,
            _NOT_FOUND,
            _SUPERUSERS_ONLY,
            {
                400: refused(
                    "A taken address (`UPDATE_USER_EMAIL_ALREADY_EXISTS`, or one that looks "
                    "like another account's: `UPDATE_USER_EMAIL_LOOKALIKE`), a refused "
                    "password (`UPDATE_USER_INVALID_PASSWORD`), on your own account a new "
                    "address or password without the right `current_password` "
                    "(`CURRENT_PASSWORD_INVALID`), a change that would leave no active "
                    "superuser (`LAST_SUPERUSER`), or your own superuser flag or active "
                    "status turned off (`SELF_LOCKOUT`).",
                    ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
                    ErrorCode.UPDATE_USER_EMAIL_LOOKALIKE,
                    ErrorCode.CURRENT_PASSWORD_INVALID,
                    ErrorCode.LAST_SUPERUSER,
                    ErrorCode.SELF_LOCKOUT,
                    reasons=(ErrorCode.UPDATE_USER_INVALID_PASSWORD,),
                )
            },
        ),
    )
    async def patch_user(
        id: str,
        body: update_schema,  # type: ignore[valid-type]
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        values: dict[str, Any] = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        current_password = values.pop("current_password", None)
        with answering(Flow.ACCOUNT):
            return await administration.update(uow, auth, id, values, current_password, origin)

    @router.delete(
        "/{id}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="users:delete_user",
        dependencies=[Depends(superuser)],
        responses=answers(
            deps.refusals(admin, {"DELETE"}),
            SESSIONS,
            _NOT_FOUND,
            _SUPERUSERS_ONLY,
            {
                400: refused(
                    "The user is the last active superuser (`LAST_SUPERUSER`), or "
                    "yourself (`SELF_LOCKOUT`: `DELETE /users/me` deletes your account).",
                    ErrorCode.LAST_SUPERUSER,
                    ErrorCode.SELF_LOCKOUT,
                )
            },
        ),
    )
    async def delete_user(
        id: str,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await administration.delete(uow, auth, id, origin)

    return router
