"""Settings of a mounted kit, read from `USERKIT_*` environment variables.

Nothing here runs at import time: the environment is read when
`include_user_router()` builds a `UserKitSettings()`, or when the host builds one.
"""

import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from fastapi_userkit._client_ip import parse_networks
from fastapi_userkit.ratelimit import Limit

__all__ = [
    "MIN_SECRET_BYTES",
    "PLACEHOLDER_SECRETS",
    "JWTAlgorithm",
    "UserKitSettings",
    "check_secret",
]

#: Secrets copied from tutorials and templates; refused whatever their length.
PLACEHOLDER_SECRETS = frozenset(
    {
        "secret",
        "changeme",
        "changethis",
        "change-me",
        "change_me",
        "your-secret-key",
        "your_secret_key",
        "supersecret",
        "super-secret",
        "secret_key",
        "secret-key",
        "mysecret",
        "please-change-me",
        "insecure",
        "development",
        "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7",
    }
)
MIN_SECRET_BYTES = 32
_HMAC_KEY_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
_G = TypeVar("_G", bound="SettingsGroup")


def _valid_limit(value: str) -> str:
    try:
        Limit.parse(value)
    except ValueError as exc:
        raise ValueError("must be COUNT/SECONDS, e.g. 5/900") from exc
    return value


LimitText = Annotated[str, AfterValidator(_valid_limit)]
"""A rate limit as `COUNT/SECONDS`, such as `5/900`."""
JWTAlgorithm = Literal["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"]


def _default_hash_concurrency() -> int:
    # Leave one core for the event loop; hashes are CPU- and memory-heavy.
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def check_secret(secret: str) -> None:
    """Raise `ValueError` when *secret* is too short, a placeholder, or trivially weak."""
    stripped = secret.strip()
    lowered = stripped.lower()
    if lowered in PLACEHOLDER_SECRETS or any(p in lowered for p in ("changeme", "changethis")):
        raise ValueError("is a known placeholder; generate one with `openssl rand -hex 32`")
    if len(stripped.encode()) < MIN_SECRET_BYTES:
        raise ValueError(
            f"must be at least {MIN_SECRET_BYTES} bytes; generate one with `openssl rand -hex 32`"
        )
    if len(set(stripped)) < 8 or _periodic(stripped):
        raise ValueError("is too repetitive to be random; generate one with `openssl rand -hex 32`")


