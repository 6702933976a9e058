"""`POST /auth/forgot-password` and `POST /auth/reset-password`."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status

from fastapi_userkit.action_tokens import Purpose, account_state, bound_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, error_response, http_error, too_many_response
from fastapi_userkit.exceptions import BadTokenError, InvalidPasswordError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.routers._common import action_user
from fastapi_userkit.schemas import EmailRequest, ResetPasswordRequest

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit


def create_reset_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the password-reset router of *kit*."""
    router = APIRouter(route_class=kit.route_class)
    hooks, mail, settings = kit.hooks, kit.mail, kit.settings

    @router.post(
        "/forgot-password",
        status_code=status.HTTP_202_ACCEPTED,
        name="reset:forgot_password",
        responses={status.HTTP_429_TOO_MANY_REQUESTS: too_many_response()},
    )
    async def forgot_password(
        request: Request,
        body: EmailRequest,
        background: BackgroundTasks,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        # The same answer and the same work for every address: one lookup, one
        # signed token, and a task after the response (mail and hook, or nothing).
        await kit.throttle.count(request, "forgot_password", body.email)
        user = await kit.store(uow).get_by_email(body.email)
        found = user is not None and user.is_active
        token = kit.action_tokens.issue(
            Purpose.RESET_PASSWORD,
            subject=str(user.id) if found and user is not None else "-",
            state=account_state(user) if found and user is not None else "-",
            ttl=settings.reset_password_token_ttl,
        )
        if user is None or not found:
            mail.later(background)
            return
        mail.later(
            background,
            lambda: mail.reset_password(user, token),
            lambda: hooks.on_after_forgot_password(user, token, request),
        )

    @router.post(
        "/reset-password",
        name="reset:reset_password",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.RESET_PASSWORD_BAD_TOKEN,
                "Bad, expired or used token, unknown or inactive user, or a password "
                "changed since; `RESET_PASSWORD_INVALID_PASSWORD` with every reason.",
            )
        },
    )
    async def reset_password(
        request: Request,
        body: ResetPasswordRequest,
        background: BackgroundTasks,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        bad_token = http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.RESET_PASSWORD_BAD_TOKEN)
        try:
            _, user = await action_user(kit, uow, Purpose.RESET_PASSWORD, body.token)
        except BadTokenError:
            raise bad_token from None
        try:
            await kit.password_policy.check(body.password, user.email)
        except InvalidPasswordError as exc:
            raise http_error(
                status.HTTP_400_BAD_REQUEST, ErrorCode.RESET_PASSWORD_INVALID_PASSWORD, exc.reasons
            ) from None
        new_hash = await kit.password_hash.hash(body.password)
        # Only one use wins, even concurrently: the address, hash and token version
        # must still be the bound ones. The version bump ends every access token.
        expected = bound_state(user)
        changes = {"hashed_password": new_hash, "token_version": user.token_version + 1}
        if not await kit.store(uow).update_if(user, expected, changes):
            raise bad_token
        await kit.session_store.bind(uow).revoke_all(str(user.id))
        await uow.commit()
        mail.later(background, lambda: mail.password_changed(user.email))
        await run_after_hook(
            "on_after_reset_password", hooks.on_after_reset_password(user, request)
        )

    return router
