"""Settings of a mounted kit, read from `USERKIT_*` environment variables.

Nothing here runs at import time: the environment is read when
`include_user_router()` builds a `UserKitSettings()`, or when the host builds one.
"""

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fastapi_userkit._client_ip import parse_networks
from fastapi_userkit.ratelimit import Limit

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


class UserKitSettings(BaseSettings):
    """Configuration of one mounted kit.

    Every field can be given as a keyword argument or through the environment
    variable named `USERKIT_` + the field name in capitals, for example
    `USERKIT_SECRET_KEY`. The instance is frozen once built.
    """

    model_config = SettingsConfigDict(
        env_prefix="USERKIT_", frozen=True, extra="forbid", validate_default=True
    )

    secret_key: SecretStr | None = None
    """Key that signs access tokens with an HMAC algorithm (`HS256`, `HS384`,
    `HS512`). At least 32 random bytes, and at least as long as the hash output.
    When unset and the database is SQLite, an ephemeral key is generated with a
    warning; with any other database an unset key is a `ConfigurationError`.
    Not needed with an asymmetric `jwt_algorithm`."""

    previous_secret_keys: list[SecretStr] = Field(default_factory=list)
    """Older HMAC keys, still accepted to verify access tokens but never used to
    sign: put the old `secret_key` here when you rotate it, and remove it once
    its tokens have expired. From the environment, a JSON list:
    `USERKIT_PREVIOUS_SECRET_KEYS='["old-key"]'`."""

    database_url: str = "sqlite+aiosqlite:///./userkit.db"
    """SQLAlchemy async URL used when `include_user_router()` gets no `database=`."""

    db_pool_size: int | None = Field(default=None, ge=1, le=1000)
    """Connections kept open by the engine the kit creates (SQLAlchemy default: 5)."""

    db_max_overflow: int | None = Field(default=None, ge=0, le=1000)
    """Extra connections allowed under load (SQLAlchemy default: 10)."""

    db_pool_timeout: float | None = Field(default=None, gt=0, le=300)
    """Seconds to wait for a free connection before answering 503 (default: 30)."""

    db_pool_recycle: int | None = Field(default=None, gt=0)
    """Replace connections older than this many seconds (e.g. below a proxy's idle cut)."""

    db_pool_pre_ping: bool = False
    """Test each connection before use: survives silent drops at the cost of one
    round trip per request. Without it, a dropped connection gives one 503 and the
    pool is renewed."""

    create_tables: bool | None = None
    """Create the user table at startup when it is missing. `None` (default)
    means: only when the database is SQLite. Use Alembic for anything else."""

    access_token_ttl: int = Field(default=900, gt=0, le=86_400)
    """Lifetime of an access token, in seconds."""

    refresh_token_ttl: int = Field(default=1_209_600, gt=0)
    """Lifetime of each refresh token, in seconds (14 days): a session unused for
    this long ends. Every refresh issues a new token with a new lifetime."""

    session_ttl: int = Field(default=2_592_000, gt=0)
    """Absolute lifetime of a login session, in seconds (30 days): refreshing never
    extends a session past it."""

    jwt_algorithm: JWTAlgorithm = "HS256"
    """The one algorithm access tokens are signed and verified with. Never taken
    from the token itself. `HS*` use `secret_key`; `RS256` (RSA, 2048 bits or
    more), `ES256` (P-256) and `EdDSA` (Ed25519) use `jwt_private_key` or
    `jwt_private_key_file` and publish their public keys at `/auth/jwks.json`."""

    jwt_private_key: SecretStr | None = None
    """PEM text of the unencrypted private key that signs access tokens with an
    asymmetric `jwt_algorithm`. Give this or `jwt_private_key_file`, not both."""

    jwt_private_key_file: Path | None = None
    """Path to a PEM file holding the private signing key (see `jwt_private_key`).
    Read when `include_user_router()` runs."""

    jwt_public_key_files: list[Path] = Field(default_factory=list)
    """PEM public keys of earlier signing keys, still accepted to verify access
    tokens (and published in the JWKS) but never used to sign. From the
    environment, a JSON list of paths."""

    jwt_audience: str = Field(default="fastapi-userkit", min_length=1)
    """`aud` claim of access tokens; tokens for another audience are refused."""

    jwt_issuer: str = Field(default="fastapi-userkit", min_length=1)
    """`iss` claim of access tokens; tokens from another issuer are refused."""

    bcrypt_rounds: int = Field(default=12, ge=4, le=31)
    """bcrypt cost factor. Tests may use 4; production should keep 12 or more."""

    hash_concurrency: int = Field(default_factory=_default_hash_concurrency, ge=1, le=64)
    """How many password hashes may run at once in the kit's thread pool."""

    require_verified_login: bool = False
    """Refuse logins of users whose e-mail address is not verified yet."""

    password_min_length: int = Field(default=8, ge=1)
    """Shortest password accepted, in characters (NIST 800-63B: at least 8)."""

    password_max_length: int = Field(default=128, ge=8, le=4096)
    """Longest password accepted, in characters. Nothing is truncated below it."""

    password_common_list: bool = True
    """Refuse the 20,000 most common passwords of the bundled list (NIST 800-63B
    blocklist), compared case-insensitively, and passwords built from predictable
    pieces (repetitions, sequences, keyboard patterns, years, the service's name:
    the app's `title` and `mail_from_name`)."""

    password_require_lower: bool = False
    """Require a lower-case letter. NIST 800-63B advises against composition rules."""

    password_require_upper: bool = False
    """Require an upper-case letter (a composition rule; off by default)."""

    password_require_digit: bool = False
    """Require a digit (a composition rule; off by default)."""

    password_require_symbol: bool = False
    """Require a character that is not a letter or digit (a composition rule; off
    by default)."""

    max_body_size: int = Field(default=65_536, ge=1024)
    """Largest request body the kit's routes accept, in bytes (413 above it)."""

    reset_password_token_ttl: int = Field(default=3600, gt=0, le=604_800)
    """Lifetime of a password-reset token, in seconds."""

    verify_token_ttl: int = Field(default=3600, gt=0, le=2_592_000)
    """Lifetime of an e-mail verification token, in seconds."""

    email_change_token_ttl: int = Field(default=3600, gt=0, le=604_800)
    """Lifetime of the link confirming a new e-mail address, in seconds."""

    prevent_enumeration: bool = False
    """Make registration answer `202` alike for new and existing addresses; the
    owner of an existing address gets a notice by e-mail instead."""

    frontend_url: str | None = None
    """Base URL of the pages that receive the e-mailed links, e.g.
    `https://app.example.com`. Links are never built from the request's `Host`."""

    reset_password_path: str = "/reset-password?token={token}"  # noqa: S105 - a path
    """Path of the reset page, appended to `frontend_url`."""

    verify_email_path: str = "/verify-email?token={token}"
    """Path of the verification page, appended to `frontend_url`."""

    email_change_path: str = "/confirm-email?token={token}"
    """Path of the page confirming a new address, appended to `frontend_url`."""

    smtp_host: str | None = None
    """SMTP server; when set (and no `email_sender=` is given) mail goes out by SMTP
    instead of being logged."""

    smtp_port: int = Field(default=587, gt=0, lt=65_536)
    """SMTP port (587 for STARTTLS, 465 for implicit TLS)."""

    smtp_username: str | None = None
    """SMTP login, if the server needs one."""

    smtp_password: SecretStr | None = None
    """SMTP password."""

    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS."""

    smtp_ssl: bool = False
    """Connect with implicit TLS (port 465) instead of STARTTLS."""

    mail_from: str = "no-reply@localhost"
    """Sender address of the kit's e-mails."""

    mail_from_name: str | None = None
    """Sender display name of the kit's e-mails."""

    bearer_transport: bool = True
    """Accept access tokens in the `Authorization: Bearer` header and mount the
    `/auth/jwt/...` routes."""

    cookie_transport: bool = False
    """Mount `/auth/cookie/...` and accept the access token from an HttpOnly cookie
    (unsafe requests then need the CSRF token). Can be on with bearer at once."""

    cookie_secure: bool = True
    """Mark cookies `Secure` and give them the `__Host-` prefix. Turn off only for
    local development over plain http."""

    cookie_samesite: Literal["lax", "strict"] = "lax"
    """`SameSite` attribute of the kit's cookies."""

    csrf_trusted_origins: list[str] = Field(default_factory=list)
    """Origins besides the app's own allowed to send cookie-authenticated unsafe
    requests, e.g. `["https://app.example.com"]` (JSON list in the environment)."""

    redis_url: str | None = None
    """Redis shared by every worker, e.g. `redis://127.0.0.1:6379/0` (extra
    `[redis]`). When set, login sessions and rate limits live there unless
    `session_store=` / `rate_limiter=` say otherwise."""

    redis_prefix: str = Field(default="userkit:", min_length=1, max_length=64)
    """Prefix of every key the kit writes to `redis_url` (rate limits add `rl:`)."""

    trusted_proxies: list[str] = Field(default_factory=list)
    """Addresses or CIDRs of reverse proxies whose `X-Forwarded-For` / `Forwarded`
    headers are believed (JSON list). Empty: the socket peer is the client."""

    rate_limit_enabled: bool = True
    """Limit login failures, registrations, and reset and verification requests."""

    rate_limit_login_ip: str = "100/900"
    """Failed logins per client IP, as COUNT/SECONDS, whatever the account."""

    rate_limit_login_account_ip: str = "5/900"
    """Failed logins per account and client IP."""

    rate_limit_login_account: str = "20/3600"
    """Failed logins per account from every IP. IPs that logged into the account
    successfully in the last `login_trusted_ip_days` are exempt, so an attacker
    cannot lock the owner out of their usual networks."""

    login_trusted_ip_days: int = Field(default=30, ge=0, le=365)
    """How long a successful login exempts its IP from the per-account limit."""

    rate_limit_register_ip: str = "20/3600"
    """Registration attempts per client IP."""

    rate_limit_forgot_password_account: str = "3/3600"  # noqa: S105 - a limit
    """Password-reset requests per address."""

    rate_limit_forgot_password_ip: str = "30/3600"  # noqa: S105 - a limit
    """Password-reset requests per client IP."""

    rate_limit_verify_account: str = "3/3600"
    """Verification requests per address."""

    rate_limit_verify_ip: str = "30/3600"
    """Verification requests per client IP."""

    rate_limit_register_notice_account: str = "3/86400"
    """E-mails telling the owner of an address that someone tried to register it
    (with `prevent_enumeration`), per address; past it they are dropped, so
    registrations from many IPs cannot flood an inbox."""

    @model_validator(mode="after")
    def _some_transport(self) -> "UserKitSettings":
        if not (self.bearer_transport or self.cookie_transport):
            raise ValueError("turn on bearer_transport or cookie_transport (or both)")
        return self

    @model_validator(mode="after")
    def _secret_fits_algorithm(self) -> "UserKitSettings":
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

    @field_validator("reset_password_path", "verify_email_path", "email_change_path")
    @classmethod
    def _one_token_placeholder(cls, value: str) -> str:
        if value.count("{token}") != 1 or value.replace("{token}", "").count("{") > 0:
            raise ValueError("must contain `{token}` exactly once and no other braces")
        return value

    @field_validator(
        "rate_limit_login_ip",
        "rate_limit_login_account_ip",
        "rate_limit_login_account",
        "rate_limit_register_ip",
        "rate_limit_forgot_password_account",
        "rate_limit_forgot_password_ip",
        "rate_limit_verify_account",
        "rate_limit_verify_ip",
        "rate_limit_register_notice_account",
    )
    @classmethod
    def _limit(cls, value: str) -> str:
        try:
            Limit.parse(value)
        except ValueError as exc:
            raise ValueError("must be COUNT/SECONDS, e.g. 5/900") from exc
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @field_validator("frontend_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")) or any(c in value for c in "\r\n "):
            raise ValueError("must be an http(s) URL such as https://app.example.com")
        return value.rstrip("/")

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
