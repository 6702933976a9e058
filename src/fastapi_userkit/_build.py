"""The one place that reads the settings: it turns them, and what the host passed to
`include_user_router()`, into the kit's parts. Everything built here takes explicit
values; nothing below this module sees the settings object.
"""

import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Table

from fastapi_userkit._access_tokens import AccessTokenCodec
from fastapi_userkit._accounts import Accounts, build_accounts
from fastapi_userkit._accounts.notices import AccountMail, Link
from fastapi_userkit._accounts.second_factors import SecondFactors
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit._action_tokens import ActionTokenCodec, Purpose
from fastapi_userkit._client_ip import parse_networks
from fastapi_userkit._http.cookies import CookieConfig
from fastapi_userkit._http.dependencies import Dependencies
from fastapi_userkit._http.route import bounded_route_class
from fastapi_userkit._keys import ASYMMETRIC_ALGORITHMS, HMAC_ALGORITHMS, KeyRing
from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.db._authentication_read import AuthenticationRead
from fastapi_userkit.db.database import Database, DatabaseSource, UnitOfWork
from fastapi_userkit.db.login_sessions import SQLSessionStore
from fastapi_userkit.db.mfa import MFA_TABLES
from fastapi_userkit.db.roles import ROLE_TABLES
from fastapi_userkit.db.store import SQLAlchemyUserStore
from fastapi_userkit.exceptions import BadTokenError, ConfigurationError
from fastapi_userkit.hooks import UserKitHooks
from fastapi_userkit.login_sessions import SessionStoreProvider
from fastapi_userkit.mail import EmailSender, LoggingEmailSender, SMTPEmailSender
from fastapi_userkit.mail_templates import EmailTemplates
from fastapi_userkit.passwords import BcryptHasher, LegacyBcryptHasher, PasswordHash, PasswordHasher
from fastapi_userkit.policy import PasswordPolicy
from fastapi_userkit.protocols import UserStore
from fastapi_userkit.ratelimit import Limit, MemoryRateLimiter, RateLimiter
from fastapi_userkit.schemas import UserSchemas, with_password_lengths

logger = logging.getLogger("fastapi_userkit")

UserStoreFactory = Callable[[UnitOfWork], UserStore[Any]]
"""What `include_user_router(user_store=...)` takes: the user store of one unit of
work, e.g. `lambda uow: MyStore(uow.session)`."""


@dataclass(frozen=True, slots=True)
class Parts:
    """Everything one kit is made of, built once by `build()`."""

    settings: UserKitSettings
    user_model: type[Any]
    schemas: UserSchemas
    database: Database
    hooks: UserKitHooks
    keys: KeyRing
    session_store: SessionStoreProvider
    rate_limiter: RateLimiter
    mail: AccountMail
    accounts: Accounts
    deps: Dependencies
    route_class: type[APIRoute]
    cookies: CookieConfig | None
    password_lengths: tuple[int, int] | None
    """The policy's password length bounds, published in the request schemas."""
    access_tokens: AccessTokenCodec
    action_tokens: ActionTokenCodec
    password_hash: PasswordHash


def parse_user_id(id_type: type[Any], subject: str) -> Any:
    """Turn a `sub` claim (or an id in a URL) into a primary-key value.

    Raises:
        BadTokenError: it cannot be an id of that type.
    """
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


def primary_key_type(user_model: type[Any]) -> type[Any]:
    """The Python type of *user_model*'s primary key.

    Raises:
        ConfigurationError: not a mapped class with a primary key, or a key type
            without a Python type (its ids could not be read from tokens).
    """
    # SQLAlchemy's `TypeEngine.python_type` raises NotImplementedError for a column
    # type that has no Python type: the id could not be parsed from tokens.
    try:
        column = user_model.__mapper__.primary_key[0]
        return cast(type[Any], column.type.python_type)
    except (AttributeError, IndexError, NotImplementedError) as exc:
        raise ConfigurationError(
            f"{user_model!r} is not a mapped SQLAlchemy class with a primary key"
        ) from exc


def signing_secret(settings: UserKitSettings, database: Database) -> str | None:
    """The HMAC signing key: the configured one, or an ephemeral one (SQLite only).

    Raises:
        ConfigurationError: no key, with a database other than SQLite.
    """
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


def _mismatch(algorithm: str, variable: str, instead: str) -> ConfigurationError:
    return ConfigurationError(
        f"{variable} is set, but USERKIT_JWT_ALGORITHM={algorithm} cannot use it "
        f"(use {instead}); change the algorithm or remove the setting"
    )