def _periodic(text: str) -> bool:
    """Whether *text* is a shorter unit repeated (the last copy may be cut short),
    such as `abcdefgh` written four times: long, but no more random than its unit.
    """
    return any(
        all(text[i] == text[i % period] for i in range(period, len(text)))
        for period in range(1, len(text) // 2 + 1)
    )


class SettingsGroup(BaseModel):
    """One group of settings; its attribute docstrings are the fields' descriptions."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class TokenSettings(SettingsGroup):
    """The keys that sign the kit's tokens, and how long each kind of token lives."""

    secret_key: SecretStr | None = None
    """Key that signs and verifies access tokens (and the e-mailed tokens) with an HMAC
    algorithm (`HS256`, `HS384`, `HS512`). Not needed with `RS256`, `ES256` or `EdDSA`. See
    [the rules below](settings.md#secret-key)."""

    previous_secret_keys: list[SecretStr] = Field(default_factory=list)
    """Older HMAC keys, still accepted to verify access tokens but never used to sign, for [key
    rotation](../how-to/rotate-keys.md#rotate-an-hmac-key). Example: `'["<old key>"]'`. Each
    entry must pass the rules of the secret key. Refused with `RS256`, `ES256` and `EdDSA`."""

    jwt_algorithm: JWTAlgorithm = "HS256"
    """The one algorithm tokens are signed and verified with. The token's own header never
    chooses it. `HS*` use `USERKIT_SECRET_KEY`; the others use a private key and need the
    extra `crypto`. See [signing keys](settings.md#signing-keys)."""

    jwt_private_key: SecretStr | None = None
    """The unencrypted PEM private key that signs access tokens with `RS256`, `ES256` or
    `EdDSA`. A PEM written on one line, with literal `\\n` between its lines, is accepted
    too. Set this or `USERKIT_JWT_PRIVATE_KEY_FILE`, not both."""

    jwt_private_key_file: Path | None = None
    """Path to a PEM file holding that private key, read when `include_user_router()` runs."""

    jwt_public_key_files: list[Path] = Field(default_factory=list)
    """PEM public keys (`BEGIN PUBLIC KEY`) of earlier signing keys, still accepted to verify
    access tokens and published at `GET /auth/jwks.json`, but never used to sign. Example:
    `'["/run/secrets/old.pub.pem"]'`. Refused with the `HS*` algorithms."""

    jwt_audience: str = Field(default="fastapi-userkit", min_length=1)
    """The `aud` claim written into access tokens and required from them. E-mailed tokens use
    it with a suffix, such as `fastapi-userkit:reset`."""

    jwt_issuer: str = Field(default="fastapi-userkit", min_length=1)
    """The `iss` claim written into every token and required from it."""

    access_token_ttl: int = Field(default=900, gt=0, le=86_400)
    """Lifetime of an access token, in seconds. Also the `expires_in` of the token responses,
    and the `Max-Age` of the access cookie."""

    refresh_token_ttl: int = Field(default=1_209_600, gt=0)
    """Lifetime of each refresh token, in seconds (14 days). Every refresh issues a new refresh
    token with a new lifetime, so a session unused for this long ends. Also the `Max-Age` of
    the refresh and CSRF cookies."""

    session_ttl: int = Field(default=2_592_000, gt=0)
    """Absolute lifetime of a login session, in seconds (30 days), counted from the login.
    Refreshing never extends a session past it."""

    reset_password_token_ttl: int = Field(default=3600, gt=0, le=604_800)
    """Lifetime of a password-reset link, in seconds."""

    verify_token_ttl: int = Field(default=3600, gt=0, le=2_592_000)
    """Lifetime of an e-mail verification link, in seconds."""

    email_change_token_ttl: int = Field(default=3600, gt=0, le=604_800)
    """Lifetime of the link that confirms a new address, in seconds."""

    @model_validator(mode="after")
    def _secret_fits_algorithm(self) -> "TokenSettings":
        # RFC 7518 §3.2: an HMAC key at least as long as the hash output.
        needed = _HMAC_KEY_BYTES.get(self.jwt_algorithm)
        if needed is None:
            return self  # asymmetric: the key ring checks the key files
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < needed:
            raise ValueError(f"secret_key must be at least {needed} bytes for {self.jwt_algorithm}")
        for old in self.previous_secret_keys:
            if len(old.get_secret_value()) < needed:
                raise ValueError(
                    f"every previous_secret_keys entry must be at least {needed} bytes "
                    f"for {self.jwt_algorithm}"
                )
        return self

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @field_validator("previous_secret_keys")
    @classmethod
    def _refuse_weak_previous_secrets(cls, value: list[SecretStr]) -> list[SecretStr]:
        for old in value:
            check_secret(old.get_secret_value())
        return value


class DatabaseSettings(SettingsGroup):
    """Where users and login sessions are kept: the database, its connection pool, and Redis.

    The `USERKIT_DB_POOL_*` and `USERKIT_DB_*_TIMEOUT` settings apply to the engine the kit
    creates from a URL (`USERKIT_DATABASE_URL`, or a string passed as `database=`). An engine or
    sessionmaker of your own keeps the pool and connection options you gave it. Sizing the pool
    for several workers is explained in [Deploy to
    production](../how-to/deploy.md#6-size-the-connection-pool), and what the timeouts bound in
    [When the database is down](../how-to/deploy.md#when-the-database-is-down).
    """

    database_url: str = "sqlite+aiosqlite:///./userkit.db"
    """SQLAlchemy async URL, used when `include_user_router()` gets no `database=`."""

    db_pool_size: int | None = Field(default=None, ge=1, le=1000)
    """Connections each process keeps open in the pool of the engine the kit creates from the
    URL."""

    db_max_overflow: int | None = Field(default=None, ge=0, le=1000)
    """Extra connections each process may open under load."""

    db_pool_timeout: float | None = Field(default=None, gt=0, le=300)
    """Seconds a request waits for a free connection; then it gets `503`
    `DATABASE_UNAVAILABLE`."""

    db_pool_recycle: int | None = Field(default=None, gt=0)
    """Replace pooled connections older than this many seconds, for example below the idle
    timeout of MySQL (`wait_timeout`) or of a proxy."""

    db_pool_pre_ping: bool = False
    """Test each connection before use: a connection dropped silently is replaced instead of
    failing a request, at the cost of one round trip."""

    db_connect_timeout: float = Field(default=5.0, gt=0, le=300)
    """Seconds to open a new connection, the server's greeting and the login included; past
    it, the request gets `503` `DATABASE_UNAVAILABLE`. Bounds the wait for a server that is
    down, unreachable, or accepts connections without answering, as during a restart or a
    failover. Applied with asyncpg, asyncmy and aiomysql; see
    [Timeouts](../how-to/deploy.md#timeouts)."""

    db_statement_timeout: float = Field(default=15.0, gt=0, le=3600)
    """Seconds to wait for the answer to one statement; past it, the request gets `503`
    `DATABASE_UNAVAILABLE`, its transaction is rolled back and its connection is closed
    rather than reused. Bounds the wait for a server that stops answering, or for a statement
    stuck behind a lock. The driver enforces it (asyncpg's `command_timeout`, asyncmy's
    `read_timeout`), so it also works through PgBouncer. On SQLite, it is how long a statement
    waits for another connection's write lock (the busy timeout). Keep it above your slowest
    legitimate query."""

    create_tables: bool | None = None
    """Create the kit's tables at startup when they are missing: the user table and, with the
    default SQL session store, `userkit_session` and `userkit_refresh_token`. Not set: only
    when the database is SQLite; on other databases the kit checks at startup that its tables
    exist, and refuses to start without them (`ConfigurationError`). `true`: create them on
    any database. `false`: never create nor check them (the schema is yours, even if it comes
    after the kit's startup). The kit needs an engine for this; see
    [Tables](../how-to/provide-db-sessions.md#tables)."""

    redis_url: str | None = None
    """A Redis URL, such as `redis://127.0.0.1:6379/0`, shared by every worker (extra `redis`);
    `redis+sentinel://host:26379,host2:26379/mymaster/0` for Sentinel and
    `redis+cluster://host:7000,host2:7001` for Redis Cluster. When set, login sessions and
    rate-limit counters are kept there, unless `include_user_router()` gets `session_store=`
    or `rate_limiter=`. See
    [Redis](../how-to/redis.md) and [rate
    limits](../how-to/rate-limits.md#share-the-counters-between-workers)."""

    redis_prefix: str = Field(default="userkit:", min_length=1, max_length=64)
    """Put before every key the kit writes to `USERKIT_REDIS_URL`; the rate-limit keys add
    `rl:` (`userkit:rl:...`). Give each application sharing a Redis database its own."""


class PasswordSettings(SettingsGroup):
    """How passwords are hashed, and which new passwords are accepted.

    The rules and their messages are listed in the
    [HTTP API reference](http-api.md#password-policy).
    """

    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    """bcrypt cost factor (log2 of the number of iterations). Stored hashes with another cost
    are rehashed at the next successful login. Use 4 only in tests."""

    hash_concurrency: int = Field(default_factory=_default_hash_concurrency, ge=1, le=64)
    """How many password hashes may run at the same time in the kit's thread pool. Others wait
    their turn."""

    password_min_length: int = Field(default=8, ge=1)
    """Shortest password accepted, in characters, counted as typed and after NFKC
    normalisation."""

    password_max_length: int = Field(default=128, ge=8, le=4096)
    """Longest password accepted, in characters, counted as typed and after NFKC
    normalisation. Passwords up to this length count in full; nothing is truncated."""

    password_common_list: bool = True
    """Refuse the 20,000 most common passwords of the bundled list, compared
    case-insensitively, and [predictable
    passwords](../explanation/security.md#predictable-passwords): repetitions, sequences,
    keyboard patterns, years and the service's name."""

    password_require_lower: bool = False
    """Require a lower-case letter. A composition rule, which NIST SP 800-63B advises against."""

    password_require_upper: bool = False
    """Require an upper-case letter (a composition rule)."""

    password_require_digit: bool = False
    """Require a digit (a composition rule)."""

    password_require_symbol: bool = False
    """Require a character that is not a letter or digit; a space counts (a composition rule)."""


class AccountSettings(SettingsGroup):
    """What the account routes allow."""

    require_verified_login: bool = False
    """When `true`, login refuses users whose e-mail address is not verified
    (`LOGIN_USER_NOT_VERIFIED`), and `GET /users/me`, `PATCH /users/me`, `POST
    /users/me/password`, `POST /users/me/email` and `DELETE /users/me` answer `403` for
    them. See [Verify e-mail
    addresses](../how-to/verify-email.md#refuse-logins-until-the-address-is-verified)."""

    prevent_enumeration: bool = False
    """When `true`, registration answers `202` alike for new and taken addresses, and the owner
    of a taken address gets an e-mail instead. See [Hide which addresses have
    accounts](../how-to/enumeration.md)."""

    max_body_size: int = Field(default=65_536, ge=1024)
    """Largest request body, in bytes, that the kit's routes accept. Larger bodies get `413`
    (`REQUEST_TOO_LARGE`)."""


class MailSettings(SettingsGroup):
    """The kit's e-mails: where their links lead, and how they are sent.

    See [Send the kit's e-mails](../how-to/send-email.md).
    """

    frontend_url: str | None = None
    """Base URL of the pages that receive the e-mailed links, such as
    `https://app.example.com`; a trailing `/` is removed. Links are never built from the
    request. Without it, links are only the path."""

    reset_password_path: str = "/reset-password?token={token}"  # noqa: S105 - a path
    """Path of the reset page, appended to `USERKIT_FRONTEND_URL`."""

    verify_email_path: str = "/verify-email?token={token}"
    """Path of the verification page."""

    email_change_path: str = "/confirm-email?token={token}"
    """Path of the page that confirms a new address."""

    smtp_host: str | None = None
    """SMTP server. When set, and `include_user_router()` gets no `email_sender=`, the kit's
    e-mails go out by SMTP; otherwise they are written to the log."""

    smtp_port: int = Field(default=587, gt=0, lt=65_536)
    """SMTP port: 587 for STARTTLS, 465 for implicit TLS."""

    smtp_username: str | None = None
    """SMTP login, if the server needs one."""

    smtp_password: SecretStr | None = None
    """Password of the SMTP login."""

    smtp_starttls: bool = True
    """Upgrade the connection with STARTTLS; sending fails if the server does not offer it.
    Ignored when `USERKIT_SMTP_SSL` is `true`."""

    smtp_ssl: bool = False
    """Connect with implicit TLS instead of STARTTLS. Set `USERKIT_SMTP_PORT=465` with it."""

    mail_from: str = "no-reply@localhost"
    """Sender address of the kit's e-mails."""

    mail_from_name: str | None = None
    """Sender display name of the kit's e-mails."""

    @field_validator("reset_password_path", "verify_email_path", "email_change_path")
    @classmethod
    def _one_token_placeholder(cls, value: str) -> str:
        if value.count("{token}") != 1 or value.replace("{token}", "").count("{") > 0:
            raise ValueError("must contain `{token}` exactly once and no other braces")
        return value

    @field_validator("frontend_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")) or any(c in value for c in "\r\n "):
            raise ValueError("must be an http(s) URL such as https://app.example.com")
        return value.rstrip("/")


