"""Bearer login sessions: `/auth/jwt/login`, `/refresh`, `/logout`, `/logout-all`."""

import json
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login import Login
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions
from fastapi_userkit._http.dependencies import LOGGED_IN, Dependencies
from fastapi_userkit._http.route import redacted
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.models import EMAIL_MAX_LENGTH
from fastapi_userkit.errors import (
    INVALID,
    NO_STORE,
    SECOND_FACTOR_NEEDED,
    ErrorCode,
    Flow,
    Refusals,
    answering,
    error_body,
    http_error,
    refused,
)
from fastapi_userkit.exceptions import UserKitError
from fastapi_userkit.routers._common import SESSIONS, THROTTLED, answers
from fastapi_userkit.schemas import (
    BearerResponse,
    LoginRequest,
    MfaLoginRequest,
    PasskeyAssertion,
    Reauthentication,
    RefreshRequest,
    TokenResponse,
)

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_FORM_MAX_FIELDS = 16
_FORM_EXTRAS: dict[str, Any] = {
    # RFC 6749 §3.2: unknown parameters are ignored (JSON Schema allows them by
    # default, and Swagger UI then offers no made-up ones), and none is sent twice.
    "maxProperties": _FORM_MAX_FIELDS,
}

_TOKEN_FORM: dict[str, Any] = {
    # One flat object, which Swagger UI renders as form fields (it cannot render a
    # `oneOf`); which fields a grant needs is said by the `if`/`then`/`else` below.
    "title": "Token request (RFC 6749)",
    "type": "object",
    "properties": {
        "grant_type": {
            "type": "string",
            "enum": ["password", "refresh_token"],
            "default": "password",
            "description": "`password` to log in, `refresh_token` to rotate a refresh token.",
        },
        "username": {
            "type": "string",
            "minLength": 1,
            "maxLength": EMAIL_MAX_LENGTH,
            "description": "The e-mail address (password grant).",
            "example": "alice@example.com",
        },
        "password": {
            "type": "string",
            "format": "password",
            "description": "The password (password grant).",
            "example": "a long passphrase",
        },
        "refresh_token": {
            "type": "string",
            "description": "The refresh token to rotate (refresh-token grant).",
            "example": "",
        },
        "scope": {"type": "string", "description": "Ignored.", "example": ""},
        "client_id": {"type": "string", "description": "Ignored.", "example": ""},
        "client_secret": {"type": "string", "description": "Ignored.", "example": ""},
    },
    "if": {"properties": {"grant_type": {"const": "refresh_token"}}, "required": ["grant_type"]},
    "then": {"required": ["refresh_token"]},
    "else": {"required": ["username", "password"]},
    **_FORM_EXTRAS,
}

LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": _TOKEN_FORM},
            "application/json": {"schema": LoginRequest.model_json_schema()},
        },
    }
}
"""The login body in OpenAPI: the RFC 6749 form (password or refresh-token grant)
or JSON."""

UNREADABLE: dict[int, Refusals] = {
    415: refused("The body is neither a form nor JSON.", ErrorCode.UNSUPPORTED_MEDIA_TYPE),
    422: INVALID,
}
"""The answers of a login body the kit cannot read."""
REFRESH_REFUSED = Refusals(
    "Unknown, expired or spent refresh token, or an ended session "
    "(`REFRESH_TOKEN_INVALID`); `REFRESH_TOKEN_REUSED`: the token was already "
    "rotated, and the whole session is now revoked.",
    (ErrorCode.REFRESH_TOKEN_INVALID.value, ErrorCode.REFRESH_TOKEN_REUSED.value),
    headers=("WWW-Authenticate",),
)
"""The 401 of a refresh that failed."""
_TOKEN_ENDPOINT_400 = Refusals(
    "Unknown e-mail, wrong password or inactive user (`LOGIN_BAD_CREDENTIALS`, one "
    "answer for all), `LOGIN_USER_NOT_VERIFIED` when verified logins are required; "
    "for `grant_type=refresh_token`, `REFRESH_TOKEN_INVALID` or "
    "`REFRESH_TOKEN_REUSED`; `UNSUPPORTED_GRANT_TYPE` for another grant; "
    "`FORM_INVALID` for a form of more than 16 fields or with a file. With the "
    "RFC 6749 `error` beside `detail`.",
    tuple(
        code.value
        for code in (
            ErrorCode.LOGIN_BAD_CREDENTIALS,
            ErrorCode.LOGIN_USER_NOT_VERIFIED,
            ErrorCode.REFRESH_TOKEN_INVALID,
            ErrorCode.REFRESH_TOKEN_REUSED,
            ErrorCode.UNSUPPORTED_GRANT_TYPE,
            ErrorCode.FORM_INVALID,
        )
    ),
    oauth=("invalid_grant", "unsupported_grant_type", "invalid_request"),
)


def _validated(model: type[Any], raw: Any) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


