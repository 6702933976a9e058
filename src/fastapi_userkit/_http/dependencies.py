"""The kit's FastAPI dependencies: the caller (`Origin`), the authentication of the
request, and the current-user guards for HTTP and WebSocket endpoints.
"""

from collections.abc import Callable, Collection, Coroutine, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import reduce
from operator import or_
from typing import Annotated, Any

from fastapi import (
    BackgroundTasks,
    Depends,
    FastAPI,
    HTTPException,
    Query,
    Request,
    Security,
    WebSocket,
    WebSocketException,
    status,
)
from fastapi.dependencies.models import Dependant
from fastapi.security import APIKeyCookie, OAuth2PasswordBearer, SecurityScopes

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Call, Later, Origin, run_in_order
from fastapi_userkit._accounts.login_sessions import Authentication, LoginSessions
from fastapi_userkit._accounts.roles import Roles
from fastapi_userkit._client_ip import Network, client_ip
from fastapi_userkit._http.cookies import SAFE_METHODS, CookieConfig
from fastapi_userkit._http.route import effective_routes
from fastapi_userkit.db._outage import is_outage
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import (
    CSRF_REFUSED,
    DATABASE_DOWN,
    MISSING_SCOPE,
    NOT_ALLOWED,
    NOT_FRESH,
    NOT_SIGNED_IN,
    SESSION_STORE_DOWN,
    Flow,
    Refusals,
    database_unavailable,
    forbidden,
    http_exception,
    insufficient_scope,
    reauthentication_required,
    unauthorized,
)
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import SessionStoreUnavailableError
from fastapi_userkit.roles import Access

Dependency = Callable[..., Any]


class BackgroundLater(Later):
    """`Later` on the response's background tasks: the work runs once it is sent."""

    def __init__(self, background: BackgroundTasks) -> None:
        self.background = background

    def add(self, *calls: Call) -> None:  # noqa: D102 - see Later
        self.background.add_task(run_in_order, calls)


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a current-user dependency demands of the user."""

    active: bool
    verified: bool
    superuser: bool
    optional: bool
    scopes: tuple[str, ...] = ()
    """Scopes the user must hold (superusers hold every scope)."""
    policy: Dependency | None = None
    """The host's rule, a dependency returning `True` to let the user through."""
    fresh: int | None = None
    """The most seconds since the user last proved who they are (a login or a
    re-authentication); `None`: any age."""

    def status_for(self, user: Any | None) -> int | None:
        """Return the refusal status for *user* (401 or 403), or `None` if it passes."""
        if user is None or (self.active and not user.is_active):
            return status.HTTP_401_UNAUTHORIZED
        if (self.verified and not user.is_verified) or (self.superuser and not user.is_superuser):
            return status.HTTP_403_FORBIDDEN
        return None

    def unmet_by(self, user: Any) -> str:
        """The requirements *user* does not meet, for the security log."""
        unmet = [
            name
            for name, needed, has in (
                ("active", self.active, user.is_active),
                ("verified", self.verified, user.is_verified),
                ("superuser", self.superuser, user.is_superuser),
            )
            if needed and not has
        ]
        return ",".join(unmet)


LOGGED_IN = Requirements(active=True, verified=False, superuser=False, optional=False)
"""What `Dependencies.logged_in` requires: an active user with a live session."""


_RESOLVED = "fastapi_userkit.authentication"
"""The request scope's key for the authentication resolved already (the scope is the
request's own; `request.state` may be shared by every request of a server)."""


async def _no_token() -> None:
    return None


def _token_sent(request: Request) -> bool:
    return bool(getattr(request.state, "userkit_token_sent", False))