class TransportSettings(SettingsGroup):
    """How access and refresh tokens travel: bearer tokens, cookies, or both.

    At least one of the two transports must be on.
    """

    bearer_transport: bool = True
    """Mount the `/auth/jwt/...` routes and accept access tokens in the `Authorization: Bearer`
    header."""

    cookie_transport: bool = False
    """Mount the `/auth/cookie/...` routes and accept the access token from its `HttpOnly`
    cookie; unsafe requests authenticated by cookie then need the CSRF token. Can be on
    together with bearer transport. See [Use cookies](../how-to/cookie-transport.md)."""

    cookie_secure: bool = True
    """Mark the kit's cookies `Secure` and give their names the `__Host-` prefix. Turn off only
    for local development over plain `http`."""

    cookie_samesite: Literal["lax", "strict"] = "lax"
    """The `SameSite` attribute of the kit's cookies."""

    csrf_trusted_origins: list[str] = Field(default_factory=list)
    """Origins besides the app's own that may send cookie-authenticated unsafe requests, for
    example `'["http://localhost:5173"]'`."""

    @model_validator(mode="after")
    def _some_transport(self) -> "TransportSettings":
        if not (self.bearer_transport or self.cookie_transport):
            raise ValueError("turn on bearer_transport or cookie_transport (or both)")
        return self


