"""Current-user dependencies for HTTP and WebSocket endpoints."""

import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import (
    Depends,
    HTTPException,
    Query,
    Request,
    WebSocket,
    WebSocketException,
    status,
)
from fastapi.security import APIKeyCookie

from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.outage import is_outage
from fastapi_userkit.errors import (
    database_unavailable,
    forbidden,
    store_unavailable,
    unauthorized,
)
from fastapi_userkit.exceptions import BadTokenError
from fastapi_userkit.sessions import SessionStoreUnavailableError

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit
    from fastapi_userkit.login import Authentication


def parse_user_id(id_type: type[Any], subject: str) -> Any:
    """Turn the `sub` claim into a primary-key value; `BadTokenError` if it cannot be one."""
    try:
        if id_type is uuid.UUID:
            return uuid.UUID(subject)
        if id_type is int:
            if not subject.isdigit() or len(subject) > 19:
                raise ValueError(subject)
            return int(subject)
        return id_type(subject)
    except (ValueError, TypeError) as exc:
        raise BadTokenError("subject is not a user id") from exc


class Requirements:
    """What a current-user dependency demands of the user."""

    __slots__ = ("active", "optional", "superuser", "verified")

    def __init__(self, *, active: bool, verified: bool, superuser: bool, optional: bool) -> None:
        self.active = active
        self.verified = verified
        self.superuser = superuser
        self.optional = optional

    def status_for(self, user: Any | None) -> int | None:
        """Return the refusal status for *user* (401 or 403), or `None` if it passes."""
        if user is None or (self.active and not user.is_active):
            return status.HTTP_401_UNAUTHORIZED
        if (self.verified and not user.is_verified) or (self.superuser and not user.is_superuser):
            return status.HTTP_403_FORBIDDEN
        return None


def build_authentication(kit: "UserKit[Any]") -> Callable[..., Coroutine[Any, Any, Any]]:
    """Build the request's `Authentication | None` dependency, run once per request.

    The token comes from the `Authorization: Bearer` header (bearer transport) or,
    failing that, from the access cookie (cookie transport); a cookie-authenticated
    unsafe request must pass the CSRF checks (403 otherwise). Both schemes appear
    in OpenAPI.
    """
    login_sessions = kit.login_sessions
    cookies = kit.cookies
    bearer = kit.bearer if kit.settings.bearer_transport else _no_token
    cookie = (
        APIKeyCookie(name=cookies.access_name, auto_error=False, scheme_name="AccessCookie")
        if cookies is not None
        else _no_token
    )

    async def authentication(
        request: Request,
        token: Annotated[str | None, Depends(bearer)],
        cookie_token: Annotated[str | None, Depends(cookie)],
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
    ) -> "Authentication | None":
        via_cookie = not token and bool(cookie_token)
        # Remembered for the 401, whose challenge says whether a token was refused.
        request.state.userkit_token_sent = bool(token or cookie_token)
        try:
            auth = await login_sessions.authenticate(token or cookie_token, uow)
        except SessionStoreUnavailableError:
            raise store_unavailable() from None
        except Exception as error:  # the host's routes get the same 503 as the kit's
            if is_outage(error):
                raise database_unavailable() from None
            raise
        if auth is not None and via_cookie and cookies is not None:
            cookies.check_csrf(request)
        return auth

    return authentication


async def _no_token() -> None:
    return None


def _token_sent(request: Request) -> bool:
    return bool(getattr(request.state, "userkit_token_sent", False))


def build_authenticated(kit: "UserKit[Any]") -> Callable[..., Coroutine[Any, Any, Any]]:
    """Build the dependency of routes that act on the caller's own session
    (logout, session list): an active user with a live session, or 401.
    """

    async def authenticated(
        request: Request,
        auth: Annotated["Authentication | None", Depends(kit.authentication)],
    ) -> "Authentication":
        if auth is None or not auth.user.is_active:
            raise unauthorized(token_sent=_token_sent(request))
        return auth

    return authenticated


def build_current_user(
    kit: "UserKit[Any]", requirements: Requirements
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Build the HTTP dependency `kit.current_user(...)` returns."""

    async def current_user(
        request: Request,
        auth: Annotated["Authentication | None", Depends(kit.authentication)],
    ) -> Any:
        user = auth.user if auth is not None else None
        refusal = requirements.status_for(user)
        if refusal is None:
            return user
        if requirements.optional:
            return None
        if refusal == status.HTTP_401_UNAUTHORIZED:
            raise unauthorized(token_sent=_token_sent(request))
        raise forbidden()

    return current_user


def build_current_user_ws(
    kit: "UserKit[Any]", requirements: Requirements
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Build the WebSocket dependency `kit.current_user_ws(...)` returns.

    The token is read from the `Authorization: Bearer` header, then the
    `access_token` query parameter, then the access cookie (whose origin must be
    the app's own or trusted). Failure closes the socket with 1008.
    """

    async def current_user_ws(
        websocket: WebSocket,
        uow: Annotated[UnitOfWork, Depends(kit.unit_of_work)],
        access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
    ) -> Any:
        token = access_token if kit.settings.bearer_transport else None
        scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
        if kit.settings.bearer_transport and scheme.lower() == "bearer" and credentials:
            token = credentials
        if not token and kit.cookies is not None:
            token = websocket.cookies.get(kit.cookies.access_name)
            if token:
                try:  # a cookie rides along cross-site: refuse foreign origins
                    kit.cookies.check_origin(websocket)
                except HTTPException:
                    raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION) from None
        try:
            auth = await kit.login_sessions.authenticate(token, uow)
        except SessionStoreUnavailableError:
            raise WebSocketException(code=status.WS_1011_INTERNAL_ERROR) from None
        user = auth.user if auth is not None else None
        if requirements.status_for(user) is None:
            return user
        if requirements.optional:
            return None
        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)

    return current_user_ws
