"""Roles: `/roles` (define, change, delete), `/users/{id}/roles` (grant, revoke)
for admins, and `GET /users/me/roles` for everyone.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import Authentication
from fastapi_userkit._accounts.roles import Roles
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
from fastapi_userkit.roles import ROLE_NAME_PATTERN, Role
from fastapi_userkit.routers._common import answers, own_account
from fastapi_userkit.schemas import RoleCreate, RoleRead, RoleUpdate, UserRoles

_NO_ROLE = {404: refused("No role has this name.", ErrorCode.ROLE_NOT_FOUND)}
_NO_USER_OR_ROLE = {
    404: refused(
        "No user has this id (`Not Found`), or no role this name (`ROLE_NOT_FOUND`).",
        NOT_FOUND_DETAIL,
        ErrorCode.ROLE_NOT_FOUND,
    )
}
_BEYOND_OWN = {
    403: Refusals(
        "You are not a superuser and the role has scopes you do not hold (`INSUFFICIENT_SCOPE`).",
        (ErrorCode.INSUFFICIENT_SCOPE.value,),
        headers=("WWW-Authenticate",),
    )
}
_LOCKOUT = {
    400: refused(
        "The change would take away your own `users:admin` scope (`SELF_LOCKOUT`).",
        ErrorCode.SELF_LOCKOUT,
    )
}

RoleNameInPath = Annotated[str, Path(pattern=ROLE_NAME_PATTERN, max_length=64)]


def _read(role: Role) -> RoleRead:
    return RoleRead(name=role.name, description=role.description, scopes=list(role.scopes))


def _role(name: str, body: RoleUpdate) -> Role:
    return Role(name, body.description, tuple(sorted(set(body.scopes))))


def create_roles_router(
    roles: Roles,
    deps: Dependencies,
    route_class: type[APIRoute],
    *,
    admin: Requirements,
) -> APIRouter:
    """Build the router of roles and grants."""
    router = APIRouter(route_class=route_class)
    guard = deps.current_user(admin)
    own = own_account(verified=False)

    @router.get(
        "/roles",
        response_model=list[RoleRead],
        name="roles:roles",
        tags=["roles"],
        dependencies=[Depends(guard)],
        responses=answers(deps.refusals(admin, {"GET"})),
    )
    async def list_roles(uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)]) -> Any:
        return [_read(role) for role in await roles.list(uow)]

    @router.post(
        "/roles",
        response_model=RoleRead,
        status_code=status.HTTP_201_CREATED,
        name="roles:create_role",
        tags=["roles"],
        dependencies=[Depends(guard)],
        responses=answers(
            deps.refusals(admin, {"POST"}),
            _BEYOND_OWN,
            {400: refused("A role has this name already.", ErrorCode.ROLE_ALREADY_EXISTS)},
        ),
    )
    async def create_role(
        body: RoleCreate,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.ACCOUNT):
            return _read(await roles.create(uow, auth.user, _role(body.name, body), origin))

    @router.get(
        "/roles/{name}",
        response_model=RoleRead,
        name="roles:role",
        tags=["roles"],
        dependencies=[Depends(guard)],
        responses=answers(deps.refusals(admin, {"GET"}), _NO_ROLE),
    )
    async def get_role(
        name: RoleNameInPath, uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)]
    ) -> Any:
        with answering(Flow.ACCOUNT):
            return _read(await roles.get(uow, name))

    @router.put(
        "/roles/{name}",
        response_model=RoleRead,
        name="roles:replace_role",
        tags=["roles"],
        dependencies=[Depends(guard)],
        responses=answers(deps.refusals(admin, {"PUT"}), _BEYOND_OWN, _NO_ROLE, _LOCKOUT),
    )
    async def replace_role(
        name: RoleNameInPath,
        body: RoleUpdate,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Any:
        with answering(Flow.ACCOUNT):
            return _read(await roles.replace(uow, auth.user, _role(name, body), origin))

    @router.delete(
        "/roles/{name}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="roles:delete_role",
        tags=["roles"],
        dependencies=[Depends(guard)],
        responses=answers(deps.refusals(admin, {"DELETE"}), _BEYOND_OWN, _NO_ROLE, _LOCKOUT),
    )
    async def delete_role(
        name: RoleNameInPath,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await roles.delete(uow, auth.user, name, origin)

    @router.get(
        "/users/me/roles",
        response_model=UserRoles,
        name="roles:current_user_roles",
        tags=["users"],
        responses=answers(deps.refusals(own, {"GET"})),
    )
    async def my_roles(
        user: Annotated[Any, Depends(deps.current_user(own))],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
    ) -> Any:
        held, scopes = await roles.of(uow, user)
        return UserRoles(roles=list(held), scopes=list(scopes))

    @router.get(
        "/users/{id}/roles",
        response_model=UserRoles,
        name="roles:user_roles",
        tags=["users"],
        dependencies=[Depends(guard)],
        responses=answers(
            deps.refusals(admin, {"GET"}), {404: refused("No user has this id.", NOT_FOUND_DETAIL)}
        ),
    )
    async def user_roles(id: str, uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)]) -> Any:
        with answering(Flow.ACCOUNT):
            held, scopes = await roles.of(uow, await roles.user(uow, id))
        return UserRoles(roles=list(held), scopes=list(scopes))

    @router.put(
        "/users/{id}/roles/{name}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="roles:grant_role",
        tags=["users"],
        dependencies=[Depends(guard)],
        responses=answers(deps.refusals(admin, {"PUT"}), _BEYOND_OWN, _NO_USER_OR_ROLE),
    )
    async def grant_role(
        id: str,
        name: RoleNameInPath,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await roles.grant(uow, auth.user, await roles.user(uow, id), name, origin)

    @router.delete(
        "/users/{id}/roles/{name}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="roles:revoke_role",
        tags=["users"],
        dependencies=[Depends(guard)],
        responses=answers(
            deps.refusals(admin, {"DELETE"}), _BEYOND_OWN, _NO_USER_OR_ROLE, _LOCKOUT
        ),
    )
    async def revoke_role(
        id: str,
        name: RoleNameInPath,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        with answering(Flow.ACCOUNT):
            await roles.revoke(uow, auth.user, await roles.user(uow, id), name, origin)

    return router
