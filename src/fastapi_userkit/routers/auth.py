"""Bearer login sessions: `/auth/jwt/login`, `/refresh`, `/logout`, `/logout-all`."""

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    INVALID_TOKEN_CHALLENGE,
    ErrorCode,
    error_response,
    http_error,
    too_many_response,
)
from fastapi_userkit.exceptions import BadTokenError, InvalidCredentialsError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.login import Authentication
from fastapi_userkit.schemas import LoginRequest, RefreshRequest, TokenResponse
from fastapi_userkit.sessions import RefreshTokenReuseError

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
                        "username": {"type": "string", "description": "The e-mail address."},
                        "password": {"type": "string", "format": "password"},
                        "refresh_token": {"type": "string"},
                        "scope": {"type": "string"},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                    },
                }
            },
            "application/json": {"schema": LoginRequest.model_json_schema()},
        },
    }
}


def _validated(model: type[Any], raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


async def read_login_body(request: Request) -> LoginRequest | RefreshRequest:
    """Parse the login body: a form (password or refresh-token grant) or JSON.

    Raises:
        RequestValidationError: malformed JSON or missing fields (422).
        HTTPException: 415 for another content type, 400 for another grant type.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json":
        try:
            raw = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from exc
        return _validated(LoginRequest, raw)  # type: ignore[no-any-return]
    if content_type not in _FORM_TYPES:
        raise http_error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    async with request.form(max_files=0, max_fields=16) as form:
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
    grant_type = fields.get("grant_type") or "password"
    if grant_type == "refresh_token":
        return _validated(  # type: ignore[no-any-return]
            RefreshRequest, {"refresh_token": fields.get("refresh_token")}
        )
    if grant_type != "password":
        raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.UNSUPPORTED_GRANT_TYPE)
    raw = {"email": fields.get("username"), "password": fields.get("password")}
    return _validated(LoginRequest, {k: v for k, v in raw.items() if v is not None})  # type: ignore[no-any-return]


async def password_login(
    kit: "UserKit[Any]", uow: UnitOfWork, request: Request, body: LoginRequest
) -> tuple[Any, TokenResponse]:
    """Check credentials and open a session; shared by the bearer and cookie routes.

    Raises:
        HTTPException: 400 `LOGIN_BAD_CREDENTIALS` or `LOGIN_USER_NOT_VERIFIED`.
    """
    counted = await kit.throttle.reserve_login(request, body.email)
    try:
        user = await kit.manager(uow).authenticate(body.email, body.password)
    except InvalidCredentialsError:
        await kit.throttle.login_failed(request, body.email, counted)
        await run_after_hook("on_login_failed", kit.hooks.on_login_failed(body.email, request))
        raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.LOGIN_BAD_CREDENTIALS) from None
    await kit.throttle.login_succeeded(request, body.email, counted)
    if kit.settings.require_verified_login and not user.is_verified:
        await uow.commit()  # keeps an upgraded hash
        raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.LOGIN_USER_NOT_VERIFIED)
    tokens = await kit.login_sessions.open(uow, user, request)
    await uow.commit()
    return user, tokens


def create_auth_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the bearer login-session router of *kit*."""
    router = APIRouter(route_class=kit.route_class)
    hooks = kit.hooks

    async def refreshed(
        request: Request, uow: UnitOfWork, refresh_token: str, *, oauth: bool
    ) -> Response:
        try:
            _, tokens = await kit.login_sessions.refresh(uow, refresh_token)
        except RefreshTokenReuseError as exc:
            # Keep the revocation: answer instead of raising, so no transaction rolls back.
            await uow.commit()
            owner = await kit.store(uow).get(kit.parse_id(exc.session.user_id))
            await run_after_hook(
                "on_refresh_token_reuse", hooks.on_refresh_token_reuse(owner, request)
            )
            return _refresh_error(ErrorCode.REFRESH_TOKEN_REUSED, oauth=oauth)
        except BadTokenError:
            await uow.commit()  # an inactive user's session was ended
            return _refresh_error(ErrorCode.REFRESH_TOKEN_INVALID, oauth=oauth)
        await uow.commit()
        return JSONResponse(tokens.model_dump(), headers=_NO_STORE)

    @router.post(
        "/jwt/login",
        response_model=TokenResponse,
        name="auth:jwt.login",
        openapi_extra=LOGIN_OPENAPI,
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.LOGIN_BAD_CREDENTIALS,
                "Unknown e-mail, wrong password or inactive user (one answer for all), "
                "`LOGIN_USER_NOT_VERIFIED` when verified logins are required, or, for "
                '`grant_type=refresh_token`, `{"error": "invalid_grant", ...}`.',
            ),
            status.HTTP_429_TOO_MANY_REQUESTS: too_many_response(),
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: error_response(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The body is neither a form nor JSON."
            ),
        },
    )
    async def login(
        request: Request, uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)]
    ) -> Response:
        body = await read_login_body(request)
        if isinstance(body, RefreshRequest):
            return await refreshed(request, uow, body.refresh_token, oauth=True)
        user, tokens = await password_login(kit, uow, request, body)
        response = JSONResponse(tokens.model_dump(), headers=_NO_STORE)
        await run_after_hook("on_after_login", hooks.on_after_login(user, request, response))
        return response

    @router.post(
        "/jwt/refresh",
        response_model=TokenResponse,
        name="auth:jwt.refresh",
        responses={
            status.HTTP_401_UNAUTHORIZED: error_response(
                ErrorCode.REFRESH_TOKEN_INVALID,
                "Unknown, expired or spent refresh token, or an ended session. "
                "`REFRESH_TOKEN_REUSED`: the token was already rotated; the whole "
                "session is now revoked.",
            )
        },
    )
    async def refresh(
        request: Request,
        body: RefreshRequest,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> Response:
        return await refreshed(request, uow, body.refresh_token, oauth=False)

    @router.post("/jwt/logout", status_code=status.HTTP_204_NO_CONTENT, name="auth:jwt.logout")
    async def logout(
        request: Request,
        auth: Annotated[Authentication, Depends(kit.authenticated)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        await kit.session_store.bind(uow).revoke(auth.session.id)
        await uow.commit()
        await run_after_hook("on_after_logout", hooks.on_after_logout(auth.user, request))

    @router.post(
        "/jwt/logout-all", status_code=status.HTTP_204_NO_CONTENT, name="auth:jwt.logout_all"
    )
    async def logout_all(
        request: Request,
        auth: Annotated[Authentication, Depends(kit.authenticated)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> None:
        await kit.end_all_sessions(uow, auth.user)
        await uow.commit()
        await run_after_hook("on_after_logout", hooks.on_after_logout(auth.user, request))

    return router


def _refresh_error(code: ErrorCode, *, oauth: bool) -> JSONResponse:
    if oauth:  # RFC 6749 §5.2 shape, with our stable code beside it
        return JSONResponse(
            {"error": "invalid_grant", "error_description": code.value, "detail": code.value},
            status_code=status.HTTP_400_BAD_REQUEST,
            headers=_NO_STORE,
        )
    return JSONResponse(
        {"detail": code.value},
        status_code=status.HTTP_401_UNAUTHORIZED,
        headers={**_NO_STORE, "WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
    )
