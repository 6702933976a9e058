"""`include_user_router()` and the `UserKit` it returns."""

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, Generic, cast

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from pydantic import ValidationError
from sqlalchemy import Table

from fastapi_userkit._production import warn_unsafe
from fastapi_userkit._routing import bounded_route_class
from fastapi_userkit.action_tokens import ActionTokenCodec
from fastapi_userkit.client_ip import parse_networks
from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.cookies import CookieConfig
from fastapi_userkit.db.database import Database, DatabaseSource, UnitOfWork
from fastapi_userkit.db.sessions import SQLSessionStore
from fastapi_userkit.db.store import SQLAlchemyUserStore
from fastapi_userkit.dependencies import (
    Requirements,
    build_authenticated,
    build_authentication,
    build_current_user,
    build_current_user_ws,
    parse_user_id,
)
from fastapi_userkit.exceptions import ConfigurationError
from fastapi_userkit.hooks import UserKitHooks
from fastapi_userkit.keys import ASYMMETRIC_ALGORITHMS, KeyRing
from fastapi_userkit.login import LoginSessions
from fastapi_userkit.mail import EmailSender, LoggingEmailSender, SMTPEmailSender
from fastapi_userkit.mail_templates import EmailTemplates
from fastapi_userkit.manager import UserManager
from fastapi_userkit.notifications import AccountMail
from fastapi_userkit.passwords import (
    BcryptHasher,
    LegacyBcryptHasher,
    PasswordHash,
    PasswordHasher,
)
from fastapi_userkit.policy import PasswordPolicy
from fastapi_userkit.protocols import UserStore, UserT
from fastapi_userkit.ratelimit import MemoryRateLimiter, RateLimiter
from fastapi_userkit.routers import (
    create_account_router,
    create_admin_router,
    create_auth_router,
    create_cookie_router,
    create_register_router,
    create_reset_router,
    create_sessions_router,
    create_users_router,
    create_verify_router,
)
from fastapi_userkit.routers.jwks import create_jwks_router
from fastapi_userkit.schemas import UserSchemas
from fastapi_userkit.service import UserService
from fastapi_userkit.sessions import SessionStoreProvider
from fastapi_userkit.throttle import Throttle
from fastapi_userkit.tokens import AccessTokenCodec

logger = logging.getLogger("fastapi_userkit")