def key_ring(settings: UserKitSettings, secret: str | None) -> KeyRing:
    """The key ring the settings describe.

    Args:
        settings: The kit's settings (algorithm, keys, older keys).
        secret: The HMAC signing key (`secret_key`, or an ephemeral one); ignored
            with an asymmetric algorithm.

    Raises:
        ConfigurationError: a key is missing, unreadable, not PEM, of the wrong type
            or size, or given for the other family of algorithms; or an asymmetric
            algorithm is set but `cryptography` is not installed.
    """
    algorithm = settings.jwt_algorithm
    if algorithm in HMAC_ALGORITHMS:
        if settings.jwt_private_key or settings.jwt_private_key_file:
            raise _mismatch(algorithm, "USERKIT_JWT_PRIVATE_KEY(_FILE)", "USERKIT_SECRET_KEY")
        if settings.jwt_public_key_files:
            raise _mismatch(
                algorithm, "USERKIT_JWT_PUBLIC_KEY_FILES", "USERKIT_PREVIOUS_SECRET_KEYS"
            )
        if not secret:
            raise ConfigurationError(f"USERKIT_SECRET_KEY is required with {algorithm}")
        old = [key.get_secret_value().encode() for key in settings.previous_secret_keys]
        return KeyRing(algorithm, secret.encode(), old)
    try:
        from fastapi_userkit._asymmetric import load_private_key, load_public_key
    except ImportError as exc:
        raise ConfigurationError(
            f"USERKIT_JWT_ALGORITHM={algorithm} needs the cryptography package: "
            'pip install "fastapi-userkit[crypto]"'
        ) from exc
    if settings.previous_secret_keys:
        raise _mismatch(algorithm, "USERKIT_PREVIOUS_SECRET_KEYS", "USERKIT_JWT_PUBLIC_KEY_FILES")
    public = [load_public_key(algorithm, path) for path in settings.jwt_public_key_files]
    text = settings.jwt_private_key.get_secret_value() if settings.jwt_private_key else ""
    return KeyRing(
        algorithm, load_private_key(algorithm, text, settings.jwt_private_key_file), public
    )


def engine_options(settings: UserKitSettings) -> dict[str, Any]:
    """Keyword arguments for the engine the kit creates from a URL.

    The pool options go to `create_async_engine()` as they are. The two timeouts are
    handed over by name (`connect_timeout`, `statement_timeout`): `Database` turns them
    into the connect arguments of the driver its URL names, which may be a `database=`
    string other than `settings.database_url`.
    """
    options: dict[str, Any] = {"pool_pre_ping": settings.db_pool_pre_ping}
    for name in ("pool_size", "max_overflow", "pool_timeout", "pool_recycle"):
        value = getattr(settings, f"db_{name}")
        if value is not None:
            options[name] = value
    options["connect_timeout"] = settings.db_connect_timeout
    options["statement_timeout"] = settings.db_statement_timeout
    return options


def default_session_store(settings: UserKitSettings) -> SessionStoreProvider:
    """Redis when `redis_url` is set, else the SQL store."""
    if settings.redis_url is None:
        return SQLSessionStore()
    from fastapi_userkit.contrib.redis import RedisSessionStore

    return RedisSessionStore(settings.redis_url, prefix=settings.redis_prefix)


def default_rate_limiter(settings: UserKitSettings) -> RateLimiter:
    """Redis when `redis_url` is set, else counters in memory."""
    if settings.redis_url is None:
        return MemoryRateLimiter()
    from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter

    return RedisRateLimiter(settings.redis_url, prefix=f"{settings.redis_prefix}rl:")


def default_sender(settings: UserKitSettings) -> EmailSender:
    """SMTP when `smtp_host` is set, else the logging sender."""
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


def default_hashers(settings: UserKitSettings) -> list[PasswordHasher]:
    """Bcrypt at the configured cost first; plain bcrypt and, with the `[argon2]`
    extra, argon2 (fastapi-users' hashes) to verify and upgrade.
    """
    hashers: list[PasswordHasher] = [BcryptHasher(settings.bcrypt_rounds), LegacyBcryptHasher()]
    try:
        from fastapi_userkit.contrib.argon2 import Argon2Hasher

        hashers.append(Argon2Hasher())
    except ImportError:
        pass
    return hashers