class RateLimitSettings(SettingsGroup):
    """Rate limits and lockout. Each limit is `COUNT/SECONDS`, two whole numbers of at least 1:
    `5/900` allows 5 events per 900 seconds. See
    [Tune rate limits and lockout](../how-to/rate-limits.md).
    """

    rate_limit_enabled: bool = True
    """Apply the limits below. `false` turns them all off."""

    rate_limit_login_ip: LimitText = "100/900"
    """Failed logins per client IP, whatever the account."""

    rate_limit_login_account_ip: LimitText = "5/900"
    """Failed logins per account and client IP."""

    rate_limit_login_account: LimitText = "20/3600"
    """Failed logins per account, from every IP except those that logged into the account in
    the last `USERKIT_LOGIN_TRUSTED_IP_DAYS` days."""

    login_trusted_ip_days: int = Field(default=30, ge=0, le=365)
    """How long a successful login exempts its IP from the per-account limit. `0`: never."""

    rate_limit_register_ip: LimitText = "20/3600"
    """Registration requests per client IP."""

    rate_limit_forgot_password_account: LimitText = "3/3600"  # noqa: S105 - a limit
    """Password-reset requests per address."""

    rate_limit_forgot_password_ip: LimitText = "30/3600"  # noqa: S105 - a limit
    """Password-reset requests per client IP."""

    rate_limit_verify_account: LimitText = "3/3600"
    """Verification requests per address."""

    rate_limit_verify_ip: LimitText = "30/3600"
    """Verification requests per client IP."""

    rate_limit_register_notice_account: LimitText = "3/86400"
    """E-mails telling the owner of an address that someone tried to register it
    (`prevent_enumeration`), per address; past it they are dropped."""

    trusted_proxies: list[str] = Field(default_factory=list)
    """Reverse proxies whose `Forwarded` or `X-Forwarded-For` headers are believed, for example
    `'["10.0.0.0/8"]'`. Empty: the connection's peer is the client. See [Behind a reverse
    proxy](../how-to/rate-limits.md#behind-a-reverse-proxy)."""

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value


