"""`POST /auth/register`."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    ErrorCode,
    address_refused,
    error_response,
    http_error,
    too_many_response,
)
from fastapi_userkit.exceptions import (
    InvalidPasswordError,
    LookAlikeEmailError,
    UserAlreadyExistsError,
)
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.routers._common import refuse_privileged

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit


def create_register_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the registration router of *kit*."""
    router = APIRouter(route_class=kit.route_class)
    create_schema = kit.schemas.create

    @router.post(
        "/register",
        status_code=status.HTTP_201_CREATED,
        response_model=kit.schemas.read,
        name="register:register",
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.REGISTER_USER_ALREADY_EXISTS,
                "The e-mail is taken, looks like the address of another account "
                "(`REGISTER_EMAIL_LOOKALIKE`), or the password breaks the policy "
                "(`REGISTER_INVALID_PASSWORD` with every reason).",
            ),
            status.HTTP_202_ACCEPTED: {
                "description": "With `USERKIT_PREVENT_ENUMERATION=true`: the same empty "
                "answer for new and existing addresses (the owner of an existing one is "
                "told by e-mail)."
            },
            status.HTTP_429_TOO_MANY_REQUESTS: too_many_response(),
            status.HTTP_413_CONTENT_TOO_LARGE: error_response(
                ErrorCode.REQUEST_TOO_LARGE, "The body is larger than the kit accepts."
            ),
        },
    )
    async def register(
        request: Request,
        body: create_schema,  # type: ignore[valid-type]
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
        background: BackgroundTasks,
    ) -> Any:
        await kit.throttle.count(request, "register")
        data: dict[str, Any] = body.model_dump()  # type: ignore[attr-defined]
        refuse_privileged(data)
        email, password = data.pop("email"), data.pop("password")
        try:
            user = await kit.manager(uow).create(email=email, password=password, **data)
            await uow.commit()
        except UserAlreadyExistsError as exc:
            if not kit.settings.prevent_enumeration:
                raise address_refused(exc, register=True) from None
            # Same answer and the same hashing work as a new account; the owner is told,
            # at the address of the account (the typed one may differ in case). A
            # look-alike of another account's address gets the same answer, no mail.
            await kit.password_hash.hash(password)
            if not isinstance(exc, LookAlikeEmailError) and (
                await kit.throttle.allow_notice("register", email)
            ):
                owner = await _owner_address(kit, uow, email)
                kit.mail.later(background, lambda: kit.mail.registration_attempt(owner))
            return JSONResponse(None, status_code=status.HTTP_202_ACCEPTED)
        except InvalidPasswordError as exc:
            raise http_error(
                status.HTTP_400_BAD_REQUEST, ErrorCode.REGISTER_INVALID_PASSWORD, exc.reasons
            ) from None
        await run_after_hook("on_after_register", kit.hooks.on_after_register(user, request))
        if kit.settings.prevent_enumeration:
            return JSONResponse(None, status_code=status.HTTP_202_ACCEPTED)
        return user

    return router


async def _owner_address(kit: "UserKit[Any]", uow: UnitOfWork, email: str) -> str:
    if uow.owned:
        await uow.session.rollback()  # a lost insert race leaves the session failed
    try:
        existing = await kit.store(uow).get_by_email(email)
    except SQLAlchemyError:
        return email
    return existing.email if existing is not None else email