def default_policy(
    settings: UserKitSettings, hooks: UserKitHooks, service_names: Sequence[str]
) -> PasswordPolicy:
    """The password policy the settings describe, with the `validate_password` hook."""
    return PasswordPolicy.default(
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


def account_mail(
    settings: UserKitSettings, sender: EmailSender, templates: EmailTemplates
) -> AccountMail:
    """The account e-mails, with the links and token lifetimes of the settings."""
    return AccountMail(
        sender,
        templates,
        frontend_url=settings.frontend_url or "",
        reset=Link(settings.reset_password_path, settings.reset_password_token_ttl),
        verify=Link(settings.verify_email_path, settings.verify_token_ttl),
        email_change=Link(settings.email_change_path, settings.email_change_token_ttl),
    )


def throttle(settings: UserKitSettings, limiter: RateLimiter, hooks: UserKitHooks) -> Throttle:
    """The rate limits the settings describe."""
    return Throttle(
        limiter,
        {
            name.removeprefix("rate_limit_"): Limit.parse(value)
            for name, value in settings.rate_limits.model_dump().items()
            if name.startswith("rate_limit_") and isinstance(value, str)
        },
        hooks,
        enabled=settings.rate_limit_enabled,
        trust_seconds=settings.login_trusted_ip_days * 86_400,
    )


def encryption_keys(settings: UserKitSettings, secret: str | None) -> list[bytes]:
    """The keys of second-factor secrets, the current one first: the configured
    ones, else derived from the signing secret and its previous values.

    Raises:
        ConfigurationError: no key can be had (an asymmetric algorithm without
            `mfa_encryption_key`).
    """
    if settings.mfa_encryption_key is not None:
        given = [settings.mfa_encryption_key, *settings.previous_mfa_encryption_keys]
        return [key.get_secret_value().encode() for key in given]
    if settings.secret_key is None and secret is not None:
        logger.warning(
            "USERKIT_MFA_ENABLED=true with an ephemeral signing key: the TOTP secrets "
            "users enrol will not decrypt after a restart. Set USERKIT_MFA_ENCRYPTION_KEY "
            "(or USERKIT_SECRET_KEY)."
        )
    if secret is None:
        raise ConfigurationError(
            "USERKIT_MFA_ENABLED=true with an asymmetric algorithm needs "
            "USERKIT_MFA_ENCRYPTION_KEY (e.g. `openssl rand -hex 32`)"
        )
    older = [key.get_secret_value() for key in settings.previous_secret_keys]
    return [text.encode() for text in (secret, *older)]


def second_factors(
    settings: UserKitSettings,
    secret: str | None,
    *,
    users: UserStoreFactory,
    parse_id: Callable[[str], Any],
    challenges: ActionTokenCodec,
    mail: AccountMail,
    hooks: UserKitHooks,
    service_names: Sequence[str],
) -> SecondFactors | None:
    """The second factors, when `mfa_enabled` is on.

    Raises:
        ConfigurationError: the `[mfa]` extra is missing, or there is no key.
    """
    if not settings.mfa_enabled:
        return None
    try:
        import segno  # noqa: F401 - checked here, used for QR codes
        import webauthn  # noqa: F401 - checked here, used for passkeys

        from fastapi_userkit._sealed import SecretBox
    except ImportError as exc:
        raise ConfigurationError(
            'USERKIT_MFA_ENABLED=true needs the [mfa] extra: pip install "fastapi-userkit[mfa]"'
        ) from exc
    return SecondFactors(
        users=users,
        parse_id=parse_id,
        box=SecretBox(encryption_keys(settings, secret)),
        challenges=challenges,
        challenge_ttl=settings.mfa_challenge_ttl,
        issuer=settings.mfa_issuer or next(iter(service_names), "fastapi-userkit"),
        recovery_codes=settings.mfa_recovery_codes,
        mail=mail,
        hooks=hooks,
        rp_id=settings.webauthn_rp_id,
        rp_origins=tuple(settings.webauthn_origins),
    )


def cookie_config(settings: UserKitSettings) -> CookieConfig | None:
    """The cookie transport, when it is on."""
    if not settings.cookie_transport:
        return None
    return CookieConfig(
        secure=settings.cookie_secure,
        samesite=settings.cookie_samesite,
        trusted_origins=frozenset(settings.csrf_trusted_origins),
    )


def build(
    settings: UserKitSettings,
    *,
    user_model: type[Any],
    schemas: UserSchemas,
    database: DatabaseSource,
    hooks: UserKitHooks,
    prefix: str,
    user_store: UserStoreFactory | None = None,
    session_store: SessionStoreProvider | None = None,
    password_hashers: Sequence[PasswordHasher] | None = None,
    password_policy: PasswordPolicy | None = None,
    rate_limiter: RateLimiter | None = None,
    email_sender: EmailSender | None = None,
    email_templates: EmailTemplates | None = None,
    service_names: Sequence[str] = (),
) -> Parts:
    """Build every part of a kit from *settings* and what the host passed.

    Raises:
        ConfigurationError: a missing or weak secret, an unusable key, model or database.
    """
    id_type = primary_key_type(user_model)

    def parse_id(value: str) -> Any:
        return parse_user_id(id_type, value)

    session_store = session_store or default_session_store(settings)
    tables = [cast(Table, user_model.__table__)]
    if isinstance(session_store, SQLSessionStore):
        tables += [cast(Table, table) for table in session_store.tables]
    tables += [cast(Table, table) for table in ROLE_TABLES]
    if settings.mfa_enabled:
        tables += [cast(Table, table) for table in MFA_TABLES]
    db = Database(
        database,
        tables=tables,
        create_tables=settings.create_tables,
        engine_options=engine_options(settings),
    )
    secret = signing_secret(settings, db)
    keys = key_ring(settings, secret)
    access_tokens = AccessTokenCodec(
        keys=keys,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        ttl=settings.access_token_ttl,
    )
    action_tokens = ActionTokenCodec(
        keys=keys, audience=settings.jwt_audience, issuer=settings.jwt_issuer
    )
    password_hash = PasswordHash(
        password_hashers or default_hashers(settings), concurrency=settings.hash_concurrency
    )
    limiter = rate_limiter or default_rate_limiter(settings)
    mail = account_mail(
        settings, email_sender or default_sender(settings), email_templates or EmailTemplates()
    )

    def users(uow: UnitOfWork) -> UserStore[Any]:
        return SQLAlchemyUserStore(uow.session, user_model)

    factors = second_factors(
        settings,
        secret,
        users=user_store or users,
        parse_id=parse_id,
        challenges=action_tokens,
        mail=mail,
        hooks=hooks,
        service_names=service_names,
    )
    policy = password_policy or default_policy(settings, hooks, service_names)
    schemas = UserSchemas(
        read=schemas.read,
        create=with_password_lengths(schemas.create, policy.lengths),  # type: ignore[arg-type]
        update=with_password_lengths(schemas.update, policy.lengths),  # type: ignore[arg-type]
    )
    accounts = build_accounts(
        database=db,
        users=user_store or users,
        parse_id=parse_id,
        user_model=user_model,
        hashing=password_hash,
        policy=policy,
        throttle=throttle(settings, limiter, hooks),
        access_tokens=access_tokens,
        action_tokens=action_tokens,
        session_store=session_store,
        mail=mail,
        hooks=hooks,
        session_ttl=settings.session_ttl,
        refresh_ttl=settings.refresh_token_ttl,
        token_ttls={
            Purpose.RESET_PASSWORD: settings.reset_password_token_ttl,
            Purpose.VERIFY_EMAIL: settings.verify_token_ttl,
            Purpose.CHANGE_EMAIL: settings.email_change_token_ttl,
        },
        prevent_enumeration=settings.prevent_enumeration,
        require_verified=settings.require_verified_login,
        direct_read=AuthenticationRead.for_model(db, user_model) if user_store is None else None,
        factors=factors,
    )
    cookies = cookie_config(settings)
    token_url = f"{prefix.strip('/')}/auth/jwt/login".lstrip("/")
    deps = Dependencies(
        sessions=accounts.sessions,
        roles=accounts.roles,
        unit_of_work=db.dependency(),
        bearer=(
            OAuth2PasswordBearer(tokenUrl=token_url, auto_error=False)
            if settings.bearer_transport
            else None
        ),
        cookies=cookies,
        trusted_proxies=parse_networks(settings.trusted_proxies),
    )
    return Parts(
        settings=settings,
        user_model=user_model,
        schemas=schemas,
        database=db,
        hooks=hooks,
        keys=keys,
        session_store=session_store,
        rate_limiter=limiter,
        mail=mail,
        accounts=accounts,
        deps=deps,
        route_class=bounded_route_class(settings.max_body_size),
        cookies=cookies,
        password_lengths=policy.lengths,
        access_tokens=access_tokens,
        action_tokens=action_tokens,
        password_hash=password_hash,
    )
