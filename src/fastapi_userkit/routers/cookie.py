"""Cookie login sessions: `/auth/cookie/login`, `/refresh` and `/logout` (all 204)."""

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    INVALID_TOKEN_CHALLENGE,
    ErrorCode,
    error_response,
    http_error,
)
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.hooks import run_after_hook
from fastapi_userkit.login import Authentication
from fastapi_userkit.routers.auth import LOGIN_OPENAPI, password_login, read_login_body
from fastapi_userkit.schemas import LoginRequest
from fastapi_userkit.sessions import RefreshTokenReuseError

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CSRF_RESPONSE: dict[int | str, dict[str, Any]] = {
    status.HTTP_403_FORBIDDEN: error_response(
        ErrorCode.CSRF_FAILED,
        "The `X-CSRF-Token` header does not repeat the CSRF cookie, or the request "
        "comes from another site.",
    )
}


def create_cookie_router(kit: "UserKit[Any]") -> APIRouter:
    """Build the cookie login-session router of *kit*."""
    router = APIRouter(route_class=kit.route_class)
    cookies = kit.cookies
    settings = kit.settings
    assert cookies is not None  # noqa: S101 - only mounted with cookie transport on

    def set_tokens(response: Response, access: str, refresh: str) -> None:
        cookies.set_tokens(
            response,
            access=access,
            access_ttl=settings.access_token_ttl,
            refresh=refresh,
            refresh_ttl=settings.refresh_token_ttl,
        )

    @router.post(
        "/cookie/login",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.login",
        openapi_extra=LOGIN_OPENAPI,
        responses={
            status.HTTP_400_BAD_REQUEST: error_response(
                ErrorCode.LOGIN_BAD_CREDENTIALS, "As `POST /auth/jwt/login`."
            ),
            **_CSRF_RESPONSE,
        },
    )
    async def cookie_login(
        request: Request, uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)]
    ) -> Response:
        cookies.check_origin(request)  # login CSRF
        body = await read_login_body(request)
        if not isinstance(body, LoginRequest):
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.UNSUPPORTED_GRANT_TYPE)
        user, tokens = await password_login(kit, uow, request, body)
        response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=_NO_STORE)
        set_tokens(response, tokens.access_token, tokens.refresh_token)
        await run_after_hook("on_after_login", kit.hooks.on_after_login(user, request, response))
        return response

    @router.post(
        "/cookie/refresh",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.refresh",
        responses={
            status.HTTP_401_UNAUTHORIZED: error_response(
                ErrorCode.REFRESH_TOKEN_INVALID,
                "No usable refresh cookie (`REFRESH_TOKEN_REUSED`: the session is revoked).",
            ),
            **_CSRF_RESPONSE,
        },
    )
    async def cookie_refresh(
        request: Request, uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)]
    ) -> Response:
        cookies.check_csrf(request)
        token = request.cookies.get(cookies.refresh_name, "")
        code = ErrorCode.REFRESH_TOKEN_INVALID
        try:
            _, tokens = await kit.login_sessions.refresh(uow, token)
        except RefreshTokenReuseError as exc:
            code = ErrorCode.REFRESH_TOKEN_REUSED
            await uow.commit()
            owner = await kit.store(uow).get(kit.parse_id(exc.session.user_id))
            await run_after_hook(
                "on_refresh_token_reuse", kit.hooks.on_refresh_token_reuse(owner, request)
            )
        except BadTokenError:
            await uow.commit()
        else:
            await uow.commit()
            response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=_NO_STORE)
            set_tokens(response, tokens.access_token, tokens.refresh_token)
            return response
        failed = Response(
            content=f'{{"detail":"{code.value}"}}',
            media_type="application/json",
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": INVALID_TOKEN_CHALLENGE},
        )
        cookies.clear(failed)
        return failed

    @router.post(
        "/cookie/logout",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.logout",
        responses=_CSRF_RESPONSE,
    )
    async def cookie_logout(
        request: Request,
        auth: Annotated[Authentication, Depends(kit.authenticated)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> Response:
        await kit.session_store.bind(uow).revoke(auth.session.id)
        await uow.commit()
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        cookies.clear(response)
        await run_after_hook("on_after_logout", kit.hooks.on_after_logout(auth.user, request))
        return response

    return router
