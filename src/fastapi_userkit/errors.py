"""Stable error codes, and the one table that turns domain errors into HTTP answers.

The values of `ErrorCode` are public API: frontends match on them. They are the
same strings fastapi-users uses for the routes the two libraries share, which is
why one domain error can have several codes: a refused password is
`REGISTER_INVALID_PASSWORD` at registration and `RESET_PASSWORD_INVALID_PASSWORD`
in a reset. A route names its `Flow`, and `ANSWERS` says what each error becomes
in that flow (or in any flow, under `None`).

`Refusals` says the same to OpenAPI: every route declares each status it can
answer, with a body schema listing the exact codes.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse

from fastapi_userkit.exceptions import (
    AlreadyVerifiedError,
    BadChallengeError,
    BadTokenError,
    InsufficientScopeError,
    InvalidCredentialsError,
    InvalidPasswordError,
    LastSuperuserError,
    LookAlikeEmailError,
    PasskeyNotFoundError,
    RateLimiterUnavailableError,
    RefreshTokenReuseError,
    RoleAlreadyExistsError,
    RoleNotFoundError,
    SecondFactorRequiredError,
    SecondFactorStateError,
    SelfLockoutError,
    SessionNotFoundError,
    SessionStoreUnavailableError,
    TooManyRequestsError,
    UnverifiedLoginError,
    UserAlreadyExistsError,
    UserKitError,
    UserNotFoundError,
    WrongCodeError,
    WrongPasswordError,
)

__all__ = ["ErrorCode"]


class ErrorCode(StrEnum):
    """Machine-readable codes sent in the `detail` of 4xx responses."""

    REGISTER_USER_ALREADY_EXISTS = "REGISTER_USER_ALREADY_EXISTS"
    REGISTER_INVALID_PASSWORD = "REGISTER_INVALID_PASSWORD"  # noqa: S105 - a code, not a secret
    LOGIN_BAD_CREDENTIALS = "LOGIN_BAD_CREDENTIALS"
    LOGIN_USER_NOT_VERIFIED = "LOGIN_USER_NOT_VERIFIED"
    UPDATE_USER_EMAIL_ALREADY_EXISTS = "UPDATE_USER_EMAIL_ALREADY_EXISTS"
    UPDATE_USER_INVALID_PASSWORD = "UPDATE_USER_INVALID_PASSWORD"  # noqa: S105 - a code
    CURRENT_PASSWORD_INVALID = "CURRENT_PASSWORD_INVALID"  # noqa: S105 - a code
    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    UNSUPPORTED_GRANT_TYPE = "UNSUPPORTED_GRANT_TYPE"
    FORM_INVALID = "FORM_INVALID"
    """A login form the parser refuses: more than 16 fields, or a file."""
    REFRESH_TOKEN_INVALID = "REFRESH_TOKEN_INVALID"  # noqa: S105 - a code
    REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"  # noqa: S105 - a code
    SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
    SESSION_STORE_UNAVAILABLE = "SESSION_STORE_UNAVAILABLE"
    CSRF_FAILED = "CSRF_FAILED"
    RESET_PASSWORD_BAD_TOKEN = "RESET_PASSWORD_BAD_TOKEN"  # noqa: S105 - a code
    RESET_PASSWORD_INVALID_PASSWORD = "RESET_PASSWORD_INVALID_PASSWORD"  # noqa: S105 - a code
    VERIFY_USER_BAD_TOKEN = "VERIFY_USER_BAD_TOKEN"  # noqa: S105 - a code
    VERIFY_USER_ALREADY_VERIFIED = "VERIFY_USER_ALREADY_VERIFIED"
    DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    RATE_LIMITER_UNAVAILABLE = "RATE_LIMITER_UNAVAILABLE"
    EMAIL_CHANGE_BAD_TOKEN = "EMAIL_CHANGE_BAD_TOKEN"  # noqa: S105 - a code
    REGISTER_EMAIL_LOOKALIKE = "REGISTER_EMAIL_LOOKALIKE"
    UPDATE_USER_EMAIL_LOOKALIKE = "UPDATE_USER_EMAIL_LOOKALIKE"
    LAST_SUPERUSER = "LAST_SUPERUSER"
    INSUFFICIENT_SCOPE = "INSUFFICIENT_SCOPE"
    """The user is authenticated but lacks a scope the route requires (RFC 6750 §3.1)."""
    SELF_LOCKOUT = "SELF_LOCKOUT"
    """An admin would remove their own admin rights or account through the admin routes."""
    ROLE_NOT_FOUND = "ROLE_NOT_FOUND"
    ROLE_ALREADY_EXISTS = "ROLE_ALREADY_EXISTS"
    LOGIN_MFA_REQUIRED = "LOGIN_MFA_REQUIRED"
    """The password was right; the login goes on at `.../login/mfa` with a code."""
    MFA_CHALLENGE_INVALID = "MFA_CHALLENGE_INVALID"
    """The second-factor challenge is unknown, expired or spent."""
    MFA_CODE_INVALID = "MFA_CODE_INVALID"
    """The one-time or recovery code is wrong or was used already."""
    MFA_CODE_REQUIRED = "MFA_CODE_REQUIRED"
    """The user has a second factor: re-authentication needs a code with the password."""
    MFA_ALREADY_ENABLED = "MFA_ALREADY_ENABLED"
    MFA_NOT_ENABLED = "MFA_NOT_ENABLED"
    PASSKEY_NOT_FOUND = "PASSKEY_NOT_FOUND"
    REAUTHENTICATION_REQUIRED = "REAUTHENTICATION_REQUIRED"
    """The route needs a recent authentication (RFC 9470): re-authenticate, then retry."""


class Flow(StrEnum):
    """Which family of routes an error comes from, where the code depends on it."""

    REGISTER = "register"
    LOGIN = "login"
    """The password grant of the login routes."""
    TOKEN_GRANT = "token-grant"  # noqa: S105 - a flow name
    """The refresh grant of `POST /auth/jwt/login` (RFC 6749 §5.2 answers, status 400)."""
    REFRESH = "refresh"
    RESET = "reset"
    VERIFY = "verify"
    EMAIL_CHANGE = "email-change"
    ACCOUNT = "account"
    """Everything else: the account, session and admin routes."""


UNAUTHORIZED_DETAIL = "Unauthorized"
FORBIDDEN_DETAIL = "Forbidden"
NOT_FOUND_DETAIL = "Not Found"
#: RFC 6750 §3.1 challenge for a request that sent no credentials.
BEARER_CHALLENGE = "Bearer"
#: RFC 6750 §3.1 challenge for a token that was sent and refused (expired,
#: revoked, malformed, or its user is inactive).
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105 - a challenge
NO_STORE = MappingProxyType({"Cache-Control": "no-store", "Pragma": "no-cache"})
RETRY_SOON = MappingProxyType({"Retry-After": "5"})


@dataclass(frozen=True, slots=True)
class Answer:
    """What one domain error becomes: status, `detail` and headers."""

    status: int
    detail: str
    headers: Mapping[str, str] = field(default_factory=dict)
    reasons: bool = False
    """Send `{"code": ..., "reason": error.reasons}` as the detail."""
    oauth: str | None = None
    """The RFC 6749 §5.2 `error` (`invalid_grant`, ...) sent beside `detail` by the
    token endpoint."""


_400 = status.HTTP_400_BAD_REQUEST
_REFRESH_401 = {**NO_STORE, "WWW-Authenticate": INVALID_TOKEN_CHALLENGE}

#: Domain error → answer, by flow; `None` is the answer in every other flow. The
#: most specific class of an error wins (`LookAlikeEmailError` before
#: `UserAlreadyExistsError`).
ANSWERS: Mapping[type[UserKitError], Mapping[Flow | None, Answer]] = MappingProxyType(
    {
        UserAlreadyExistsError: {
            Flow.REGISTER: Answer(_400, ErrorCode.REGISTER_USER_ALREADY_EXISTS),
            None: Answer(_400, ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS),
        },
        LookAlikeEmailError: {
            Flow.REGISTER: Answer(_400, ErrorCode.REGISTER_EMAIL_LOOKALIKE),
            None: Answer(_400, ErrorCode.UPDATE_USER_EMAIL_LOOKALIKE),
        },
        InvalidPasswordError: {
            Flow.REGISTER: Answer(_400, ErrorCode.REGISTER_INVALID_PASSWORD, reasons=True),
            Flow.RESET: Answer(_400, ErrorCode.RESET_PASSWORD_INVALID_PASSWORD, reasons=True),
            None: Answer(_400, ErrorCode.UPDATE_USER_INVALID_PASSWORD, reasons=True),
        },
        InvalidCredentialsError: {
            None: Answer(_400, ErrorCode.LOGIN_BAD_CREDENTIALS, oauth="invalid_grant")
        },
        UnverifiedLoginError: {
            None: Answer(_400, ErrorCode.LOGIN_USER_NOT_VERIFIED, oauth="invalid_grant")
        },
        WrongPasswordError: {None: Answer(_400, ErrorCode.CURRENT_PASSWORD_INVALID)},
        BadTokenError: {
            Flow.RESET: Answer(_400, ErrorCode.RESET_PASSWORD_BAD_TOKEN),
            Flow.VERIFY: Answer(_400, ErrorCode.VERIFY_USER_BAD_TOKEN),
            Flow.EMAIL_CHANGE: Answer(_400, ErrorCode.EMAIL_CHANGE_BAD_TOKEN),
            Flow.TOKEN_GRANT: Answer(
                _400, ErrorCode.REFRESH_TOKEN_INVALID, NO_STORE, oauth="invalid_grant"
            ),
            None: Answer(401, ErrorCode.REFRESH_TOKEN_INVALID, _REFRESH_401),
        },
        RefreshTokenReuseError: {
            Flow.TOKEN_GRANT: Answer(
                _400, ErrorCode.REFRESH_TOKEN_REUSED, NO_STORE, oauth="invalid_grant"
            ),
            None: Answer(401, ErrorCode.REFRESH_TOKEN_REUSED, _REFRESH_401),
        },
        AlreadyVerifiedError: {None: Answer(_400, ErrorCode.VERIFY_USER_ALREADY_VERIFIED)},
        UserNotFoundError: {None: Answer(404, NOT_FOUND_DETAIL)},
        SessionNotFoundError: {None: Answer(404, ErrorCode.SESSION_NOT_FOUND)},
        LastSuperuserError: {None: Answer(_400, ErrorCode.LAST_SUPERUSER)},
        SelfLockoutError: {None: Answer(_400, ErrorCode.SELF_LOCKOUT)},
        RoleNotFoundError: {None: Answer(404, ErrorCode.ROLE_NOT_FOUND)},
        RoleAlreadyExistsError: {None: Answer(_400, ErrorCode.ROLE_ALREADY_EXISTS)},
        InsufficientScopeError: {None: Answer(403, ErrorCode.INSUFFICIENT_SCOPE)},
        SecondFactorRequiredError: {
            None: Answer(403, ErrorCode.LOGIN_MFA_REQUIRED, NO_STORE, oauth="mfa_required")
        },
        BadChallengeError: {
            None: Answer(_400, ErrorCode.MFA_CHALLENGE_INVALID, NO_STORE, oauth="invalid_grant")
        },
        WrongCodeError: {None: Answer(_400, ErrorCode.MFA_CODE_INVALID, oauth="invalid_grant")},
        SecondFactorStateError: {None: Answer(_400, ErrorCode.MFA_NOT_ENABLED)},
        PasskeyNotFoundError: {None: Answer(404, ErrorCode.PASSKEY_NOT_FOUND)},
        TooManyRequestsError: {None: Answer(429, ErrorCode.TOO_MANY_REQUESTS)},
        SessionStoreUnavailableError: {
            None: Answer(503, ErrorCode.SESSION_STORE_UNAVAILABLE, RETRY_SOON)
        },
        RateLimiterUnavailableError: {
            None: Answer(503, ErrorCode.RATE_LIMITER_UNAVAILABLE, RETRY_SOON)
        },
    }
)


def answer_for(error: UserKitError, flow: Flow) -> Answer | None:
    """The answer to *error* in *flow*, or `None` for an error with no HTTP form."""
    for cls in type(error).__mro__:
        answers = ANSWERS.get(cls)
        if answers is not None:
            found = answers.get(flow) or answers.get(None)
            if found is not None:
                return found
    return None


def _headers(answer: Answer, error: UserKitError) -> dict[str, str]:
    headers = dict(answer.headers)
    if isinstance(error, TooManyRequestsError):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, InsufficientScopeError):
        headers["WWW-Authenticate"] = insufficient_scope_challenge(error.scopes)
    return headers


def _detail(answer: Answer, error: UserKitError) -> str | dict[str, Any]:
    if answer.reasons and isinstance(error, InvalidPasswordError):
        return {"code": answer.detail, "reason": error.reasons}
    if isinstance(error, WrongCodeError) and error.missing:
        return ErrorCode.MFA_CODE_REQUIRED.value
    if isinstance(error, SecondFactorStateError) and error.enabled:
        return ErrorCode.MFA_ALREADY_ENABLED.value
    return answer.detail


def http_exception(error: UserKitError, flow: Flow) -> HTTPException:
    """The `HTTPException` *error* becomes in *flow*.

    Raises:
        UserKitError: *error* itself, when it has no HTTP form (a bug: a 500).
    """
    answer = answer_for(error, flow)
    if answer is None:
        raise error
    return HTTPException(answer.status, _detail(answer, error), _headers(answer, error))


def error_body(error: UserKitError, flow: Flow) -> JSONResponse:
    """*error* as a complete response, with the RFC 6749 §5.2 `error` when it has
    one: the token endpoint's answers, which `HTTPException` cannot give.
    """
    answer = answer_for(error, flow)
    if answer is None:
        raise error
    detail = _detail(answer, error)
    body: dict[str, Any] = {"detail": detail}
    if answer.oauth is not None:
        body = {"error": answer.oauth, "error_description": detail, **body}
    if isinstance(error, SecondFactorRequiredError):
        body |= {
            "mfa_token": error.challenge,
            "expires_in": error.expires_in,
            "methods": list(error.methods),
        }
    return JSONResponse(body, status_code=answer.status, headers=_headers(answer, error))


@contextmanager
def answering(flow: Flow) -> Iterator[None]:
    """Turn the domain errors raised inside the block into their HTTP answer."""
    try:
        yield
    except UserKitError as error:
        raise http_exception(error, flow) from None


def http_error(status_code: int, code: ErrorCode, reason: list[str] | None = None) -> HTTPException:
    """Build the `HTTPException` for *code*, with *reason* when it helps the client."""
    detail: str | dict[str, Any] = code.value
    if reason is not None:
        detail = {"code": code.value, "reason": reason}
    return HTTPException(status_code=status_code, detail=detail)


def unauthorized(*, token_sent: bool = False) -> HTTPException:
    """Return the 401 every failed authentication gets, with its RFC 6750 challenge:
    `error="invalid_token"` when a token was sent and refused.
    """
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=UNAUTHORIZED_DETAIL,
        headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE if token_sent else BEARER_CHALLENGE},
    )


def insufficient_scope_challenge(scopes: tuple[str, ...]) -> str:
    """The RFC 6750 §3.1 challenge of a 403 for missing scopes: `scope` lists the
    scopes the request needs (scope tokens cannot contain quotes or spaces).
    """
    challenge = 'Bearer error="insufficient_scope"'
    return f'{challenge}, scope="{" ".join(scopes)}"' if scopes else challenge


def insufficient_scope(scopes: tuple[str, ...]) -> HTTPException:
    """Return the 403 for an authenticated user who lacks a required scope."""
    return HTTPException(
        status_code=status.HTTP_403_FORBIDDEN,
        detail=ErrorCode.INSUFFICIENT_SCOPE.value,
        headers={"WWW-Authenticate": insufficient_scope_challenge(scopes)},
    )


def reauthentication_challenge(max_age: int) -> str:
    """The RFC 9470 challenge of a 401 for an authentication that is not recent enough."""
    return (
        'Bearer error="insufficient_user_authentication", '
        'error_description="A more recent authentication is required", '
        f'max_age="{max_age}"'
    )


def reauthentication_required(max_age: int) -> HTTPException:
    """Return the 401 for a route that needs an authentication at most *max_age*
    seconds old (`current_user(fresh=...)`).
    """
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=ErrorCode.REAUTHENTICATION_REQUIRED.value,
        headers={"WWW-Authenticate": reauthentication_challenge(max_age)},
    )


def forbidden() -> HTTPException:
    """Return the 403 for an authenticated user who lacks a required property."""
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=FORBIDDEN_DETAIL)


def database_unavailable() -> HTTPException:
    """Return the 503 sent when the database cannot be reached; nothing was written."""
    return HTTPException(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=ErrorCode.DATABASE_UNAVAILABLE.value,
        headers=dict(RETRY_SOON),
    )


#: The OpenAPI schema of the headers an error answer can promise.
_HEADER_SCHEMAS: Mapping[str, dict[str, Any]] = MappingProxyType(
    {
        "Retry-After": {"type": "integer", "minimum": 0},
        "WWW-Authenticate": {"type": "string"},
    }
)
_VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {
        "loc": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        "msg": {"type": "string"},
        "type": {"type": "string"},
        "ctx": {"type": "object"},
    },
    "required": ["loc", "msg", "type"],
}


#: The RFC 6749 §5.2 `error` of the token endpoint's answers that are not `invalid_grant`.
_OAUTH_ERRORS: Mapping[str, str] = MappingProxyType(
    {
        ErrorCode.UNSUPPORTED_GRANT_TYPE.value: "unsupported_grant_type",
        ErrorCode.FORM_INVALID.value: "invalid_request",
        ErrorCode.UNSUPPORTED_MEDIA_TYPE.value: "invalid_request",
        "validation": "invalid_request",
    }
)


def _union(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *second)))


@dataclass(frozen=True, slots=True)
class Refusals:
    """The error answers a route can send with one status code, as its OpenAPI
    `responses` shows them: the body schema lists the exact codes, with an example
    of each. `a | b` is what either can send.
    """

    description: str
    codes: tuple[str, ...] = ()
    """`detail` values sent as `{"detail": code}`."""
    reasons: tuple[str, ...] = ()
    """Codes sent as `{"detail": {"code": code, "reason": [...]}}`."""
    headers: tuple[str, ...] = ()
    """Headers every one of these answers carries (`Retry-After`, `WWW-Authenticate`)."""
    oauth: tuple[str, ...] = ()
    """The RFC 6749 §5.2 `error` values sent beside `detail` (the token endpoint)."""
    invalid: bool = False
    """FastAPI's list of validation errors (without the submitted values) as `detail`."""
    properties: tuple[tuple[str, Any], ...] = ()
    """Other members some of these answers carry, with their schema (the second-factor
    challenge of a login)."""

    def __or__(self, other: "Refusals") -> "Refusals":
        descriptions = dict.fromkeys((self.description, other.description))
        return Refusals(
            description=" ".join(descriptions),
            codes=_union(self.codes, other.codes),
            reasons=_union(self.reasons, other.reasons),
            headers=tuple(name for name in self.headers if name in other.headers),
            oauth=_union(self.oauth, other.oauth),
            invalid=self.invalid or other.invalid,
            properties=(*self.properties, *other.properties),
        )

    def _detail_schema(self) -> dict[str, Any]:
        variants: list[dict[str, Any]] = []
        if self.codes:
            variants.append({"type": "string", "enum": list(self.codes)})
        if self.reasons:
            variants.append(
                {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string", "enum": list(self.reasons)},
                        "reason": {"type": "array", "items": {"type": "string"}},
                    },
                    "required": ["code", "reason"],
                    "additionalProperties": False,
                }
            )
        if self.invalid:
            variants.append({"type": "array", "items": _VALIDATION_ERROR})
        return variants[0] if len(variants) == 1 else {"anyOf": variants}

    def _examples(self) -> dict[str, Any]:
        examples: dict[str, Any] = {code: {"value": {"detail": code}} for code in self.codes}
        reason = ["Password must be at least 8 characters long."]
        for code in self.reasons:
            examples[code] = {"value": {"detail": {"code": code, "reason": reason}}}
        if self.invalid:
            problem = {"type": "missing", "loc": ["body", "email"], "msg": "Field required"}
            examples["validation"] = {"value": {"detail": [problem]}}
        if self.oauth:
            for code, example in examples.items():
                error = _OAUTH_ERRORS.get(code, self.oauth[0])
                example["value"] = {"error": error, **example["value"]}
        if ErrorCode.LOGIN_MFA_REQUIRED.value in examples:
            examples[ErrorCode.LOGIN_MFA_REQUIRED.value]["value"] = {
                "error": "mfa_required",
                "error_description": ErrorCode.LOGIN_MFA_REQUIRED.value,
                "detail": ErrorCode.LOGIN_MFA_REQUIRED.value,
                "mfa_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6InVzZXJraXQtbWZhK2p3dCJ9...",
                "expires_in": 300,
                "methods": ["totp", "recovery_code"],
            }
        return examples

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI response object of these answers."""
        properties: dict[str, Any] = {"detail": self._detail_schema()}
        required = ["detail"]
        if self.oauth:
            properties = {
                "error": {"type": "string", "enum": list(self.oauth)},
                "error_description": {"type": "string"},
                **properties,
            }
            required = ["error", "detail"]
        properties |= dict(self.properties)
        schema = {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        }
        response: dict[str, Any] = {
            "description": self.description,
            "content": {"application/json": {"schema": schema, "examples": self._examples()}},
        }
        if self.headers:
            response["headers"] = {
                name: {"required": True, "schema": _HEADER_SCHEMAS[name]} for name in self.headers
            }
        return response


def documented(*parts: Mapping[int, Refusals]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route whose *parts* (its own refusals, its
    authentication's, ...) can refuse, merged by status code.
    """
    merged: dict[int, Refusals] = {}
    for part in parts:
        for code, refusals in part.items():
            merged[code] = merged[code] | refusals if code in merged else refusals
    return {code: merged[code].openapi() for code in sorted(merged)}


