"""`GET /users/me` and `PATCH /users/me`."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, address_refused, error_response, http_error
from fastapi_userkit.exceptions import InvalidPasswordError, UserAlreadyExistsError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.login import Authentication
from fastapi_userkit.routers._common import current_password_ok, refuse_privileged
from fastapi_userkit.schemas import PasswordChange

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_NEEDS_CURRENT_PASSWORD = ("email", "password")


def create_users_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the router of the current user's own account."""
    router = APIRouter(route_class=kit.route_class)
    update_schema = kit.schemas.update
    current_user = kit.current_user(active=True, verified=kit.settings.require_verified_login)

    @router.get("/me", response_model=kit.schemas.read, name="users:current_user")
    async def me(user: Annotated[Any, Depends(current_user)]) -> Any:
        return user

    @router.patch(
        "/me",
        response_model=kit.schemas.read,
        name="users:patch_current_user",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.CURRENT_PASSWORD_INVALID,
                "`email` or `password` without the right `current_password` "
                "(`CURRENT_PASSWORD_INVALID`), a taken e-mail "
                "(`UPDATE_USER_EMAIL_ALREADY_EXISTS`), one that looks like another "
                "account's (`UPDATE_USER_EMAIL_LOOKALIKE`), or a refused password "
                "(`UPDATE_USER_INVALID_PASSWORD` with every reason). Nothing is applied.",
            ),
        },
    )
    async def update_me(
        request: Request,
        body: update_schema,  # type: ignore[valid-type]
        user: Annotated[Any, Depends(current_user)],
        auth: Annotated[Authentication, Depends(kit.authentication)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
        background: BackgroundTasks,
    ) -> Any:
        old_email = user.email
        values: dict[str, Any] = body.model_dump(exclude_unset=True)  # type: ignore[attr-defined]
        refuse_privileged(values)
        current_password = values.pop("current_password", None)
        values = {
            k: v for k, v in values.items() if not (k in _NEEDS_CURRENT_PASSWORD and v is None)
        }
        manager = kit.manager(uow)
        if any(name in values for name in _NEEDS_CURRENT_PASSWORD) and (
            not await current_password_ok(kit, uow, request, user, current_password)
        ):
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.CURRENT_PASSWORD_INVALID)
        password = values.pop("password", None)
        try:  # a refusal below rolls back the whole unit of work: nothing is applied
            user = await manager.update(user, values)
            if password is not None:
                user = await manager.set_password(user, password)
                await kit.end_all_sessions(uow, user, keep=auth.session.id)
            await uow.commit()
        except InvalidPasswordError as exc:
            raise http_error(
                status.HTTP_400_BAD_REQUEST, ErrorCode.UPDATE_USER_INVALID_PASSWORD, exc.reasons
            ) from None
        except UserAlreadyExistsError as exc:
            raise address_refused(exc) from None
        changed = dict(values)
        if password is not None:
            changed["password_changed"] = True
        if user.email != old_email:
            new_email = user.email
            kit.mail.later(background, lambda: kit.mail.email_change_notice(old_email, new_email))
        await run_after_hook("on_after_update", kit.hooks.on_after_update(user, changed, request))
        if password is not None:
            address = user.email
            kit.mail.later(background, lambda: kit.mail.password_changed(address))
            await run_after_hook(
                "on_after_password_change", kit.hooks.on_after_password_change(user, request)
            )
        return user

    @router.post(
        "/me/password",
        status_code=status.HTTP_204_NO_CONTENT,
        name="users:change_password",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.CURRENT_PASSWORD_INVALID,
                "Wrong `current_password` (`CURRENT_PASSWORD_INVALID`) or a refused new "
                "password (`UPDATE_USER_INVALID_PASSWORD` with every reason).",
            ),
        },
    )
    async def change_password(
        request: Request,
        body: PasswordChange,
        user: Annotated[Any, Depends(current_user)],
        auth: Annotated[Authentication, Depends(kit.authentication)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
        background: BackgroundTasks,
    ) -> None:
        manager = kit.manager(uow)
        if not await current_password_ok(kit, uow, request, user, body.current_password):
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.CURRENT_PASSWORD_INVALID)
        try:
            user = await manager.set_password(user, body.new_password)
        except InvalidPasswordError as exc:
            raise http_error(
                status.HTTP_400_BAD_REQUEST, ErrorCode.UPDATE_USER_INVALID_PASSWORD, exc.reasons
            ) from None
        await kit.end_all_sessions(uow, user, keep=auth.session.id)
        await uow.commit()
        address = user.email
        kit.mail.later(background, lambda: kit.mail.password_changed(address))
        await run_after_hook(
            "on_after_password_change", kit.hooks.on_after_password_change(user, request)
        )

    return router
