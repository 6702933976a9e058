"""Single-purpose tokens: password reset, e-mail verification and e-mail change
(sent by e-mail), and the second-factor challenge of a two-step login.

Each purpose has its own `typ` header (`userkit-reset+jwt`, ...) and audience
(`<jwt_audience>:reset`, ...), so no token passes for another kind, nor for an
access token. Every kind is bound to the account state it was issued for (see
`BOUND_FIELDS`): the address, the password hash and the token version. A password
change or reset, an address change and a token-version bump (logout-all,
deactivation) each kill every token issued before. The write that consumes a
token is conditioned on the same state, atomically, so a token is single-use and a
concurrent change of that state wins over it.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fastapi_userkit._access_tokens import MAX_TOKEN_LENGTH
from fastapi_userkit._keys import KeyRing
from fastapi_userkit.exceptions import BadTokenError

_REQUIRED = ["exp", "iat", "sub", "aud", "iss", "jti", "bind"]

BOUND_FIELDS = ("email_key", "hashed_password", "token_version")
"""The user columns every action token is bound to."""


class Purpose(StrEnum):
    """What an action token may be used for."""

    RESET_PASSWORD = "reset"  # noqa: S105 - a purpose name, not a secret
    VERIFY_EMAIL = "verify"
    CHANGE_EMAIL = "email-change"
    MFA_CHALLENGE = "mfa"
    """A password login waiting for its second factor; also bound to the user's
    second-factor state, so the first code accepted spends it."""
    PASSKEY_REGISTRATION = "passkey-registration"
    """The WebAuthn challenge of one passkey registration, for one user."""
    PASSKEY_ASSERTION = "passkey"
    """The WebAuthn challenge of one passkey assertion (a login, a second step, a
    re-authentication); bound to no user: the credential names its owner."""


def fingerprint(purpose: Purpose, state: str) -> str:
    """A short digest of the account *state* a token is bound to (never the state)."""
    digest = hashlib.sha256(f"fastapi-userkit:{purpose.value}:{state}".encode()).hexdigest()
    return digest[:32]


def bound_state(user: Any) -> dict[str, Any]:
    """The values of `BOUND_FIELDS` on *user*: what a token-consuming write expects."""
    return {name: getattr(user, name) for name in BOUND_FIELDS}


def account_state(user: Any) -> str:
    """The account state of *user* that action tokens are bound to, as one string."""
    return "\x00".join(str(value) for value in bound_state(user).values())


@dataclass(frozen=True, slots=True)
class ActionClaims:
    """The verified claims of an action token."""

    subject: str
    binding: str
    email: str | None
    """The address the token is about (verification: the address to verify;
    e-mail change: the new address)."""
    challenge: str | None = None
    """The WebAuthn challenge the token carries (base64url), for the passkey kinds."""

    def bound_to(self, purpose: Purpose, state: str) -> bool:
        """Whether the token was issued for this account *state*."""
        return hmac.compare_digest(self.binding, fingerprint(purpose, state))


class ActionTokenCodec:
    """Issues and verifies action tokens with the kit's key ring.

    Args:
        keys: The kit's key ring.
        audience: Base audience; each purpose appends `:<purpose>`.
        issuer: `iss` written and required.
    """

    def __init__(self, *, keys: KeyRing, audience: str, issuer: str) -> None:
        self.keys = keys
        self.audience = audience
        self.issuer = issuer

    def __repr__(self) -> str:
        return "ActionTokenCodec(keys='**********')"

    @staticmethod
    def _typ(purpose: Purpose) -> str:
        return f"userkit-{purpose.value}+jwt"

    def issue(
        self,
        purpose: Purpose,
        *,
        subject: str,
        state: str,
        ttl: int,
        email: str | None = None,
        challenge: str | None = None,
    ) -> str:
        """Return a token for *purpose*, bound to *state*, valid *ttl* seconds."""
        now = datetime.now(UTC)
        payload: dict[str, Any] = {
            "sub": subject,
            "aud": f"{self.audience}:{purpose.value}",
            "iss": self.issuer,
            "iat": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": secrets.token_urlsafe(16),
            "bind": fingerprint(purpose, state),
        }
        if email is not None:
            payload["email"] = email
        if challenge is not None:
            payload["chl"] = challenge
        return self.keys.sign(payload, typ=self._typ(purpose))

    def read(self, purpose: Purpose, token: str) -> ActionClaims:
        """Verify *token* for *purpose* and return its claims.

        Raises:
            BadTokenError: malformed, expired, foreign, or of another purpose.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise BadTokenError("token is empty or too long")
        payload = self.keys.decode(
            token,
            typ=self._typ(purpose),
            audience=f"{self.audience}:{purpose.value}",
            issuer=self.issuer,
            require=_REQUIRED,
        )
        subject, binding, email = payload.get("sub"), payload.get("bind"), payload.get("email")
        if not isinstance(subject, str) or not isinstance(binding, str):
            raise BadTokenError("malformed sub or bind")
        if email is not None and not isinstance(email, str):
            raise BadTokenError("malformed email")
        challenge = payload.get("chl")
        if challenge is not None and not isinstance(challenge, str):
            raise BadTokenError("malformed chl")
        return ActionClaims(subject=subject, binding=binding, email=email, challenge=challenge)