async def _json_or_form(request: Request) -> tuple[Any, dict[str, str] | None]:
    """The parsed JSON body (and `None`), or `None` and the form's text fields.

    Raises:
        RequestValidationError: malformed JSON (422).
        HTTPException: 415 for another content type, 400 for a form the parser
            refuses (more than 16 fields, a file, a malformed multipart body).
    """
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json":
        try:
            return json.loads(await request.body()), None
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]
            ) from exc
    if content_type not in _FORM_TYPES:
        raise http_error(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    try:
        async with request.form(max_files=0, max_fields=_FORM_MAX_FIELDS) as form:
            return None, {key: value for key, value in form.items() if isinstance(value, str)}
    except StarletteHTTPException as exc:
        if exc.status_code != status.HTTP_400_BAD_REQUEST:  # a 413 from the body limit
            raise
        # The parser's own refusal (too many fields, a file, a malformed multipart
        # body) would be a free-text 400, without the RFC 6749 `error`.
        raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.FORM_INVALID) from None


async def read_login_body(request: Request) -> LoginRequest | RefreshRequest:
    """Parse the login body: a form (password or refresh-token grant) or JSON.

    Raises:
        RequestValidationError: malformed JSON or missing fields (422).
        HTTPException: 415 for another content type, 400 for another grant type or
            a form the parser refuses (more than 16 fields, a file).
    """
    raw, fields = await _json_or_form(request)
    if fields is None:
        return _validated(LoginRequest, raw)  # type: ignore[no-any-return]
    grant_type = fields.get("grant_type") or "password"
    if grant_type == "refresh_token":
        return _validated(  # type: ignore[no-any-return]
            RefreshRequest, {"refresh_token": fields.get("refresh_token")}
        )
    if grant_type != "password":
        raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.UNSUPPORTED_GRANT_TYPE)
    raw = {"email": fields.get("username"), "password": fields.get("password")}
    return _validated(LoginRequest, {k: v for k, v in raw.items() if v is not None})  # type: ignore[no-any-return]


_MFA_TOKEN = {
    "type": "string",
    "minLength": 1,
    "maxLength": 8192,
    "description": "The `mfa_token` of the password step's `LOGIN_MFA_REQUIRED` answer.",
}
_CODE = {
    "type": "string",
    "minLength": 1,
    "maxLength": 64,
    "description": "A code from the authenticator app, or an unused recovery code.",
    "example": "123456",
}
MFA_LOGIN_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "title": "Second step (JSON)",
                    "type": "object",
                    "properties": {
                        "mfa_token": _MFA_TOKEN,
                        "code": _CODE,
                        "passkey": {
                            "type": "object",
                            "description": "Instead of a code: a passkey's answer.",
                            "properties": {
                                "token": {"type": "string", "minLength": 1, "maxLength": 8192},
                                "credential": {"type": "object"},
                            },
                            "required": ["token", "credential"],
                            "additionalProperties": False,
                        },
                    },
                    "required": ["mfa_token"],
                    "oneOf": [{"required": ["code"]}, {"required": ["passkey"]}],
                    "additionalProperties": False,
                }
            },
            "application/x-www-form-urlencoded": {
                "schema": {
                    "title": "Second step (form)",
                    "type": "object",
                    "properties": {"mfa_token": _MFA_TOKEN, "code": _CODE},
                    "required": ["mfa_token", "code"],
                    **_FORM_EXTRAS,
                }
            },
        },
    }
}
"""The body of the second step of a login: JSON (a code or a passkey) or a form (a code)."""


async def read_mfa_body(request: Request) -> MfaLoginRequest:
    """Parse the second step's body: JSON (a code or a passkey) or a form with
    `mfa_token` and `code`.

    Raises:
        RequestValidationError: malformed JSON or missing fields (422).
        HTTPException: 415 for another content type, 400 for a form the parser
            refuses.
    """
    raw, fields = await _json_or_form(request)
    if fields is not None:
        raw = {name: fields[name] for name in ("mfa_token", "code") if name in fields}
    return _validated(MfaLoginRequest, raw)  # type: ignore[no-any-return]


