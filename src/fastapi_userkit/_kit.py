"""`include_user_router()` and the `UserKit` it returns."""

from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Generic, Literal, cast, overload

from fastapi import APIRouter, Depends, FastAPI
from pydantic import ValidationError

from fastapi_userkit._accounts.role_service import RoleService
from fastapi_userkit._accounts.users import UserService
from fastapi_userkit._build import Parts, UserStoreFactory, build
from fastapi_userkit._http.dependencies import Requirements
from fastapi_userkit._production import warn_unsafe
from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.db.database import Database, DatabaseSource
from fastapi_userkit.exceptions import ConfigurationError
from fastapi_userkit.hooks import UserKitHooks
from fastapi_userkit.login_sessions import SessionStoreProvider
from fastapi_userkit.mail import EmailSender
from fastapi_userkit.mail_templates import EmailTemplates
from fastapi_userkit.passwords import PasswordHasher
from fastapi_userkit.policy import PasswordPolicy
from fastapi_userkit.protocols import ModelT
from fastapi_userkit.ratelimit import RateLimiter
from fastapi_userkit.roles import ADMIN_SCOPE, Access, check_scopes
from fastapi_userkit.routers import (
    create_admin_router,
    create_auth_router,
    create_cookie_router,
    create_deletion_router,
    create_email_change_router,
    create_jwks_router,
    create_mfa_router,
    create_register_router,
    create_reset_router,
    create_roles_router,
    create_sessions_router,
    create_users_router,
    create_verify_router,
)
from fastapi_userkit.routers._operations import describe
from fastapi_userkit.schemas import UserSchemas

if TYPE_CHECKING:
    from fastapi_userkit.db.default import User

RouteGroup = Literal[
    "admin", "cookie", "delete", "email-change", "jwks", "reset", "roles", "sessions", "verify"
]
"""A group of routes `include_user_router(exclude=...)` can leave out."""

ROUTE_GROUPS: frozenset[str] = frozenset(RouteGroup.__args__)  # type: ignore[attr-defined]


