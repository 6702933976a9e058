"""User administration for superusers: `GET /users`, `GET`, `PATCH` and
`DELETE /users/{id}`.
"""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Query, Request, status
from pydantic import create_model
from sqlalchemy import func, select

from fastapi_userkit._email import canonical_email
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, address_refused, error_response, http_error
from fastapi_userkit.exceptions import (
    BadTokenError,
    InvalidPasswordError,
    LastSuperuserError,
    UserAlreadyExistsError,
)
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.login import Authentication
from fastapi_userkit.manager import removes_superuser
from fastapi_userkit.routers._common import current_password_ok, delete_account
from fastapi_userkit.schemas import UserAdminUpdate

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_NOT_FOUND = {
    "description": "No user has this id.",
    "content": {"application/json": {"example": {"detail": "Not Found"}}},
}


def create_admin_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the superuser-only user administration router of *kit*."""
    router = APIRouter(route_class=kit.route_class)
    superuser = kit.current_user(superuser=True)
    read = kit.schemas.read
    model: Any = kit.user_model
    page: Any = create_model("UserPage", items=(list[read], ...), total=(int, ...))  # type: ignore[valid-type]

    async def target(user_id: str, uow: UnitOfWork) -> Any:
        try:
            user = await kit.store(uow).get(kit.parse_id(user_id))
        except BadTokenError:
            user = None
        if user is None:
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND)
        return user

    @router.get("", response_model=page, name="users:users", dependencies=[Depends(superuser)])
    async def list_users(
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        q: Annotated[str | None, Query(max_length=320)] = None,
    ) -> dict[str, Any]:
        where = []
        if q:
            pattern = canonical_email(q.replace("\x00", ""))
            escaped = pattern.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            where.append(model.email_key.like(f"%{escaped}%", escape="!"))
        total = await uow.session.scalar(select(func.count()).select_from(model).where(*where))
        rows = await uow.session.scalars(
            select(model).where(*where).order_by(model.email_key).offset(offset).limit(limit)
        )
        return {"items": list(rows), "total": int(total or 0)}

    @router.get(
        "/{id}",
        response_model=read,
        name="users:user",
        dependencies=[Depends(superuser)],
        responses={status.HTTP_404_NOT_FOUND: _NOT_FOUND},
    )
    async def get_user(id: str, uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)]) -> Any:
        return await target(id, uow)

    @router.patch(
        "/{id}",
        response_model=read,
        name="users:patch_user",
        dependencies=[Depends(superuser)],
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS,
                "A taken address (or one that looks like another account's: "
                "`UPDATE_USER_EMAIL_LOOKALIKE`), a refused password "
                "(`UPDATE_USER_INVALID_PASSWORD`), on your own account a new address or "
                "password without the right `current_password` (`CURRENT_PASSWORD_INVALID`), "
                "or a change that would leave no active superuser (`LAST_SUPERUSER`).",
            ),
            status.HTTP_404_NOT_FOUND: _NOT_FOUND,
        },
    )
    async def patch_user(
        id: str,
        request: Request,
        body: UserAdminUpdate,
        auth: Annotated[Authentication, Depends(kit.authenticated)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
        background: BackgroundTasks,
    ) -> Any:
        user = await target(id, uow)
        values = body.model_dump(exclude_unset=True)
        current_password = values.pop("current_password", None)
        values = {k: v for k, v in values.items() if v is not None}
        password = values.pop("password", None)
        own = user.id == auth.user.id
        # The admin's own account gets the checks of `PATCH /users/me`: a stolen
        # admin token alone cannot take the account over for good.
        if (
            own
            and (password is not None or "email" in values)
            and not await current_password_ok(kit, uow, request, user, current_password)
        ):
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.CURRENT_PASSWORD_INVALID)
        manager = kit.manager(uow)
        old_email = user.email

        async def write() -> Any:
            updated = await manager.update(user, values)
            if password is not None:
                updated = await manager.set_password(updated, password)
            return updated

        try:
            user = await (
                manager.keep_a_superuser(write) if removes_superuser(user, values) else write()
            )
            if password is not None or values.get("is_active") is False:
                keep = auth.session.id if own and user.is_active else None
                await kit.end_all_sessions(uow, user, keep=keep)
            await uow.commit()
        except InvalidPasswordError as exc:
            raise http_error(
                status.HTTP_400_BAD_REQUEST, ErrorCode.UPDATE_USER_INVALID_PASSWORD, exc.reasons
            ) from None
        except UserAlreadyExistsError as exc:
            raise address_refused(exc) from None
        except LastSuperuserError:
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.LAST_SUPERUSER) from None
        if user.email != old_email:
            new_email = user.email
            kit.mail.later(background, lambda: kit.mail.email_change_notice(old_email, new_email))
        if password is not None:
            address = user.email
            kit.mail.later(background, lambda: kit.mail.password_changed(address))
        changed = {**values, **({"password_changed": True} if password is not None else {})}
        await run_after_hook("on_after_update", kit.hooks.on_after_update(user, changed, request))
        return user

    @router.delete(
        "/{id}",
        status_code=status.HTTP_204_NO_CONTENT,
        name="users:delete_user",
        dependencies=[Depends(superuser)],
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.LAST_SUPERUSER, "The user is the last active superuser."
            ),
            status.HTTP_404_NOT_FOUND: _NOT_FOUND,
        },
    )
    async def delete_user(
        id: str,
        request: Request,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        user = await target(id, uow)
        await kit.hooks.on_before_delete(user, request)  # may raise: nothing written yet
        await delete_account(kit, uow, user)
        await run_after_hook("on_after_delete", kit.hooks.on_after_delete(user, request))

    return router
