"""Cookie login sessions: `/auth/cookie/login` (and its second step, and passkey
logins), `/refresh`, `/logout` and `/reauthenticate` (all 204).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.routing import APIRoute

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login import Login
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions
from fastapi_userkit._http.cookies import CookieConfig
from fastapi_userkit._http.dependencies import LOGGED_IN, Dependencies
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    NO_STORE,
    SECOND_FACTOR_NEEDED,
    ErrorCode,
    Flow,
    answering,
    error_body,
    http_error,
    http_exception,
    refused,
)
from fastapi_userkit.exceptions import BadTokenError, SecondFactorRequiredError, UserKitError
from fastapi_userkit.routers._common import SESSIONS, THROTTLED, answers
from fastapi_userkit.routers.auth import (
    LOGIN_OPENAPI,
    MFA_LOGIN_OPENAPI,
    MFA_REFUSED,
    PASSKEY_LOGIN_REFUSED,
    REAUTHENTICATION_REFUSED,
    REFRESH_REFUSED,
    UNREADABLE,
    read_login_body,
    read_mfa_body,
)
from fastapi_userkit.schemas import (
    LoginRequest,
    PasskeyAssertion,
    Reauthentication,
    TokenResponse,
)


def create_cookie_router(
    login: Login,
    sessions: LoginSessions,
    deps: Dependencies,
    route_class: type[APIRoute],
    cookies: CookieConfig,
    *,
    access_ttl: int,
    refresh_ttl: int,
) -> APIRouter:
    """Build the cookie login-session router (with the second step of a login when
    second factors are on).
    """
    router = APIRouter(route_class=route_class)
    login_403 = refused("The request comes from another site (login CSRF).", ErrorCode.CSRF_FAILED)
    if login.factors is not None:
        login_403 |= SECOND_FACTOR_NEEDED

    def cookie_answer(user: Any, tokens: TokenResponse) -> Response:
        response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=dict(NO_STORE))
        cookies.set_tokens(
            response,
            access=tokens.access_token,
            access_ttl=access_ttl,
            refresh=tokens.refresh_token,
            refresh_ttl=refresh_ttl,
        )
        return response

    @router.post(
        "/cookie/login",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.login",
        openapi_extra=LOGIN_OPENAPI,
        responses=answers(
            THROTTLED,
            SESSIONS,
            UNREADABLE,
            {
                400: refused(
                    "As `POST /auth/jwt/login` (`LOGIN_BAD_CREDENTIALS`, "
                    "`LOGIN_USER_NOT_VERIFIED`, `FORM_INVALID`), without the RFC 6749 "
                    "`error`; `UNSUPPORTED_GRANT_TYPE` for any grant but `password`.",
                    ErrorCode.LOGIN_BAD_CREDENTIALS,
                    ErrorCode.LOGIN_USER_NOT_VERIFIED,
                    ErrorCode.UNSUPPORTED_GRANT_TYPE,
                    ErrorCode.FORM_INVALID,
                ),
                403: login_403,
            },
        ),
    )
    async def cookie_log_in(
        request: Request,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        cookies.check_origin(request)  # login CSRF
        body = await read_login_body(request)
        if not isinstance(body, LoginRequest):
            raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.UNSUPPORTED_GRANT_TYPE)
        try:
            return await login.log_in(uow, body.email, body.password, origin, cookie_answer)
        except SecondFactorRequiredError as challenge:  # an answer with a body of its own
            return error_body(challenge, Flow.LOGIN)
        except UserKitError as error:
            raise http_exception(error, Flow.LOGIN) from None

    if login.factors is not None:

        @router.post(
            "/cookie/login/mfa",
            status_code=status.HTTP_204_NO_CONTENT,
            name="auth:cookie.login_mfa",
            openapi_extra=MFA_LOGIN_OPENAPI,
            responses=answers(
                THROTTLED,
                SESSIONS,
                UNREADABLE,
                {
                    400: MFA_REFUSED,
                    403: refused(
                        "The request comes from another site (login CSRF).",
                        ErrorCode.CSRF_FAILED,
                    ),
                },
            ),
        )
        async def cookie_log_in_second_step(
            request: Request,
            uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
            origin: Annotated[Origin, Depends(deps.origin)],
        ) -> Response:
            cookies.check_origin(request)  # login CSRF
            body = await read_mfa_body(request)
            passkey = body.passkey.model_dump() if body.passkey is not None else None
            with answering(Flow.LOGIN):
                return await login.complete(
                    uow, body.mfa_token, body.code, origin, cookie_answer, passkey
                )

        @router.post(
            "/cookie/login/passkey",
            status_code=status.HTTP_204_NO_CONTENT,
            name="auth:cookie.login_passkey",
            responses=answers(
                THROTTLED,
                SESSIONS,
                {
                    400: PASSKEY_LOGIN_REFUSED,
                    403: refused(
                        "The request comes from another site (login CSRF).",
                        ErrorCode.CSRF_FAILED,
                    ),
                },
            ),
        )
        async def cookie_log_in_with_passkey(
            request: Request,
            body: PasskeyAssertion,
            uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
            origin: Annotated[Origin, Depends(deps.origin)],
        ) -> Response:
            cookies.check_origin(request)  # login CSRF
            with answering(Flow.LOGIN):
                return await login.log_in_with_passkey(
                    uow, body.model_dump(), origin, cookie_answer
                )

    @router.post(
        "/cookie/reauthenticate",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.reauthenticate",
        responses=answers(
            deps.refusals(LOGGED_IN, {"POST"}), THROTTLED, {400: REAUTHENTICATION_REFUSED}
        ),
    )
    async def cookie_reauthenticate(
        body: Reauthentication,
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        passkey = body.passkey.model_dump() if body.passkey is not None else None
        with answering(Flow.ACCOUNT):
            token = await login.reauthenticate(uow, auth, body.password, body.code, origin, passkey)
        response = Response(status_code=status.HTTP_204_NO_CONTENT, headers=dict(NO_STORE))
        cookies.set_access(response, token, access_ttl)
        return response

    @router.post(
        "/cookie/refresh",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.refresh",
        responses=answers(
            SESSIONS,
            {
                401: REFRESH_REFUSED,
                403: refused(
                    "The `X-CSRF-Token` header does not repeat the CSRF cookie, or the "
                    "request comes from another site.",
                    ErrorCode.CSRF_FAILED,
                ),
            },
        ),
    )
    async def cookie_refresh(
        request: Request,
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        cookies.check_csrf(request)
        try:
            user, tokens = await sessions.refresh(
                uow, request.cookies.get(cookies.refresh_name, ""), origin
            )
        except BadTokenError as error:
            failed = error_body(error, Flow.REFRESH)
            cookies.clear(failed)  # the browser forgets what no longer works
            return failed
        return cookie_answer(user, tokens)

    @router.post(
        "/cookie/logout",
        status_code=status.HTTP_204_NO_CONTENT,
        name="auth:cookie.logout",
        responses=answers(deps.refusals(LOGGED_IN, {"POST"})),
    )
    async def cookie_log_out(
        auth: Annotated[Authentication, Depends(deps.logged_in)],
        uow: Annotated[UnitOfWork, Depends(deps.unit_of_work)],
        origin: Annotated[Origin, Depends(deps.origin)],
    ) -> Response:
        await sessions.end(uow, auth, origin)
        response = Response(status_code=status.HTTP_204_NO_CONTENT)
        cookies.clear(response)
        return response

    return router