class MfaSettings(SettingsGroup):
    """Second factors (TOTP authenticator apps, passkeys and recovery codes) and step-up
    authentication. See [Turn on second factors](../how-to/second-factors.md).
    """

    mfa_enabled: bool = False
    """Mount the `/auth/mfa/...` and passkey routes: users enrol an authenticator app or a
    passkey, a user with a second factor logs in in two steps, and a passkey alone logs in.
    Needs the `[mfa]` extra."""

    mfa_encryption_key: SecretStr | None = None
    """The key that encrypts TOTP secrets at rest (AES-256-GCM) and keys the hashes of
    recovery codes: at least 32 random bytes, e.g. `openssl rand -hex 32`. Unset: derived
    from `secret_key` (then rotating that key needs its old value in `previous_secret_keys`).
    Required with `RS256`, `ES256` and `EdDSA`."""

    previous_mfa_encryption_keys: list[SecretStr] = Field(default_factory=list)
    """Earlier values of `mfa_encryption_key`, still read (secrets are re-encrypted with the
    current key when next used), as a JSON list."""

    mfa_issuer: str | None = Field(default=None, min_length=1, max_length=64)
    """The name authenticator apps show beside the account. Unset: the app's title."""

    mfa_challenge_ttl: int = Field(default=300, ge=30, le=1800)
    """Lifetime in seconds of the challenge a password login answers with when the user has
    a second factor: the time to type the code."""

    mfa_recovery_codes: int = Field(default=10, ge=4, le=20)
    """How many recovery codes a user gets at enrolment and at each regeneration."""

    webauthn_rp_id: str | None = Field(default=None, min_length=1, max_length=253)
    """The passkeys' relying party id: your site's domain, e.g. `example.com` (passkeys then
    work on it and its subdomains). Unset: the host of each request, for development only
    (a proxy could name another)."""

    webauthn_origins: list[str] = Field(default_factory=list)
    """The origins your pages use passkeys from, e.g. `'["https://app.example.com"]'`. Empty:
    `https://<webauthn_rp_id>`, or the request's own origin without `webauthn_rp_id`."""

    fresh_max_age: int = Field(default=300, gt=0, le=86_400)
    """How recent, in seconds, an authentication must be for `current_user(fresh=True)` and
    the routes that change second factors. A login or a re-authentication
    (`POST /auth/jwt/reauthenticate`, `/auth/cookie/reauthenticate`) is one."""

    @field_validator("mfa_encryption_key")
    @classmethod
    def _refuse_weak_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @field_validator("previous_mfa_encryption_keys")
    @classmethod
    def _refuse_weak_previous_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for old in value:
            check_secret(old.get_secret_value())
        return value


