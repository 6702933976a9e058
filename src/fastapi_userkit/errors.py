"""Stable error codes and their HTTP shape.

The values of `ErrorCode` are public API: frontends match on them. They are the
same strings fastapi-users uses for the routes the two libraries share.
"""

from enum import StrEnum
from typing import Any

from fastapi import HTTPException, status

from fastapi_userkit.exceptions import LookAlikeEmailError, UserAlreadyExistsError


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


UNAUTHORIZED_DETAIL = "Unauthorized"
FORBIDDEN_DETAIL = "Forbidden"


def http_error(status_code: int, code: ErrorCode, reason: list[str] | None = None) -> HTTPException:
    """Build the `HTTPException` for *code*, with *reason* when it helps the client."""
    detail: str | dict[str, Any] = code.value
    if reason is not None:
        detail = {"code": code.value, "reason": reason}
    return HTTPException(status_code=status_code, detail=detail)


def address_refused(error: UserAlreadyExistsError, *, register: bool = False) -> HTTPException:
    """The 400 for an address that is taken, or that looks like a taken one."""
    if isinstance(error, LookAlikeEmailError):
        code = (
            ErrorCode.REGISTER_EMAIL_LOOKALIKE
            if register
            else ErrorCode.UPDATE_USER_EMAIL_LOOKALIKE
        )
    elif register:
        code = ErrorCode.REGISTER_USER_ALREADY_EXISTS
    else:
        code = ErrorCode.UPDATE_USER_EMAIL_ALREADY_EXISTS
    return http_error(status.HTTP_400_BAD_REQUEST, code)


#: RFC 6750 §3.1 challenge for a request that sent no credentials.
BEARER_CHALLENGE = "Bearer"
#: RFC 6750 §3.1 challenge for a token that was sent and refused (expired,
#: revoked, malformed, or its user is inactive).
INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"'  # noqa: S105 - a challenge


def unauthorized(*, token_sent: bool = False) -> HTTPException:
    """Return the 401 every failed authentication gets, with its RFC 6750 challenge:
    `error="invalid_token"` when a token was sent and refused.
    """
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=UNAUTHORIZED_DETAIL,
        headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE if token_sent else BEARER_CHALLENGE},
    )


def store_unavailable() -> HTTPException:
    """Return the 503 sent when the session store cannot be reached (fail closed)."""
    return HTTPException(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=ErrorCode.SESSION_STORE_UNAVAILABLE.value,
        headers={"Retry-After": "5"},
    )


def database_unavailable() -> HTTPException:
    """Return the 503 sent when the database cannot be reached; nothing was written."""
    return HTTPException(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=ErrorCode.DATABASE_UNAVAILABLE.value,
        headers={"Retry-After": "5"},
    )


def forbidden() -> HTTPException:
    """Return the 403 for an authenticated user who lacks a required property."""
    return HTTPException(status_code=status.HTTP_403_FORBIDDEN, detail=FORBIDDEN_DETAIL)


def too_many_response() -> dict[str, Any]:
    """OpenAPI `responses=` entry of the 429 every rate-limited route may send."""
    return {
        "description": "Rate limit reached; retry after `Retry-After` seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"example": {"detail": "TOO_MANY_REQUESTS"}}},
    }


def error_response(code: ErrorCode, description: str) -> dict[str, Any]:
    """OpenAPI `responses=` entry documenting one error code."""
    return {
        "description": description,
        "content": {"application/json": {"example": {"detail": code.value}}},
    }
