"""`POST /auth/jwt/login`: the OAuth2 password grant (form) or a JSON body."""

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, error_response, http_error
from fastapi_userkit.exceptions import InvalidCredentialsError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.schemas import BearerResponse, LoginRequest

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["password"]},
                        "username": {"type": "string", "description": "The e-mail address."},
                        "password": {"type": "string", "format": "password"},
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


async def read_credentials(request: Request) -> LoginRequest:
    """Parse the login body, form or JSON, into a `LoginRequest`.

    Raises:
        RequestValidationError: malformed JSON or missing fields (422).
        HTTPException: 415 for another content type, 400 for another grant type.
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw: Any
    if content_type == "application/json":
        try:
            raw = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from exc
    elif content_type in _FORM_TYPES:
        async with request.form(max_files=0, max_fields=16) as form:
            grant_type = form.get("grant_type")
            if grant_type not in (None, "", "password"):
                raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.UNSUPPORTED_GRANT_TYPE)
            raw = {"email": form.get("username"), "password": form.get("password")}
            if raw["email"] is None:
                raw.pop("email")
            if raw["password"] is None:
                raw.pop("password")
    else:
        raise http_error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    try:
        return LoginRequest.model_validate(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def create_auth_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the bearer login router of *kit*."""
    router = APIRouter(route_class=kit.route_class)

    @router.post(
        "/jwt/login",
        name="auth:jwt.login",
        openapi_extra=LOGIN_OPENAPI,
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.LOGIN_BAD_CREDENTIALS,
                "Unknown e-mail, wrong password or inactive user (one answer for all), "
                "or `LOGIN_USER_NOT_VERIFIED` when verified logins are required.",
            ),
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: error_response(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE, "The body is neither a form nor JSON."
            ),
        },
    )
    async def login(
        request: Request,
        response: Response,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> BearerResponse:
        credentials = await read_credentials(request)
        try:
            user = await kit.manager(uow).authenticate(credentials.email, credentials.password)
        except InvalidCredentialsError:
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.LOGIN_BAD_CREDENTIALS) from None
        await uow.commit()  # keeps an upgraded hash even if the login is refused below
        if kit.settings.require_verified_login and not user.is_verified:
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.LOGIN_USER_NOT_VERIFIED)
        token = kit.access_tokens.issue(str(user.id), user.token_version)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        await run_after_hook("on_after_login", kit.hooks.on_after_login(user, request, response))
        return BearerResponse(access_token=token, expires_in=kit.access_tokens.ttl)

    return router