def refused(description: str, *codes: str, reasons: tuple[str, ...] = ()) -> Refusals:
    """The `Refusals` of one status code: *codes* sent as `{"detail": code}`,
    *reasons* as `{"detail": {"code": code, "reason": [...]}}`.
    """
    return Refusals(
        description,
        tuple(str(code) for code in codes),
        reasons=tuple(str(code) for code in reasons),
    )


NOT_SIGNED_IN = Refusals(
    "No usable access token: none was sent (`WWW-Authenticate: Bearer`), or it is "
    'expired, revoked or malformed, or its user is inactive (`error="invalid_token"`).',
    (UNAUTHORIZED_DETAIL,),
    headers=("WWW-Authenticate",),
)
NOT_FRESH = Refusals(
    "The route needs a recent authentication and the token's is older "
    "(`REAUTHENTICATION_REQUIRED`, with the RFC 9470 challenge "
    '`WWW-Authenticate: Bearer error="insufficient_user_authentication", max_age="..."`): '
    "re-authenticate at `.../reauthenticate`, then retry.",
    (ErrorCode.REAUTHENTICATION_REQUIRED.value,),
    headers=("WWW-Authenticate",),
)
SECOND_FACTOR_NEEDED = Refusals(
    "The password was right and the user has a second factor (`LOGIN_MFA_REQUIRED`, "
    "RFC 6749 `error` `mfa_required`): no token is issued; send `mfa_token` and a code "
    "to `.../login/mfa` within `expires_in` seconds.",
    (ErrorCode.LOGIN_MFA_REQUIRED.value,),
    properties=(
        ("error", {"type": "string", "enum": ["mfa_required"]}),
        ("error_description", {"type": "string"}),
        ("mfa_token", {"type": "string", "description": "The challenge, for `.../login/mfa`."}),
        ("expires_in", {"type": "integer", "description": "Seconds the challenge lives."}),
        (
            "methods",
            {
                "type": "array",
                "items": {"type": "string", "enum": ["totp", "passkey", "recovery_code"]},
                "description": "The kinds of code the user can give.",
            },
        ),
    ),
)
NOT_ALLOWED = Refusals(
    "The user lacks what the route requires: a verified address, being a superuser, "
    "or passing the route's own rule.",
    (FORBIDDEN_DETAIL,),
)
MISSING_SCOPE = Refusals(
    "The user lacks a scope the route requires (`INSUFFICIENT_SCOPE`; "
    '`WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` names the '
    "scopes the route needs).",
    (ErrorCode.INSUFFICIENT_SCOPE.value,),
    headers=("WWW-Authenticate",),
)
CSRF_REFUSED = Refusals(
    "Authenticated by cookie, and the `X-CSRF-Token` header does not repeat the CSRF "
    "cookie, or the request comes from another site (`CSRF_FAILED`).",
    (ErrorCode.CSRF_FAILED.value,),
)
TOO_LARGE = Refusals(
    "The body is larger than the kit accepts (`USERKIT_MAX_BODY_SIZE`).",
    (ErrorCode.REQUEST_TOO_LARGE.value,),
)
TOO_MANY = Refusals(
    "Rate limit reached; retry after `Retry-After` seconds.",
    (ErrorCode.TOO_MANY_REQUESTS.value,),
    headers=("Retry-After",),
)
DATABASE_DOWN = Refusals(
    "A store the kit needs cannot be reached: nothing was changed; retry after "
    "`Retry-After` seconds.",
    (ErrorCode.DATABASE_UNAVAILABLE.value,),
    headers=("Retry-After",),
)
SESSION_STORE_DOWN = Refusals(
    DATABASE_DOWN.description,
    (ErrorCode.SESSION_STORE_UNAVAILABLE.value,),
    headers=("Retry-After",),
)
RATE_LIMITER_DOWN = Refusals(
    DATABASE_DOWN.description,
    (ErrorCode.RATE_LIMITER_UNAVAILABLE.value,),
    headers=("Retry-After",),
)
INVALID = Refusals(
    "The request does not match its schema (FastAPI's list of errors, without the "
    "submitted values).",
    invalid=True,
)
