"""`POST /users/me/email`, `POST /users/me/email/confirm` and `DELETE /users/me`."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status

from fastapi_userkit._email import canonical_email
from fastapi_userkit.action_tokens import Purpose, account_state, bound_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, address_refused, error_response, http_error
from fastapi_userkit.exceptions import BadTokenError, UserAlreadyExistsError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.routers._common import action_user, current_password_ok, delete_account
from fastapi_userkit.schemas import CurrentPassword, EmailChangeRequest, TokenRequest

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_WRONG_PASSWORD = error_response(
    ErrorCode.CURRENT_PASSWORD_INVALID, "`current_password` is wrong; nothing happened."
)


def create_account_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the router for changing the address and deleting the account."""
    router = APIRouter(route_class=kit.route_class)
    hooks, mail, settings = kit.hooks, kit.mail, kit.settings
    current_user = kit.current_user(active=True, verified=settings.require_verified_login)

    async def check_password(uow: UnitOfWork, request: Request, user: Any, password: str) -> None:
        if not await current_password_ok(kit, uow, request, user, password):
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.CURRENT_PASSWORD_INVALID)

    @router.post(
        "/me/email",
        status_code=status.HTTP_202_ACCEPTED,
        name="users:request_email_change",
        responses={status.HTTP_400_BAD_REQUEST: _WRONG_PASSWORD},
    )
    async def request_email_change(
        request: Request,
        body: EmailChangeRequest,
        background: BackgroundTasks,
        user: Annotated[Any, Depends(current_user)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        await check_password(uow, request, user, body.current_password)
        new_email = str(body.new_email)
        if canonical_email(new_email) == user.email_key:
            raise http_error(
                status.HTTP_400_BAD_REQUEST, ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS
            )
        try:
            await kit.manager(uow).check_email_available(new_email, user)
        except UserAlreadyExistsError as exc:
            raise address_refused(exc) from None
        token = kit.action_tokens.issue(
            Purpose.CHANGE_EMAIL,
            subject=str(user.id),
            state=account_state(user),
            ttl=settings.email_change_token_ttl,
            email=new_email,
        )
        old_email = user.email
        mail.later(
            background,
            lambda: mail.confirm_email_change(new_email, token),
            lambda: mail.email_change_notice(old_email, new_email),
        )

    @router.post(
        "/me/email/confirm",
        response_model=kit.schemas.read,
        name="users:confirm_email_change",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.EMAIL_CHANGE_BAD_TOKEN,
                "Bad, expired or used link (`EMAIL_CHANGE_BAD_TOKEN`), or the address was "
                "taken meanwhile (`UPDATE_USER_EMAIL_ALREADY_EXISTS`, "
                "`UPDATE_USER_EMAIL_LOOKALIKE`).",
            )
        },
    )
    async def confirm_email_change(
        request: Request,
        body: TokenRequest,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> Any:
        bad_token = http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.EMAIL_CHANGE_BAD_TOKEN)
        try:
            claims, user = await action_user(kit, uow, Purpose.CHANGE_EMAIL, body.token)
        except BadTokenError:
            raise bad_token from None
        if claims.email is None:
            raise bad_token
        try:
            await kit.manager(uow).check_email_available(claims.email, user)
            # Following the link proves the new mailbox is theirs; a password change,
            # reset or logout-all since the request cancels it.
            changes = {"email": claims.email, "is_verified": True}
            if not await kit.store(uow).update_if(user, bound_state(user), changes):
                raise bad_token
            await uow.commit()
        except UserAlreadyExistsError as exc:
            raise address_refused(exc) from None
        await run_after_hook(
            "on_after_update", hooks.on_after_update(user, {"email": claims.email}, request)
        )
        return user

    @router.delete(
        "/me",
        status_code=status.HTTP_204_NO_CONTENT,
        name="users:delete_current_user",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.CURRENT_PASSWORD_INVALID,
                "`current_password` is wrong, or you are the last active superuser "
                "(`LAST_SUPERUSER`); nothing happened.",
            )
        },
    )
    async def delete_me(
        request: Request,
        body: CurrentPassword,
        background: BackgroundTasks,
        user: Annotated[Any, Depends(current_user)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        await check_password(uow, request, user, body.current_password)
        await hooks.on_before_delete(user, request)  # may raise: nothing is written yet
        email = user.email
        await delete_account(kit, uow, user)
        mail.later(background, lambda: mail.account_deleted(email))
        await run_after_hook("on_after_delete", hooks.on_after_delete(user, request))

    return router