@dataclass
class Dependencies:
    """The dependencies of one kit, built once.

    Args:
        sessions: Resolves access tokens.
        unit_of_work: The request's `UnitOfWork` dependency.
        bearer: The `Authorization: Bearer` scheme, or `None` without bearer transport.
        cookies: The cookie transport, or `None` without it.
        trusted_proxies: Proxies whose forwarding headers name the client.
        scope_descriptions: What each scope allows, for OpenAPI (the Authorize
            dialog of Swagger UI lists every scope a route requires).
    """

    sessions: LoginSessions
    roles: Roles
    unit_of_work: Dependency
    bearer: OAuth2PasswordBearer | None
    cookies: CookieConfig | None
    trusted_proxies: tuple[Network, ...] = ()
    scope_descriptions: dict[str, str] = field(default_factory=dict)
    origin: Dependency = field(init=False)
    authentication: Dependency = field(init=False)
    logged_in: Dependency = field(init=False)
    access: Dependency = field(init=False)
    _guards: dict[tuple[str, Requirements], Dependency] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.origin = self._build_origin()
        self.authentication = self._build_authentication()
        self.logged_in = self._build_logged_in()
        self.access = self._build_access()

    def _build_origin(self) -> Dependency:
        trusted = self.trusted_proxies

        async def origin(request: Request, background: BackgroundTasks) -> Origin:
            return Origin(
                later=BackgroundLater(background),
                request=request,
                ip=client_ip(request, trusted),
                user_agent=request.headers.get("user-agent"),
            )

        return origin

    def _build_authentication(self) -> Dependency:
        """The request's `Authentication | None`, run once per request.

        The token comes from the `Authorization: Bearer` header (bearer transport)
        or, failing that, from the access cookie (cookie transport); a
        cookie-authenticated unsafe request must pass the CSRF checks (403
        otherwise). Both schemes appear in OpenAPI.
        """
        sessions, cookies = self.sessions, self.cookies
        bearer = self.bearer or _no_token
        cookie = (
            APIKeyCookie(name=cookies.access_name, auto_error=False, scheme_name="AccessCookie")
            if cookies is not None
            else _no_token
        )

        async def authentication(
            request: Request,
            security_scopes: SecurityScopes,
            token: Annotated[str | None, Depends(bearer)],
            cookie_token: Annotated[str | None, Depends(cookie)],
            uow: Annotated[UnitOfWork, Depends(self.unit_of_work)],
        ) -> Authentication | None:
            # FastAPI runs this once per set of security scopes above it; the token is
            # resolved once per request all the same.
            sent = (token, cookie_token)
            known = request.scope.get(_RESOLVED)
            if known is not None and known[0] == sent:
                return known[1]  # type: ignore[no-any-return]
            via_cookie = not token and bool(cookie_token)
            # Remembered for the 401, whose challenge says whether a token was refused.
            request.state.userkit_token_sent = bool(token or cookie_token)
            try:
                auth = await sessions.authenticate(
                    token or cookie_token, uow, tuple(security_scopes.scopes)
                )
            except SessionStoreUnavailableError as error:
                raise http_exception(error, Flow.ACCOUNT) from None
            except Exception as error:  # the host's routes get the same 503 as the kit's
                if is_outage(error):
                    raise database_unavailable() from None
                raise
            if auth is not None and via_cookie and cookies is not None:
                cookies.check_csrf(request)
            request.scope[_RESOLVED] = (sent, auth)
            return auth

        return authentication

    def _build_logged_in(self) -> Dependency:
        """The dependency of routes that act on the caller's own session (logout,
        session list): an active user with a live session, or 401.
        """

        async def logged_in(
            request: Request,
            auth: Annotated[Authentication | None, Depends(self.authentication)],
        ) -> Authentication:
            if auth is None or not auth.user.is_active:
                raise unauthorized(token_sent=_token_sent(request))
            return auth

        return logged_in

    def _build_access(self) -> Dependency:
        """`kit.access`: the `Access` a policy rule decides on. It answers 401 for
        an anonymous or inactive caller; the route's other checks are the guard's,
        which runs first when the rule comes through `current_user(policy=...)`.
        """
        roles = self.roles

        async def access(
            request: Request,
            security_scopes: SecurityScopes,
            auth: Annotated[Authentication | None, Depends(self.authentication)],
            uow: Annotated[UnitOfWork, Depends(self.unit_of_work)],
        ) -> Access:
            if auth is None or not auth.user.is_active:
                raise unauthorized(token_sent=_token_sent(request))

            async def holds(user: Any, scopes: tuple[str, ...]) -> bool:
                return await roles.holds(uow, user, scopes)

            return Access(
                user=auth.user,
                required=tuple(security_scopes.scopes),
                request=request,
                _holds=holds,
            )

        return access

    def refusals(self, requirements: Requirements, methods: Collection[str]) -> dict[int, Refusals]:
        """What the authentication of a route with *requirements*, answering
        *methods*, can refuse, as its OpenAPI `responses` show it: 401 (unless
        optional), 403 (a verified or superuser requirement, scopes, a policy rule;
        the CSRF checks of an unsafe request authenticated by cookie) and 503 (the
        token is checked against the database or the session store).
        """
        found = {503: DATABASE_DOWN | SESSION_STORE_DOWN}
        if not requirements.optional:
            found[401] = NOT_SIGNED_IN | NOT_FRESH if requirements.fresh else NOT_SIGNED_IN
        refused: list[Refusals] = []
        if not requirements.optional and requirements.scopes:
            refused.append(MISSING_SCOPE)
        if not requirements.optional and (
            requirements.verified or requirements.superuser or requirements.policy is not None
        ):
            refused.append(NOT_ALLOWED)
        if self.cookies is not None and not SAFE_METHODS.issuperset(methods):
            refused.append(CSRF_REFUSED)
        if refused:
            found[403] = reduce(or_, refused)
        return found

    def requirements_of(self, dependant: Dependant) -> Requirements | None:
        """What the kit's current-user guards among *dependant*'s dependencies
        (at any depth) require together, or `None` if it uses none. The result is
        optional only when every guard is; its scopes include those declared with
        `Security(..., scopes=[...])` above a guard.
        """
        guards = {
            guard: requirements
            for (kind, requirements), guard in self._guards.items()
            if kind == "http"
        }
        found = [
            replace(
                guards[sub.call],
                scopes=(
                    *guards[sub.call].scopes,
                    *(sub.parent_oauth_scopes or ()),
                    *(sub.own_oauth_scopes or ()),
                ),
            )
            for sub in _dependants(dependant)
            if sub.call in guards
        ]
        if not found:
            return None
        optional = all(r.optional for r in found)
        return Requirements(
            active=any(r.active for r in found),
            verified=any(r.verified and not r.optional for r in found),
            superuser=any(r.superuser and not r.optional for r in found),
            optional=optional,
            scopes=tuple(dict.fromkeys(s for r in found if not r.optional for s in r.scopes)),
            policy=next((r.policy for r in found if r.policy is not None), None),
            fresh=min(
                (r.fresh for r in found if r.fresh is not None and not r.optional), default=None
            ),
        )

    def declare_on(self, app: FastAPI) -> None:
        """Make *app*'s OpenAPI document say what the kit's guards answer on every
        route that uses them, the host's included: the 401, 403 and 503 of
        `kit.current_user(...)`, and that a route whose guards are all optional
        also serves anonymous callers (`{}` among its security requirements). An
        answer a route declares itself is kept.
        """
        generate = app.openapi
        declared: list[dict[str, Any]] = []

        def openapi() -> dict[str, Any]:
            document = generate()
            if not any(done is document for done in declared):
                for route in effective_routes(app.routes):
                    self._declare(document, route)
                self._describe_scopes(document)
                declared[:] = [document]
            return document

        app.openapi = openapi  # type: ignore[method-assign]

    def _describe_scopes(self, document: dict[str, Any]) -> None:
        """List every scope the routes require in the password flow of the bearer
        scheme, so that Swagger UI's Authorize dialog offers them.
        """
        schemes = document.get("components", {}).get("securitySchemes", {})
        flows = [
            (name, scheme["flows"]["password"])
            for name, scheme in schemes.items()
            if scheme.get("type") == "oauth2" and "password" in scheme.get("flows", {})
        ]
        for name, flow in flows:
            used: dict[str, None] = {}
            for operations in document.get("paths", {}).values():
                for operation in operations.values():
                    for requirement in (
                        operation.get("security", ()) if isinstance(operation, dict) else ()
                    ):
                        used.update(dict.fromkeys(requirement.get(name, ())))
            described = dict(flow.get("scopes") or {})
            for scope in sorted({*used, *self.scope_descriptions}):
                described.setdefault(
                    scope, self.scope_descriptions.get(scope, "Granted by a role.")
                )
            flow["scopes"] = described

    def _declare(self, document: dict[str, Any], route: Any) -> None:
        dependant = getattr(route, "dependant", None)
        if dependant is None or not getattr(route, "include_in_schema", False):
            return
        requirements = self.requirements_of(dependant)
        if requirements is None:
            return
        operations = document.get("paths", {}).get(route.path_format, {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code, refusals in self.refusals(requirements, {method}).items():
                responses.setdefault(str(code), refusals.openapi())
            security = operation.get("security")
            if security is not None:
                operation["security"] = _merged(security, requirements.optional)

    def current_user(self, requirements: Requirements) -> Dependency:
        """The HTTP guard for *requirements*; the same object for the same ones, so
        FastAPI runs it once per request however often it is declared.
        """
        key = ("http", requirements)
        if key not in self._guards:
            self._guards[key] = self._build_current_user(requirements)
        return self._guards[key]

    def current_user_ws(self, requirements: Requirements) -> Dependency:
        """The WebSocket guard for *requirements* (see `current_user`)."""
        key = ("ws", requirements)
        if key not in self._guards:
            self._guards[key] = self._build_current_user_ws(requirements)
        return self._guards[key]

    def _build_current_user(
        self, requirements: Requirements
    ) -> Callable[..., Coroutine[Any, Any, Any]]:
        guard = self._build_checks(requirements)
        policy = requirements.policy
        if policy is None:
            return guard
        hooks, trusted = self.sessions.hooks, self.trusted_proxies

        async def current_user(
            request: Request,
            # Declared first: FastAPI resolves it, and so runs every check, before the rule.
            user: Annotated[Any, Depends(guard)],
            allowed: Annotated[Any, Security(policy, scopes=requirements.scopes)],
        ) -> Any:
            if allowed is True:
                return user
            await record(
                hooks,
                Origin(request=request, ip=client_ip(request, trusted)),
                SecurityEventName.ACCESS_DENIED,
                "failure",
                user=user,
                reason=f"policy:{getattr(policy, '__name__', 'rule')}",
            )
            raise forbidden()

        return current_user

    def _build_checks(self, requirements: Requirements) -> Callable[..., Coroutine[Any, Any, Any]]:
        hooks, trusted, roles = self.sessions.hooks, self.trusted_proxies, self.roles

        async def deny(request: Request, auth: Authentication, reason: str) -> None:
            await record(
                hooks,
                Origin(request=request, ip=client_ip(request, trusted)),
                SecurityEventName.ACCESS_DENIED,
                "failure",
                user=auth.user,
                session_id=auth.session.id,
                reason=reason,
            )

        async def current_user(
            request: Request,
            security_scopes: SecurityScopes,
            # The scopes go down to the authentication, whose one read checks them too
            # (and up to OpenAPI, through the bearer scheme it depends on).
            auth: Annotated[
                Authentication | None,
                Security(self.authentication, scopes=requirements.scopes),
            ],
            uow: Annotated[UnitOfWork, Depends(self.unit_of_work)],
        ) -> Any:
            user = auth.user if auth is not None else None
            refusal = requirements.status_for(user)
            if refusal is None:
                assert auth is not None  # noqa: S101 - a user implies an authentication
                required = tuple(dict.fromkeys((*security_scopes.scopes, *requirements.scopes)))
                if required and not set(required) <= set(auth.scopes_held):
                    try:  # read apart: another store, or the request asked for other scopes
                        held = await roles.holds(uow, user, required)
                    except Exception as error:
                        if is_outage(error):
                            raise database_unavailable() from None
                        raise
                    if not held:
                        if requirements.optional:
                            return None
                        await deny(request, auth, "scope:" + " ".join(required))
                        raise insufficient_scope(required)
                if requirements.fresh is None or is_fresh(auth, requirements.fresh):
                    return user
                if requirements.optional:
                    return None
                await deny(request, auth, "not_fresh")
                raise reauthentication_required(requirements.fresh)
            if requirements.optional:
                return None
            if refusal == status.HTTP_401_UNAUTHORIZED or auth is None:
                raise unauthorized(token_sent=_token_sent(request))
            await deny(request, auth, requirements.unmet_by(auth.user))
            raise forbidden()

        return current_user

    def _build_current_user_ws(
        self, requirements: Requirements
    ) -> Callable[..., Coroutine[Any, Any, Any]]:
        """The token is read from the `Authorization: Bearer` header, then the
        `access_token` query parameter, then the access cookie (whose origin must be
        the app's own or trusted). Failure closes the socket with 1008.
        """
        sessions, cookies, bearer = self.sessions, self.cookies, self.bearer is not None
        roles = self.roles

        async def current_user_ws(
            websocket: WebSocket,
            uow: Annotated[UnitOfWork, Depends(self.unit_of_work)],
            access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
        ) -> Any:
            token = access_token if bearer else None
            scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
            if bearer and scheme.lower() == "bearer" and credentials:
                token = credentials
            if not token and cookies is not None:
                token = websocket.cookies.get(cookies.access_name)
                if token:
                    try:  # a cookie rides along cross-site: refuse foreign origins
                        cookies.check_origin(websocket)
                    except HTTPException:
                        raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION) from None
            try:
                auth = await sessions.authenticate(token, uow)
            except SessionStoreUnavailableError:
                raise WebSocketException(code=status.WS_1011_INTERNAL_ERROR) from None
            user = auth.user if auth is not None else None
            if requirements.status_for(user) is None and (
                await roles.holds(uow, user, requirements.scopes)
            ):
                return user
            if requirements.optional:
                return None
            raise WebSocketException(code=status.WS_1008_POLICY_VIOLATION)

        return current_user_ws


def is_fresh(auth: Authentication, max_age: int) -> bool:
    """Whether *auth*'s user proved who they are at most *max_age* seconds ago."""
    proved = auth.claims.auth_time
    return proved is not None and (datetime.now(UTC) - proved).total_seconds() <= max_age


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def _merged(security: list[dict[str, list[str]]], optional: bool) -> list[dict[str, list[str]]]:
    """*security* with one requirement per scheme, its scopes the union of all the
    route declares (FastAPI lists a scheme again for each set of scopes), and `{}`
    when the route also serves anonymous callers.
    """
    merged: dict[str, list[str]] = {}
    for requirement in security:
        for name, scopes in requirement.items():
            held = merged.setdefault(name, [])
            held.extend(scope for scope in scopes if scope not in held)
    result: list[dict[str, list[str]]] = [{name: scopes} for name, scopes in merged.items()]
    if optional or {} in security:
        result.append({})
    return result
