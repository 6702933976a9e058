"""Pydantic v2 models of the HTTP surface. Hosts subclass the user schemas to
expose their own columns.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import email_validator
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    create_model,
    model_validator,
)

from fastapi_userkit._email import MAX_LOCAL_PART_OCTETS, validate_address
from fastapi_userkit.db.models import EMAIL_MAX_LENGTH
from fastapi_userkit.exceptions import ConfigurationError
from fastapi_userkit.roles import RoleName, Scope

__all__ = [
    "PRIVILEGED_FIELDS",
    "BearerResponse",
    "CodeRequest",
    "CurrentPassword",
    "Email",
    "EmailChangeRequest",
    "EmailRequest",
    "LoginRequest",
    "MfaLoginRequest",
    "MfaStatus",
    "PasskeyAdded",
    "PasskeyAssertion",
    "PasskeyOptions",
    "PasskeyRead",
    "PasskeyRegistration",
    "PasswordChange",
    "Reauthentication",
    "RecoveryCodes",
    "RefreshRequest",
    "ResetPasswordRequest",
    "RoleCreate",
    "RoleRead",
    "RoleUpdate",
    "SessionRead",
    "TokenRequest",
    "TokenResponse",
    "TotpEnrolment",
    "UserAdminUpdate",
    "UserCreate",
    "UserRead",
    "UserRoles",
    "UserSchemas",
    "UserUpdate",
]

PRIVILEGED_FIELDS = frozenset(
    {
        "id",
        "is_active",
        "is_superuser",
        "is_verified",
        "hashed_password",
        "email_key",
        "email_skeleton",
        "token_version",
        "created_at",
        "roles",
        "scopes",
    }
)
"""Fields a user can never set on their own account (roles and scopes are granted
through the admin routes only)."""


class UserRead(BaseModel):
    """A user as the API shows it. Never contains the password hash."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID | int
    email: str
    is_active: bool = True
    is_superuser: bool = False
    is_verified: bool = False


def _bare_address(value: Any) -> Any:
    return validate_address(value) if isinstance(value, str) else value


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


ADDRESS_MAX_LENGTH = 254
"""The longest address e-mail validation accepts (RFC 5321's 256-octet path, less
its angle brackets); the column holds 320 characters."""
ADDRESS_PATTERN = (
    rf"^[^<>@]{{1,{MAX_LOCAL_PART_OCTETS}}}@(?!(?:.*\.)?(?:"
    + "|".join(_any_case(name) for name in email_validator.SPECIAL_USE_DOMAIN_NAMES)
    + r")\.?$)[^<>@]+$"
)
"""What the published schema says of an address beyond `format: email`: no display
name, a local part of at most 64 characters, and no special-use domain (`.test`,
`.localhost`, ...), which cannot receive mail and which validation refuses."""

Email = Annotated[
    EmailStr,
    BeforeValidator(_bare_address),
    Field(json_schema_extra={"pattern": ADDRESS_PATTERN}),
]
"""An e-mail address as the kit accepts it: valid, on a domain that can receive
mail, without a display name (`Eve <eve@example.com>` is refused, not stored as
`eve@example.com`), and a local part of at most 64 bytes. Use it in host schemas
for addresses."""


_NOT_STORED = frozenset({"password", "current_password", "new_password"})


def _refuse_nul(values: Any) -> Any:
    if isinstance(values, dict):
        for name, value in values.items():
            if name not in _NOT_STORED and isinstance(value, str) and "\x00" in value:
                raise ValueError(f"{name} must not contain NUL characters")
    return values


NO_NUL = r"^[^\x00]*$"
"""A pattern for text that reaches the database: anything but NUL."""


class _StoredFields(BaseModel):
    """Refuses NUL characters in every field that reaches the database (some
    databases reject them, which would otherwise surface as a 500).
    """

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, values: Any) -> Any:
        return _refuse_nul(values)


class UserCreate(_StoredFields):
    """Registration body: only what a client may choose. Unknown fields are a 422,
    so `is_superuser` and friends can never be smuggled in.
    """

    model_config = ConfigDict(
        extra="forbid",
        # What Swagger UI's "Try it out" prefills: usable as it is, then log in with it.
        json_schema_extra={
            "examples": [{"email": "alice@example.com", "password": "a long passphrase"}]
        },
    )

    email: Email = Field(max_length=ADDRESS_MAX_LENGTH)
    password: str


class UserUpdate(_StoredFields):
    """Body of `PATCH /users/me`. Changing `email` or `password` needs
    `current_password`; privileged fields are a 422.
    """

    model_config = ConfigDict(extra="forbid")

    email: Email | None = Field(default=None, max_length=ADDRESS_MAX_LENGTH)
    password: str | None = None
    current_password: str | None = None