class UserKit(Generic[UserT]):
    """One mounted user system: its settings, collaborators and dependencies.

    Built by `include_user_router()`; hosts use `current_user()`,
    `current_user_ws()`, the `CurrentUser`-style aliases and `users`.
    """

    def __init__(
        self,
        *,
        settings: UserKitSettings,
        user_model: type[UserT],
        schemas: UserSchemas,
        database: Database,
        hooks: UserKitHooks,
        secret: str | None,
        prefix: str,
        session_store: SessionStoreProvider,
        email_sender: EmailSender,
        email_templates: EmailTemplates,
        rate_limiter: RateLimiter,
        service_names: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.user_model = user_model
        self.schemas = schemas
        self.database = database
        self.hooks = hooks
        self.prefix = prefix
        self.id_type: type[Any] = _primary_key_type(user_model)
        hashers: list[PasswordHasher] = [BcryptHasher(settings.bcrypt_rounds), LegacyBcryptHasher()]
        try:  # extra [argon2]: verify fastapi-users' argon2 hashes, upgraded on login
            from fastapi_userkit.contrib.argon2 import Argon2Hasher

            hashers.append(Argon2Hasher())
        except ImportError:
            pass
        self.password_hash = PasswordHash(hashers, concurrency=settings.hash_concurrency)
        self.password_policy = PasswordPolicy.default(
            min_length=settings.password_min_length,
            max_length=settings.password_max_length,
            common_list=settings.password_common_list,
            require_lower=settings.password_require_lower,
            require_upper=settings.password_require_upper,
            require_digit=settings.password_require_digit,
            require_symbol=settings.password_require_symbol,
            validators=[hooks.validate_password],
            context_words=service_names,
        )
        self.access_tokens = AccessTokenCodec(
            keys=KeyRing.from_settings(settings, secret),
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            ttl=settings.access_token_ttl,
        )
        self.action_tokens = ActionTokenCodec(
            keys=self.access_tokens.keys, audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )
        self.mail = AccountMail(settings, email_sender, email_templates)
        self.rate_limiter = rate_limiter
        self.throttle = Throttle(
            settings, rate_limiter, hooks, parse_networks(settings.trusted_proxies)
        )
        self.route_class: type[APIRoute] = bounded_route_class(settings.max_body_size)
        self.unit_of_work: Callable[..., Any] = database.dependency()
        token_url = f"{prefix.strip('/')}/auth/jwt/login".lstrip("/")
        self.bearer = OAuth2PasswordBearer(tokenUrl=token_url, auto_error=False)
        self.session_store = session_store
        self.login_sessions = LoginSessions(self)
        self.cookies: CookieConfig | None = None
        if settings.cookie_transport:
            self.cookies = CookieConfig(
                secure=settings.cookie_secure,
                samesite=settings.cookie_samesite,
                trusted_origins=frozenset(settings.csrf_trusted_origins),
            )
        self.authentication = build_authentication(self)
        self.authenticated = build_authenticated(self)
        self._guards: dict[tuple[str, bool, bool, bool, bool], Callable[..., Any]] = {}
        self.users: UserService[UserT] = UserService(self)
        self.CurrentUser = Annotated[user_model, Depends(self.current_user())]
        """Alias for an active user; `401` otherwise."""
        self.OptionalUser = Annotated[user_model | None, Depends(self.current_user(optional=True))]
        """Alias for the active user, or `None` when there is none."""
        self.VerifiedUser = Annotated[user_model, Depends(self.current_user(verified=True))]
        """Alias for an active, verified user; `403` when unverified."""
        self.Superuser = Annotated[user_model, Depends(self.current_user(superuser=True))]
        """Alias for an active superuser; `403` for other users."""

    def __repr__(self) -> str:
        return f"UserKit(user_model={self.user_model.__name__}, prefix={self.prefix!r})"

    def store(self, uow: UnitOfWork) -> UserStore[UserT]:
        """The user store for one unit of work."""
        return SQLAlchemyUserStore(uow.session, self.user_model)

    def parse_id(self, value: str) -> Any:
        """Parse a user id from its string form (as in tokens and sessions)."""
        return parse_user_id(self.id_type, value)

    async def end_all_sessions(
        self, uow: UnitOfWork, user: UserT, *, keep: str | None = None
    ) -> None:
        """Invalidate every access token of *user* (token version bump) and end
        every session but *keep*, whose refresh token then yields fresh tokens.
        """
        await self.store(uow).bump_token_version(user)
        await self.session_store.bind(uow).revoke_all(str(user.id), keep=keep)

    def manager(self, uow: UnitOfWork) -> UserManager[UserT]:
        """The account rules bound to one unit of work."""
        return UserManager(self.store(uow), self.password_hash, self.password_policy)

    def _guard(self, kind: str, **flags: bool) -> Callable[..., Any]:
        key = (kind, flags["active"], flags["verified"], flags["superuser"], flags["optional"])
        if key not in self._guards:
            requirements = Requirements(**flags)
            if kind == "http":
                self._guards[key] = build_current_user(self, requirements)
            else:
                self._guards[key] = build_current_user_ws(self, requirements)
        return self._guards[key]

    def current_user(
        self,
        *,
        active: bool = True,
        verified: bool = False,
        superuser: bool = False,
        optional: bool = False,
    ) -> Callable[..., Any]:
        """Return a dependency resolving the user behind the bearer token.

        Args:
            active: Refuse inactive users (401).
            verified: Refuse users whose e-mail is not verified (403).
            superuser: Refuse users who are not superusers (403).
            optional: Return `None` instead of refusing.

        The same arguments return the same dependency object, so FastAPI runs
        it once per request however many times it is declared.
        """
        return self._guard(
            "http", active=active, verified=verified, superuser=superuser, optional=optional
        )

    def current_user_ws(
        self,
        *,
        active: bool = True,
        verified: bool = False,
        superuser: bool = False,
        optional: bool = False,
    ) -> Callable[..., Any]:
        """Like `current_user()`, for WebSocket endpoints: the token comes from the
        `Authorization` header or the `access_token` query parameter (bearer
        transport), or the access cookie (cookie transport, same origin only), and
        a refusal closes the socket with code 1008.
        """
        return self._guard(
            "ws", active=active, verified=verified, superuser=superuser, optional=optional
        )

    async def startup(self) -> None:
        """Prepare the database (tables on SQLite) and the timing-parity hash."""
        await self.database.startup()
        await self.password_hash.warm_up()

    async def shutdown(self) -> None:
        """Dispose of what the kit created (its engine) and close the session store."""
        await self.database.shutdown()
        for resource in (self.session_store, self.rate_limiter):
            close = getattr(resource, "aclose", None)
            if close is not None:
                await close()


def _primary_key_type(user_model: type[Any]) -> type[Any]:
    # SQLAlchemy's `TypeEngine.python_type` raises NotImplementedError for a column
    # type that has no Python type: the id could not be parsed from tokens.
    try:
        column = user_model.__mapper__.primary_key[0]
        return cast(type[Any], column.type.python_type)
    except (AttributeError, IndexError, NotImplementedError) as exc:
        raise ConfigurationError(
            f"{user_model!r} is not a mapped SQLAlchemy class with a primary key"
        ) from exc


def _resolve_secret(settings: UserKitSettings, database: Database) -> str | None:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    if settings.jwt_algorithm in ASYMMETRIC_ALGORITHMS:
        return None  # access tokens are signed with the private key
    if database.dialect_name == "sqlite":
        logger.warning(
            "USERKIT_SECRET_KEY is not set: using an ephemeral random key. Tokens will not "
            "survive a restart and each worker signs its own. Set USERKIT_SECRET_KEY (e.g. "
            "`openssl rand -hex 32`) before deploying."
        )
        return secrets.token_urlsafe(48)
    where = (
        "when sessions come from your own dependency (the kit cannot tell the database)"
        if database.uses_host_sessions
        else "with any database other than SQLite"
    )
    raise ConfigurationError(
        f"USERKIT_SECRET_KEY is not set. It is required {where}; "
        "generate one with `openssl rand -hex 32`."
    )


def _engine_options(settings: UserKitSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"pool_pre_ping": settings.db_pool_pre_ping}
    for name in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle"):
        value = getattr(settings, f"db_{name}")
        if value is not None:
            options[name] = value
    return options


def _redis_session_store(settings: UserKitSettings) -> SessionStoreProvider | None:
    if settings.redis_url is None:
        return None
    from fastapi_userkit.contrib.redis import RedisSessionStore

    return RedisSessionStore(settings.redis_url, prefix=settings.redis_prefix)


def _redis_rate_limiter(settings: UserKitSettings) -> RateLimiter | None:
    if settings.redis_url is None:
        return None
    from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter

    return RedisRateLimiter(settings.redis_url, prefix=f"{settings.redis_prefix}rl:")


def _default_sender(settings: UserKitSettings) -> EmailSender:
    if settings.smtp_host is None:
        return LoggingEmailSender()
    password = settings.smtp_password
    return SMTPEmailSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=password.get_secret_value() if password is not None else None,
        starttls=settings.smtp_starttls and not settings.smtp_ssl,
        ssl=settings.smtp_ssl,
        from_address=settings.mail_from,
        from_name=settings.mail_from_name,
    )


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