MFA_REFUSED = refused(
    "The challenge is unknown, expired or spent (`MFA_CHALLENGE_INVALID`: log in "
    "again), or the code is wrong or used already (`MFA_CODE_INVALID`: the challenge "
    "stays usable until it expires); `FORM_INVALID` for a form the parser refuses.",
    ErrorCode.MFA_CHALLENGE_INVALID,
    ErrorCode.MFA_CODE_INVALID,
    ErrorCode.FORM_INVALID,
)
"""The 400 of a second step that failed."""
REAUTHENTICATION_REFUSED = refused(
    "Wrong or missing password (`CURRENT_PASSWORD_INVALID`); for a user with a second "
    "factor, no code or passkey (`MFA_CODE_REQUIRED`) or a wrong or spent one "
    "(`MFA_CODE_INVALID`).",
    ErrorCode.CURRENT_PASSWORD_INVALID,
    ErrorCode.MFA_CODE_REQUIRED,
    ErrorCode.MFA_CODE_INVALID,
)
"""The 400 of a re-authentication that failed."""
PASSKEY_LOGIN_REFUSED = refused(
    "The passkey is unknown, its answer does not verify or was used already "
    "(`MFA_CODE_INVALID`), its user is gone or inactive (`LOGIN_BAD_CREDENTIALS`), or "
    "verified logins are required (`LOGIN_USER_NOT_VERIFIED`).",
    ErrorCode.MFA_CODE_INVALID,
    ErrorCode.LOGIN_BAD_CREDENTIALS,
    ErrorCode.LOGIN_USER_NOT_VERIFIED,
)
"""The 400 of a passkey login that failed."""


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
    """Build the bearer login-session router (with the second step of a login when
    second factors are on).
    """
    router = APIRouter(route_class=route_class)
    login_403: dict[int, Refusals] = {}
    if login.factors is not None:
        login_403 = {403: SECOND_FACTOR_NEEDED}

    @router.post(
        "/jwt/login",
        response_model=TokenResponse,
        name="auth:jwt.login",
        openapi_extra=LOGIN_OPENAPI,
        responses=answers(
            THROTTLED,
            SESSIONS,
            login_403,
            {
                400: _TOKEN_ENDPOINT_400,
                **{
                    code: replace(refusals, oauth=("invalid_request",))
                    for code, refusals in UNREADABLE.items()
                },
            },
        ),
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
            if isinstance(error, HTTPException) and error.status_code == 413:
                raise  # the body limit's answer, as on every kit route
            return token_request_error(error)
        flow = Flow.TOKEN_GRANT if isinstance(body, RefreshRequest) else Flow.LOGIN
        try:
            if isinstance(body, RefreshRequest):  # RFC 6749 §6
                _, tokens = await sessions.refresh(uow, body.refresh_token, origin)
                return token_answer(None, tokens)
            return await login.log_in(uow, body.email, body.password, origin, token_answer)
        except UserKitError as error:
            return error_body(error, flow)

    if login.factors is not None:

        @router.post(
            "/jwt/login/mfa",
            response_model=TokenResponse,
            name="auth:jwt.login_mfa",
            openapi_extra=MFA_LOGIN_OPENAPI,
            responses=answers(
                THROTTLED,
                SESSIONS,
                {
                    400: replace(MFA_REFUSED, oauth=("invalid_grant", "invalid_request")),
                    **{
                        code: replace(refusals, oauth=("invalid_request",))
                        for code, refusals in UNREADABLE.items()
                    },
                },
            ),
        )
        async def log_in_second_step(
            request: Request,
            uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
            origin: Annotated[Origin, Depends(deps.origin)],
        ) -> Response:
            try:
                body = await read_mfa_body(request)
            except (RequestValidationError, HTTPException) as error:
                if isinstance(error, HTTPException) and error.status_code == 413:
                    raise
                return token_request_error(error)
            passkey = body.passkey.model_dump() if body.passkey is not None else None
            try:
                return await login.complete(
                    uow, body.mfa_token, body.code, origin, token_answer, passkey
                )
            except UserKitError as error:
                return error_body(error, Flow.LOGIN)

        @router.post(
            "/jwt/login/passkey",
            response_model=TokenResponse,
            name="auth:jwt.login_passkey",
            responses=answers(THROTTLED, SESSIONS, {400: PASSKEY_LOGIN_REFUSED}),
        )
        async def log_in_with_passkey(
            body: PasskeyAssertion,
            uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
            origin: Annotated[Origin, Depends(deps.origin)],
        ) -> Response:
            with answering(Flow.LOGIN):
                return await login.log_in_with_passkey(uow, body.model_dump(), origin, token_answer)

    @router.post(
        "/jwt/reauthenticate",
        response_model=BearerResponse,
        name="auth:jwt.reauthenticate",
        responses=answers(
            deps.refusals(LOGGED_IN, {"POST"}),
            THROTTLED,
            {400: REAUTHENTICATION_REFUSED},
        ),
    )
    async def reauthenticate(
        body: Reauthentication,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        passkey = body.passkey.model_dump() if body.passkey is not None else None
        with answering(Flow.ACCOUNT):
            token = await login.reauthenticate(uow, auth, body.password, body.code, origin, passkey)
        answer = BearerResponse(access_token=token, expires_in=sessions.access_tokens.ttl)
        return JSONResponse(answer.model_dump(), headers=dict(NO_STORE))

    @router.post(
        "/jwt/refresh",
        response_model=TokenResponse,
        name="auth:jwt.refresh",
        responses=answers(SESSIONS, {401: REFRESH_REFUSED}),
    )
    async def refresh(
        body: RefreshRequest,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        with answering(Flow.REFRESH):
            _, tokens = await sessions.refresh(uow, body.refresh_token, origin)
        return token_answer(None, tokens)

    @router.post(
        "/jwt/logout",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:jwt.logout",
        responses=answers(deps.refusals(LOGGED_IN, {"POST"})),
    )
    async def log_out(
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        await sessions.end(uow, auth, origin)

    @router.post(
        "/jwt/logout-all",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:jwt.logout_all",
        responses=answers(deps.refusals(LOGGED_IN, {"POST"})),
    )
    async def log_out_everywhere(
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> None:
        await sessions.log_out_everywhere(uow, auth.user, origin)

    return router
