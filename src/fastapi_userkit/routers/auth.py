"""Bearer login sessions: `/auth/jwt/login`, `/refresh`, `/logout`, `/logout-all`."""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login import Login
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit._http.route import redacted
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    NO_STORE,
    ErrorCode,
    Flow,
    answering,
    error_body,
    error_response,
    http_error,
    too_many_response,
)
from fastapi_userkit.exceptions import UserKitError
from fastapi_userkit.schemas import LoginRequest, RefreshRequest, TokenResponse

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

_PASSWORD_GRANT: dict[str, Any] = {
    "title": "Password grant",
    "type": "object",
    "properties": {
        "grant_type": {"type": "string", "enum": ["password"], "default": "password"},
        "username": {"type": "string", "description": "The e-mail address."},
        "password": {"type": "string", "format": "password"},
        "scope": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    },
    "required": ["username", "password"],
}
_REFRESH_GRANT: dict[str, Any] = {
    "title": "Refresh-token grant",
    "type": "object",
    "properties": {
        "grant_type": {"type": "string", "enum": ["refresh_token"]},
        "refresh_token": {"type": "string"},
        "scope": {"type": "string"},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
    },
    "required": ["grant_type", "refresh_token"],
}

LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"oneOf": [_PASSWORD_GRANT, _REFRESH_GRANT]}
            },
            "application/json": {"schema": LoginRequest.model_json_schema()},
        },
    }
}
"""The login body in OpenAPI: the RFC 6749 form (password or refresh-token grant)
or JSON."""


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
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
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


def token_request_error(error: RequestValidationError | HTTPException) -> JSONResponse:
    """A request the token endpoint cannot read, with its RFC 6749 §5.2 `error`:
    `unsupported_grant_type`, or `invalid_request` (a 422 keeps FastAPI's list of
    errors, without the submitted values, in `detail`).
    """
    if isinstance(error, RequestValidationError):
        detail: Any = jsonable_encoder(redacted(error.errors()))
        status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    else:
        detail, status_code = error.detail, error.status_code
    kind = "unsupported_grant_type" if detail == ErrorCode.UNSUPPORTED_GRANT_TYPE else None
    return JSONResponse(
        {"error": kind or "invalid_request", "detail": detail},
        status_code=status_code,
        headers=dict(NO_STORE),
    )


def token_answer(user: Any, tokens: TokenResponse) -> JSONResponse:
    """The answer of a bearer login or refresh: the token pair, never cached."""
    return JSONResponse(tokens.model_dump(), headers=dict(NO_STORE))


def create_auth_router(
    login: Login, sessions: LoginSessions, deps: Dependencies, route_class: type[APIRoute]
) -> APIRouter:
    """Build the bearer login-session router."""
    router = APIRouter(route_class=route_class)

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
    async def log_in(
        request: Request,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        # The token endpoint of RFC 6749: every refusal carries its §5.2 `error`, so
        # that a standard OAuth2 client raises instead of taking it for tokens.
        try:
            body = await read_login_body(request)
        except (RequestValidationError, HTTPException) as error:
            return token_request_error(error)
        flow = Flow.TOKEN_GRANT if isinstance(body, RefreshRequest) else Flow.LOGIN
        try:
            if isinstance(body, RefreshRequest):  # RFC 6749 §6
                _, tokens = await sessions.refresh(uow, body.refresh_token, origin)
                return token_answer(None, tokens)
            return await login.log_in(uow, body.email, body.password, origin, token_answer)
        except UserKitError as error:
            return error_body(error, flow)

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
        body: RefreshRequest,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        with answering(Flow.REFRESH):
            _, tokens = await sessions.refresh(uow, body.refresh_token, origin)
        return token_answer(None, tokens)

    @router.post("/jwt/logout", status_code=status.HTTP_204_NO_CONTENT, name="auth:jwt.logout")
    async def log_out(
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        await sessions.end(uow, auth, origin)

    @router.post(
        "/jwt/logout-all", status_code=status.HTTP_204_NO_CONTENT, name="auth:jwt.logout_all"
    )
    async def log_out_everywhere(
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        await sessions.log_out_everywhere(uow, auth.user, origin)

    return router