class UserAdminUpdate(_StoredFields):
    """Body of `PATCH /users/{id}` (superusers): profile fields and the flags."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = Field(default=None, max_length=ADDRESS_MAX_LENGTH)
    password: str | None = None
    current_password: str | None = None
    """Needed with `email` or `password` when the superuser edits their own account."""
    # Strict: lax mode would store `0`, `1` or `"yes"` in a privileged flag.
    is_active: StrictBool | None = None
    is_superuser: StrictBool | None = None
    is_verified: StrictBool | None = None


class LoginRequest(BaseModel):
    """JSON login body (the OAuth2 form is accepted too)."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH)
    password: str


class BearerResponse(BaseModel):
    """Token response of the login route (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    """Seconds until the access token expires."""


class TokenResponse(BearerResponse):
    """Token response with the refresh token of the new login session."""

    refresh_token: str
    """Opaque token for `POST /auth/jwt/refresh`; single use."""


class RefreshRequest(BaseModel):
    """JSON body of `POST /auth/jwt/refresh`."""

    model_config = ConfigDict(extra="forbid")

    refresh_token: str
    """Any string: one that is not a live refresh token is refused as a bad token
    (401), whatever its length or shape; the request's size is bounded instead."""


class PasswordChange(BaseModel):
    """Body of `POST /users/me/password`."""

    model_config = ConfigDict(extra="forbid")

    current_password: str
    new_password: str


class EmailRequest(BaseModel):
    """Body of `POST /auth/forgot-password` and `POST /auth/request-verify-token`."""

    model_config = ConfigDict(extra="forbid")

    email: Email = Field(max_length=ADDRESS_MAX_LENGTH)


class TokenRequest(BaseModel):
    """Body carrying one e-mailed token (`/auth/verify`, `/users/me/email/confirm`)."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=8192)


class ResetPasswordRequest(TokenRequest):
    """Body of `POST /auth/reset-password`."""

    password: str


class EmailChangeRequest(_StoredFields):
    """Body of `POST /users/me/email`."""

    model_config = ConfigDict(extra="forbid")

    current_password: str
    new_email: Email = Field(max_length=ADDRESS_MAX_LENGTH)


class CurrentPassword(BaseModel):
    """Body of `DELETE /users/me`."""

    model_config = ConfigDict(extra="forbid")

    current_password: str


class SessionRead(BaseModel):
    """One of the caller's login sessions."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    user_agent: str | None
    ip: str | None
    current: bool = False
    """Whether this is the session of the token making the request."""


_SCOPES_FIELD: Any = Field(
    default_factory=list,
    max_length=100,
    description="The scopes the role grants.",
    examples=[["items:read", "items:write"]],
)


class RoleRead(BaseModel):
    """A role and the scopes it grants."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    description: str
    scopes: list[str]


class RoleUpdate(BaseModel):
    """A role's description and exactly the scopes it grants (`PUT /roles/{name}`)."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(default="", max_length=255, pattern=NO_NUL)
    """Any text but NUL, which some databases refuse (the schema says so, too)."""
    scopes: list[Scope] = _SCOPES_FIELD


class RoleCreate(RoleUpdate):
    """A new role (`POST /roles`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "editor", "description": "Edits items", "scopes": ["items:write"]}
            ]
        },
    )

    name: RoleName


class UserRoles(BaseModel):
    """The roles a user holds and the scopes they grant (superusers hold every
    scope whatever their roles).
    """

    roles: list[str]
    scopes: list[str]


class PasskeyAssertion(BaseModel):
    """A passkey's answer to a challenge: what `navigator.credentials.get()` gave
    (as JSON, e.g. with `PublicKeyCredential.toJSON()`), and the token of the options
    it answered.
    """

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=8192)
    """The `token` of `POST /auth/passkey/options`."""
    credential: dict[str, Any]
    """The `PublicKeyCredential`, as JSON (`id`, `rawId`, `type`, `response`)."""


class MfaLoginRequest(BaseModel):
    """The second step of a login: the challenge and a code, or a passkey."""

    model_config = ConfigDict(extra="forbid")

    mfa_token: str = Field(min_length=1, max_length=8192)
    """The `mfa_token` of the password step's `LOGIN_MFA_REQUIRED` answer."""
    code: str | None = Field(default=None, min_length=1, max_length=64, examples=["123456"])
    """A code from the authenticator app, or an unused recovery code."""
    passkey: PasskeyAssertion | None = None
    """Instead of a code: one of the user's passkeys."""

    @model_validator(mode="after")
    def _one_proof(self) -> "MfaLoginRequest":
        if (self.code is None) == (self.passkey is None):
            raise ValueError("give either code or passkey")
        return self