GROUPS: dict[str, type[SettingsGroup]] = {
    "tokens": TokenSettings,
    "database": DatabaseSettings,
    "passwords": PasswordSettings,
    "accounts": AccountSettings,
    "mail": MailSettings,
    "transport": TransportSettings,
    "rate_limits": RateLimitSettings,
    "mfa": MfaSettings,
}
"""Each group of settings, by the attribute of `UserKitSettings` that returns it."""


class UserKitSettings(
    TokenSettings,
    DatabaseSettings,
    PasswordSettings,
    AccountSettings,
    MailSettings,
    TransportSettings,
    RateLimitSettings,
    MfaSettings,
    BaseSettings,
):
    """Configuration of one mounted kit.

    Every field can be given as a keyword argument or through the environment
    variable named `USERKIT_` + the field name in capitals, for example
    `USERKIT_SECRET_KEY`. The fields come in groups (`tokens`, `database`,
    `passwords`, `accounts`, `mail`, `transport`, `rate_limits`, `mfa`); a group can also be
    given whole, as `UserKitSettings(passwords=PasswordSettings(bcrypt_rounds=4))`,
    and read whole, as `settings.passwords.bcrypt_rounds`. The instance is frozen
    once built.
    """

    model_config = SettingsConfigDict(
        env_prefix="USERKIT_",
        frozen=True,
        extra="forbid",
        validate_default=True,
        use_attribute_docstrings=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _flatten_groups(cls, data: Any) -> Any:
        """Accept a group given whole: its fields join the flat ones."""
        if not isinstance(data, dict) or not GROUPS.keys() & data.keys():
            return data
        flat = {k: v for k, v in data.items() if k not in GROUPS}
        for name in GROUPS.keys() & data.keys():
            group = data[name]
            values = group.model_dump(exclude_unset=True) if isinstance(group, BaseModel) else group
            if not isinstance(values, dict):
                raise ValueError(f"{name} must be a {GROUPS[name].__name__} or a mapping")
            twice = sorted(flat.keys() & values.keys())
            if twice:
                raise ValueError(f"{', '.join(twice)} given both alone and in {name}")
            flat.update(values)
        return flat

    def _group(self, group: type[_G]) -> _G:
        values = {name: getattr(self, name) for name in group.model_fields}
        return cast(_G, group.model_construct(**values))

    @property
    def tokens(self) -> TokenSettings:
        """The keys and tokens settings."""
        return self._group(TokenSettings)

    @property
    def database(self) -> DatabaseSettings:
        """The database settings."""
        return self._group(DatabaseSettings)

    @property
    def passwords(self) -> PasswordSettings:
        """The passwords settings."""
        return self._group(PasswordSettings)

    @property
    def accounts(self) -> AccountSettings:
        """The accounts settings."""
        return self._group(AccountSettings)

    @property
    def mail(self) -> MailSettings:
        """The e-mail settings."""
        return self._group(MailSettings)

    @property
    def transport(self) -> TransportSettings:
        """The transport settings."""
        return self._group(TransportSettings)

    @property
    def rate_limits(self) -> RateLimitSettings:
        """The rate limits settings."""
        return self._group(RateLimitSettings)

    @property
    def mfa(self) -> MfaSettings:
        """The second-factor settings."""
        return self._group(MfaSettings)
