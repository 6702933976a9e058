"""`POST /auth/request-verify-token` and `POST /auth/verify`."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status

from fastapi_userkit.action_tokens import Purpose, account_state, bound_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, error_response, http_error, too_many_response
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.routers._common import action_user
from fastapi_userkit.schemas import EmailRequest, TokenRequest

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit


def create_verify_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the e-mail verification router of *kit*."""
    router = APIRouter(route_class=kit.route_class)
    hooks, mail, settings = kit.hooks, kit.mail, kit.settings

    @router.post(
        "/request-verify-token",
        status_code=status.HTTP_202_ACCEPTED,
        name="verify:request-token",
        responses={status.HTTP_429_TOO_MANY_REQUESTS: too_many_response()},
    )
    async def request_verify_token(
        request: Request,
        body: EmailRequest,
        background: BackgroundTasks,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        await kit.throttle.count(request, "verify", body.email)
        user = await kit.store(uow).get_by_email(body.email)
        wanted = user is not None and user.is_active and not user.is_verified
        token = kit.action_tokens.issue(  # made in every case: the same work for all
            Purpose.VERIFY_EMAIL,
            subject=str(user.id) if wanted and user is not None else "-",
            state=account_state(user) if wanted and user is not None else "-",
            ttl=settings.verify_token_ttl,
            email=user.email if wanted and user is not None else "-",
        )
        if user is None or not wanted:
            mail.later(background)
            return
        mail.later(
            background,
            lambda: mail.verify_email(user, token),
            lambda: hooks.on_after_request_verify(user, token, request),
        )

    @router.post(
        "/verify",
        response_model=kit.schemas.read,
        name="verify:verify",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.VERIFY_USER_BAD_TOKEN,
                "Bad or expired token, unknown or inactive user, or an address changed "
                "since; `VERIFY_USER_ALREADY_VERIFIED` when there is nothing to do.",
            )
        },
    )
    async def verify(
        request: Request,
        body: TokenRequest,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> Any:
        bad_token = http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.VERIFY_USER_BAD_TOKEN)
        try:
            _, user = await action_user(kit, uow, Purpose.VERIFY_EMAIL, body.token)
        except BadTokenError:
            raise bad_token from None
        if user.is_verified:
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.VERIFY_USER_ALREADY_VERIFIED)
        # Only if the address (and password, token version) is still the one the
        # link was sent for: a concurrent address change wins.
        expected = {**bound_state(user), "is_verified": False}
        if not await kit.store(uow).update_if(user, expected, {"is_verified": True}):
            raise bad_token
        await uow.commit()
        await run_after_hook("on_after_verify", hooks.on_after_verify(user, request))
        return user

    return router