class UserKit(Generic[ModelT]):
    """One mounted user system.

    Built by `include_user_router()`. Hosts use `current_user()` and
    `current_user_ws()` (or the `CurrentUser`-style aliases) in their routes, and
    `users` and `roles` for account and role operations outside a request.

    Attributes:
        settings: The settings the kit was built from.
        user_model: The mapped user class.
        users: Account operations for code outside a request (`UserService`).
        roles: Role operations for code outside a request (`RoleService`).
        access: The dependency giving a policy rule its `Access` (see `Access`).
    """

    def __init__(self, parts: Parts) -> None:
        self._parts = parts
        self.settings = parts.settings
        self.user_model: type[ModelT] = parts.user_model
        self.users: UserService[ModelT] = UserService(parts.accounts, parts.database)
        self.roles = RoleService(parts.accounts, parts.database)
        self.access: Callable[..., Any] = parts.deps.access
        self.Access = Annotated[Access, Depends(self.access)]
        """Alias for a policy rule's parameter: the `Access` it decides on."""
        model = parts.user_model
        self.CurrentUser = Annotated[model, Depends(self.current_user())]
        """Alias for an active user; `401` otherwise."""
        self.OptionalUser = Annotated[model | None, Depends(self.current_user(optional=True))]
        """Alias for the active user, or `None` when there is none."""
        self.VerifiedUser = Annotated[model, Depends(self.current_user(verified=True))]
        """Alias for an active, verified user; `403` when unverified."""
        self.Superuser = Annotated[model, Depends(self.current_user(superuser=True))]
        """Alias for an active superuser; `403` for other users."""

    def __repr__(self) -> str:
        return f"UserKit(user_model={self.user_model.__name__})"

    @property
    def database(self) -> Database:
        """Where the kit's database sessions come from."""
        return self._parts.database

    def current_user(
        self,
        *,
        active: bool = True,
        verified: bool = False,
        superuser: bool = False,
        optional: bool = False,
        scopes: Iterable[str] = (),
        policy: Callable[..., Any] | None = None,
        fresh: bool | int = False,
    ) -> Callable[..., Any]:
        """Return a dependency resolving the user behind the access token.

        Args:
            active: Refuse inactive users (401).
            verified: Refuse users whose e-mail is not verified (403).
            superuser: Refuse users who are not superusers (403).
            optional: Return `None` instead of refusing.
            scopes: Refuse users who do not hold every one of these scopes through
                their roles, checked against the live grants on each request (403
                `INSUFFICIENT_SCOPE`); superusers hold every scope. Scopes declared
                with FastAPI's `Security(kit.current_user(), scopes=[...])` count too.
                Either way OpenAPI lists them.
            policy: Your own rule, a FastAPI dependency that takes `kit.Access`
                (the user, the required scopes, the request) and whatever else it
                declares, and returns `True` to let the user through; anything else
                is a 403. It runs after every other check passed.
            fresh: Refuse a user who last proved who they are (a login, a second
                factor, `POST .../reauthenticate`) longer ago than
                `USERKIT_FRESH_MAX_AGE` seconds (`True`) or this many seconds: 401
                `REAUTHENTICATION_REQUIRED` with the RFC 9470 challenge. For routes
                that change credentials, second factors or money.

        The same arguments return the same dependency object, so FastAPI runs it
        once per request however many times it is declared.

        Raises:
            ConfigurationError: a scope that is not one, or *policy* with *optional*.
        """
        if policy is not None and optional:
            raise ConfigurationError("policy= decides on a user: it cannot be optional")
        if isinstance(fresh, bool):
            max_age = self.settings.fresh_max_age if fresh else None
        elif fresh > 0:
            max_age = fresh
        else:
            raise ConfigurationError("fresh= takes True or a number of seconds above 0")
        requirements = Requirements(
            active=active,
            verified=verified,
            superuser=superuser,
            optional=optional,
            scopes=check_scopes(scopes),
            policy=policy,
            fresh=max_age,
        )
        return self._parts.deps.current_user(requirements)

    def current_user_ws(
        self,
        *,
        active: bool = True,
        verified: bool = False,
        superuser: bool = False,
        optional: bool = False,
        scopes: Iterable[str] = (),
    ) -> Callable[..., Any]:
        """Like `current_user()`, for WebSocket endpoints: the token comes from the
        `Authorization` header or the `access_token` query parameter (bearer
        transport), or the access cookie (cookie transport, same origin only), and
        a refusal (a missing scope included) closes the socket with code 1008.
        """
        requirements = Requirements(
            active=active,
            verified=verified,
            superuser=superuser,
            optional=optional,
            scopes=check_scopes(scopes),
        )
        return self._parts.deps.current_user_ws(requirements)

    async def startup(self) -> None:
        """Prepare the database (tables on SQLite) and the timing-parity hash."""
        await self._parts.database.startup()
        await self._parts.password_hash.warm_up()

    async def shutdown(self) -> None:
        """Dispose of what the kit created (its engine) and close its stores."""
        await self._parts.database.shutdown()
        for resource in (self._parts.session_store, self._parts.rate_limiter):
            close = getattr(resource, "aclose", None)
            if close is not None:
                await close()