def include_user_router(
    app: FastAPI,
    *,
    settings: UserKitSettings | None = None,
    user_model: type[Any] | None = None,
    schemas: UserSchemas | None = None,
    database: DatabaseSource | None = None,
    session_store: SessionStoreProvider | None = None,
    email_sender: EmailSender | None = None,
    email_templates: EmailTemplates | None = None,
    rate_limiter: RateLimiter | None = None,
    hooks: UserKitHooks | None = None,
    prefix: str = "",
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
        session_store: Where login sessions live: `SQLSessionStore()` (default, same
            database), `MemorySessionStore()` or `RedisSessionStore(...)`.
        email_sender: Delivers the kit's e-mails. Default: `SMTPEmailSender` when
            `USERKIT_SMTP_HOST` is set, else `LoggingEmailSender` (logs each message).
        email_templates: Writes the kit's e-mails (`EmailTemplates` subclass).
        rate_limiter: Where rate-limit counters live: `MemoryRateLimiter()` (default),
            or `RedisRateLimiter(...)` (the default when `USERKIT_REDIS_URL` is set).
        hooks: Event hooks (`UserKitHooks` subclass instance).
        prefix: Path prefix put before `/auth/...` and `/users/...`.

    Returns:
        The `UserKit`, for `kit.current_user(...)` and `kit.users`.

    Raises:
        ConfigurationError: missing or weak secret, unusable model or database.
    """
    if settings is None:
        try:
            settings = UserKitSettings()
        except ValidationError as exc:
            problems = "\n".join(
                f"  {'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}"
                for error in exc.errors(include_input=False, include_url=False)
            )
            raise ConfigurationError(f"invalid USERKIT_* settings:\n{problems}") from None
    if user_model is None:
        from fastapi_userkit.db.default import User

        user_model = User
    if session_store is None:
        session_store = _redis_session_store(settings) or SQLSessionStore()
    if rate_limiter is None:
        rate_limiter = _redis_rate_limiter(settings) or MemoryRateLimiter()
    tables = [cast(Table, user_model.__table__)]
    if isinstance(session_store, SQLSessionStore):
        tables += [cast(Table, table) for table in session_store.tables]
    db = Database(
        database if database is not None else settings.database_url,
        tables=tables,
        create_tables=settings.create_tables,
        engine_options=_engine_options(settings),
    )
    kit: UserKit[Any] = UserKit(
        settings=settings,
        user_model=user_model,
        schemas=schemas or UserSchemas(),
        database=db,
        hooks=hooks or UserKitHooks(),
        secret=_resolve_secret(settings, db),
        prefix=prefix,
        session_store=session_store,
        email_sender=email_sender or _default_sender(settings),
        email_templates=email_templates or EmailTemplates(),
        rate_limiter=rate_limiter,
        # NIST SP 800-63B context words: a password must not be built on the service's name
        service_names=tuple(n for n in (app.title, settings.mail_from_name) if n),
    )
    warn_unsafe(settings, dialect=db.dialect_name, sender=kit.mail.sender)
    router = APIRouter(prefix=prefix)
    router.include_router(create_register_router(kit), prefix="/auth", tags=["auth"])
    if settings.bearer_transport:
        router.include_router(create_auth_router(kit), prefix="/auth", tags=["auth"])
    if kit.cookies is not None:
        router.include_router(create_cookie_router(kit), prefix="/auth", tags=["auth"])
    router.include_router(create_sessions_router(kit), prefix="/auth", tags=["auth"])
    router.include_router(create_reset_router(kit), prefix="/auth", tags=["auth"])
    router.include_router(create_verify_router(kit), prefix="/auth", tags=["auth"])
    router.include_router(create_users_router(kit), prefix="/users", tags=["users"])
    router.include_router(create_account_router(kit), prefix="/users", tags=["users"])
    router.include_router(create_admin_router(kit), prefix="/users", tags=["users"])
    router.include_router(create_jwks_router(kit), prefix="/auth", tags=["auth"])
    app.include_router(router)
    _wrap_lifespan(app, kit)
    return kit