class CodeRequest(BaseModel):
    """A code from the authenticator app."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64, examples=["123456"])


class Reauthentication(BaseModel):
    """The proof of `POST .../reauthenticate`: the password and, when the user has a
    second factor, a code or a passkey; or a passkey alone.
    """

    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(default=None, json_schema_extra={"format": "password"})
    code: str | None = Field(default=None, min_length=1, max_length=64)
    """A code from the authenticator app or a recovery code (users with a second factor)."""
    passkey: PasskeyAssertion | None = None
    """One of the user's passkeys: with user verification it proves two factors."""


class PasskeyOptions(BaseModel):
    """What `navigator.credentials.create()` or `.get()` needs, and the token to send
    back with its answer (it carries the challenge).
    """

    options: dict[str, Any]
    """`publicKey` options, as JSON (`PublicKeyCredential.parseCreationOptionsFromJSON()`
    or `parseRequestOptionsFromJSON()` reads them)."""
    token: str


class PasskeyRegistration(BaseModel):
    """A new passkey: what `navigator.credentials.create()` gave, and its options' token."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=8192)
    credential: dict[str, Any]
    name: str = Field(default="Passkey", min_length=1, max_length=64)
    """A name to tell it from the user's others ("Laptop", "Phone")."""


class PasskeyRead(BaseModel):
    """One of the caller's passkeys."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    """The credential id, base64url."""
    name: str
    created_at: datetime
    last_used_at: datetime | None


class PasskeyAdded(BaseModel):
    """A registered passkey, and the recovery codes when it is the first second factor."""

    passkey: PasskeyRead
    recovery_codes: list[str] | None
    """Shown this once; `null` when the user had a second factor already."""


class MfaStatus(BaseModel):
    """The caller's second factors."""

    totp: bool
    """An authenticator app is enabled: logins take a code."""
    totp_pending: bool
    """An enrolment was started and waits for its first code."""
    passkeys: int
    """How many passkeys the user has."""
    recovery_codes_left: int


class TotpEnrolment(BaseModel):
    """What an authenticator app needs; shown once, until the first code confirms it."""

    secret: str
    """The base32 secret, to type in by hand."""
    uri: str
    """The `otpauth://` provisioning URI."""
    qr_code: str
    """The URI as a QR code: an SVG image in a `data:` URI."""


class RecoveryCodes(BaseModel):
    """New recovery codes, shown this once: each logs in once instead of a TOTP code."""

    recovery_codes: list[str]


@dataclass(frozen=True)
class UserSchemas:
    """The three user schemas a kit uses; pass your subclasses to expose your
    own columns.

    Example:
        ```python
        class MyUserRead(UserRead):
            display_name: str | None

        include_user_router(app, schemas=UserSchemas(read=MyUserRead, ...))
        ```
    """

    read: type[UserRead] = UserRead
    create: type[UserCreate] = UserCreate
    update: type[UserUpdate] = UserUpdate

    def __post_init__(self) -> None:
        for schema in (self.create, self.update):
            privileged = sorted(PRIVILEGED_FIELDS & schema.model_fields.keys())
            if privileged:
                raise ConfigurationError(
                    f"{schema.__name__} declares {', '.join(privileged)}: users could set "
                    "them on their own account. Remove them from the self-service schema."
                )


PASSWORD_FIELDS = ("password", "new_password")
"""Fields that carry a new password, whose policy bounds the schema publishes."""


def with_password_lengths(
    schema: type[BaseModel], lengths: tuple[int, int] | None
) -> type[BaseModel]:
    """A subclass of *schema* whose new-password fields publish *lengths* in the
    OpenAPI schema (`minLength`, `maxLength`) without enforcing them there: the
    password policy still answers with every reason (400), not a bare 422.
    *schema* itself when the lengths are unknown (a host's own policy).
    """
    if lengths is None:
        return schema
    low, high = lengths
    fields: dict[str, Any] = {}
    for name in PASSWORD_FIELDS:
        field = schema.model_fields.get(name)
        if field is None:
            continue
        extra: dict[str, Any] = {"minLength": low, "maxLength": high, "format": "password"}
        fields[name] = (
            field.annotation,
            Field(default=field.default, json_schema_extra=extra, description=field.description),
        )
    if not fields:
        return schema
    bounded: type[BaseModel] = create_model(
        schema.__name__, __base__=schema, __module__=schema.__module__, **fields
    )
    bounded.__doc__ = schema.__doc__
    return bounded