def _settings_from_environment() -> UserKitSettings:
    try:
        return UserKitSettings()
    except ValidationError as exc:
        problems = "\n".join(
            f"  {'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"invalid USERKIT_* settings:\n{problems}") from None


def _wrap_lifespan(app: FastAPI, kit: UserKit[Any]) -> None:
    host_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        await kit.startup()
        try:
            async with host_lifespan(app_) as state:
                yield state
        finally:
            await kit.shutdown()

    app.router.lifespan_context = cast(Callable[[Any], AbstractAsyncContextManager[Any]], lifespan)


def _routers(parts: Parts, exclude: Collection[str]) -> list[tuple[str, APIRouter]]:
    """The kit's routers and their prefixes, without the *exclude*d groups."""
    accounts, deps, route = parts.accounts, parts.deps, parts.route_class
    settings, schemas = parts.settings, parts.schemas
    verified = settings.require_verified_login
    admin = Requirements(
        active=True, verified=False, superuser=False, optional=False, scopes=(ADMIN_SCOPE,)
    )
    groups: list[tuple[str | None, str, Callable[[], APIRouter]]] = [
        (
            None,
            "/auth",
            lambda: create_register_router(
                accounts.registration,
                deps,
                route,
                schemas,
                prevent_enumeration=settings.prevent_enumeration,
            ),
        ),
    ]
    if settings.bearer_transport:
        groups.append(
            (
                None,
                "/auth",
                lambda: create_auth_router(accounts.login, accounts.sessions, deps, route),
            )
        )
    cookies = parts.cookies
    if cookies is not None:
        groups.append(
            (
                "cookie",
                "/auth",
                lambda: create_cookie_router(
                    accounts.login,
                    accounts.sessions,
                    deps,
                    route,
                    cookies,
                    access_ttl=settings.access_token_ttl,
                    refresh_ttl=settings.refresh_token_ttl,
                ),
            )
        )
    groups += [
        ("sessions", "/auth", lambda: create_sessions_router(accounts.sessions, deps, route)),
        (
            "reset",
            "/auth",
            lambda: create_reset_router(
                accounts.reset, deps, route, password_lengths=parts.password_lengths
            ),
        ),
        (
            "verify",
            "/auth",
            lambda: create_verify_router(accounts.verification, deps, route, schemas.read),
        ),
        (
            None,
            "/users",
            lambda: create_users_router(
                accounts.profile,
                accounts.passwords,
                deps,
                route,
                schemas,
                require_verified=verified,
                password_lengths=parts.password_lengths,
            ),
        ),
        (
            "email-change",
            "/users",
            lambda: create_email_change_router(
                accounts.emails, deps, route, schemas.read, require_verified=verified
            ),
        ),
        (
            "delete",
            "/users",
            lambda: create_deletion_router(
                accounts.deletion, deps, route, require_verified=verified
            ),
        ),
        (
            "roles",
            "",
            lambda: create_roles_router(accounts.roles, deps, route, admin=admin),
        ),
        (
            "admin",
            "/users",
            lambda: create_admin_router(
                accounts.administration,
                deps,
                route,
                schemas.read,
                admin=admin,
                password_lengths=parts.password_lengths,
            ),
        ),
        ("jwks", "/auth", lambda: create_jwks_router(parts.keys, route)),
    ]
    factors = accounts.factors
    if factors is not None:
        groups.append(
            (
                None,
                "",
                lambda: create_mfa_router(
                    factors,
                    accounts.users,
                    factors.parse_id,
                    deps,
                    route,
                    fresh=settings.fresh_max_age,
                    admin=admin,
                ),
            )
        )
    return [(prefix, make()) for group, prefix, make in groups if group not in exclude]


@overload
def include_user_router(
    app: FastAPI,
    *,
    settings: UserKitSettings | None = None,
    user_model: type[ModelT],
    schemas: UserSchemas | None = None,
    database: DatabaseSource | None = None,
    user_store: UserStoreFactory | None = None,
    session_store: SessionStoreProvider | None = None,
    password_hashers: Sequence[PasswordHasher] | None = None,
    password_policy: PasswordPolicy | None = None,
    email_sender: EmailSender | None = None,
    email_templates: EmailTemplates | None = None,
    rate_limiter: RateLimiter | None = None,
    hooks: UserKitHooks | None = None,
    prefix: str = "",
    exclude: Collection[RouteGroup] = (),
    scopes: Mapping[str, str] | None = None,
) -> UserKit[ModelT]: ...


@overload
def include_user_router(
    app: FastAPI,
    *,
    settings: UserKitSettings | None = None,
    user_model: None = None,
    schemas: UserSchemas | None = None,
    database: DatabaseSource | None = None,
    user_store: UserStoreFactory | None = None,
    session_store: SessionStoreProvider | None = None,
    password_hashers: Sequence[PasswordHasher] | None = None,
    password_policy: PasswordPolicy | None = None,
    email_sender: EmailSender | None = None,
    email_templates: EmailTemplates | None = None,
    rate_limiter: RateLimiter | None = None,
    hooks: UserKitHooks | None = None,
    prefix: str = "",
    exclude: Collection[RouteGroup] = (),
    scopes: Mapping[str, str] | None = None,
) -> "UserKit[User]": ...


def include_user_router(
    app: FastAPI,
    *,
    settings: UserKitSettings | None = None,
    user_model: type[Any] | None = None,
    schemas: UserSchemas | None = None,
    database: DatabaseSource | None = None,
    user_store: UserStoreFactory | None = None,
    session_store: SessionStoreProvider | None = None,
    password_hashers: Sequence[PasswordHasher] | None = None,
    password_policy: PasswordPolicy | None = None,
    email_sender: EmailSender | None = None,
    email_templates: EmailTemplates | None = None,
    rate_limiter: RateLimiter | None = None,
    hooks: UserKitHooks | None = None,
    prefix: str = "",
    exclude: Collection[RouteGroup] = (),
    scopes: Mapping[str, str] | None = None,
) -> UserKit[Any]:
    """Mount registration, login and current-user routes on *app*.

    Args:
        app: The host application; its lifespan, routes, handlers and middleware
            are left as they are (the kit's startup runs before the host's lifespan).
        settings: Configuration; read from `USERKIT_*` variables when omitted.
        user_model: Mapped user class; `fastapi_userkit.db.default.User` when omitted.
        schemas: Read/create/update schemas exposing the host's own columns.
        database: URL, `AsyncEngine`, `async_sessionmaker`, or the host's session
            dependency (the kit then flushes into the host's transaction and never
            commits). Defaults to `settings.database_url`.
        user_store: Your own `UserStore`: a callable that takes the request's
            `UnitOfWork` and returns the store to use in it. Default: the SQLAlchemy
            store on *user_model*.
        session_store: Where login sessions live: `SQLSessionStore()` (default, same
            database), `MemorySessionStore()` or `RedisSessionStore(...)`.
        password_hashers: Your `PasswordHasher`s, the current one first (it writes
            every new hash); the others only verify old hashes, which are upgraded at
            the next login. Default: bcrypt at `bcrypt_rounds`, plain bcrypt, and
            argon2 with the `[argon2]` extra.
        password_policy: Your `PasswordPolicy`, replacing the one the `password_*`
            settings describe (and the `validate_password` hook, unless you add it).
        email_sender: Delivers the kit's e-mails. Default: `SMTPEmailSender` when
            `USERKIT_SMTP_HOST` is set, else `LoggingEmailSender` (logs each message).
        email_templates: Writes the kit's e-mails (`EmailTemplates` subclass).
        rate_limiter: Where rate-limit counters live: `MemoryRateLimiter()` (default),
            or `RedisRateLimiter(...)` (the default when `USERKIT_REDIS_URL` is set).
        hooks: Event hooks (`UserKitHooks` subclass instance).
        prefix: Path prefix put before `/auth/...` and `/users/...`.
        scopes: What each of your scopes allows (`{"items:write": "Change items"}`),
            shown in OpenAPI and Swagger UI's Authorize dialog. Every scope a route
            requires is listed there anyway.
        exclude: Route groups to leave out: `"admin"` (`/users`, `/users/{id}`),
            `"roles"` (`/roles`, `/users/{id}/roles`, `/users/me/roles`),
            `"delete"` (`DELETE /users/me`), `"sessions"` (`/auth/sessions`),
            `"cookie"` (`/auth/cookie/...`), `"verify"`, `"reset"`, `"email-change"`
            (`/users/me/email...`) and `"jwks"`. Registration, login and `/users/me`
            are always mounted.

    Returns:
        The `UserKit`, for `kit.current_user(...)` and `kit.users`.

    Raises:
        ConfigurationError: missing or weak secret, unusable model or database, or an
            unknown route group.
    """
    unknown = sorted(set(exclude) - ROUTE_GROUPS)
    if unknown:
        raise ConfigurationError(
            f"exclude= names no route group: {', '.join(unknown)} "
            f"(choose among {', '.join(sorted(ROUTE_GROUPS))})"
        )
    settings = settings or _settings_from_environment()
    if user_model is None:
        from fastapi_userkit.db.default import User

        user_model = User
    hooks = hooks or UserKitHooks()
    parts = build(
        settings,
        user_model=user_model,
        schemas=schemas or UserSchemas(),
        database=database if database is not None else settings.database_url,
        hooks=hooks,
        prefix=prefix,
        user_store=user_store,
        session_store=session_store,
        password_hashers=password_hashers,
        password_policy=password_policy,
        rate_limiter=rate_limiter,
        email_sender=email_sender,
        email_templates=email_templates,
        # NIST SP 800-63B context words: a password must not be built on the service's name
        service_names=tuple(n for n in (app.title, settings.mail_from_name) if n),
    )
    kit: UserKit[Any] = UserKit(parts)
    warn_unsafe(settings, dialect=parts.database.dialect_name, sender=parts.mail.sender)
    router = APIRouter(prefix=prefix)
    for path, sub in _routers(parts, exclude):
        describe(sub)
        if path:
            router.include_router(sub, prefix=path, tags=["auth" if path == "/auth" else "users"])
        else:
            router.include_router(sub)
    app.include_router(router)
    descriptions = {ADMIN_SCOPE: "Administer users and roles (the admin routes)."}
    for scope, description in (scopes or {}).items():
        descriptions[check_scopes([scope])[0]] = description
    parts.deps.scope_descriptions.update(descriptions)
    parts.deps.declare_on(app)
    _wrap_lifespan(app, kit)
    return kit
