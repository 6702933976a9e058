"""Access tokens: short-lived JWTs signed with the newest key of the kit's key ring.

Decoding is strict: the algorithm comes from the settings (never from the token),
the key from the ring by the token's `kid`, `exp`, `iat`, `sub`, `aud`, `iss`,
`jti`, `sid` and the token version are required, the `typ` header must be
`at+jwt` (RFC 9068) and the `type` claim `access`, so no other kind of token the
kit issues can pass as an access token. Every failure becomes `BadTokenError`;
the cause is logged at debug level only.

A token that passed every check is remembered, by its SHA-256, with its claims
(`VERIFIED_CACHE_SIZE` tokens at most, least recently used first out): the next
request carrying it skips the signature and JSON work until the token's `exp`.
Nothing about revocation is cached: the session and token version are read on
every request.
"""

import hashlib
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi_userkit._keys import KeyRing
from fastapi_userkit.exceptions import BadTokenError

logger = logging.getLogger("fastapi_userkit._access_tokens")

ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret
ACCESS_TOKEN_TYP_HEADER = "at+jwt"  # noqa: S105 - a media type, not a secret
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "aud", "iss", "jti", "sid"]
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: Tokens longer than this are refused before any parsing.
MAX_TOKEN_LENGTH = 8192
#: How many verified access tokens each codec remembers.
VERIFIED_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """The verified claims of an access token."""

    subject: str
    """`sub`: the user's id as a string."""
    token_version: int
    """`ver`: the user's token version when the token was issued."""
    session_id: str
    """`sid`: the login session the token belongs to."""
    token_id: str
    """`jti`: unique id of this token."""
    issued_at: datetime
    expires_at: datetime
    auth_time: datetime | None = None
    """`auth_time` (as in OpenID Connect): when the user last proved who they are in
    this session (the login, or a re-authentication); `None` in tokens without it."""


class AccessTokenCodec:
    """Issues and verifies access tokens.

    Args:
        keys: The key ring: it signs with its newest key, verifies with the key
            a token's `kid` names, and fixes the single accepted algorithm.
        audience: Value of `aud` written and required.
        issuer: Value of `iss` written and required.
        ttl: Lifetime in seconds.
    """

    def __init__(self, *, keys: KeyRing, audience: str, issuer: str, ttl: int) -> None:
        self.keys = keys
        self.algorithm = keys.algorithm
        self.audience = audience
        self.issuer = issuer
        self.ttl = ttl
        self._verified: OrderedDict[bytes, AccessClaims] = OrderedDict()

    def __repr__(self) -> str:
        return f"AccessTokenCodec(algorithm={self.algorithm!r}, keys='**********')"

    def issue(
        self,
        subject: str,
        token_version: int,
        session_id: str,
        now: datetime | None = None,
        *,
        auth_time: datetime | None = None,
    ) -> str:
        """Return a signed access token for the user *subject* in session *session_id*,
        whose user authenticated at *auth_time* (default: now).
        """
        issued = now or datetime.now(UTC)
        payload: dict[str, Any] = {
            "sub": subject,
            "aud": self.audience,
            "iss": self.issuer,
            "iat": issued,
            "exp": issued + timedelta(seconds=self.ttl),
            "jti": secrets.token_urlsafe(16),
            "type": ACCESS_TOKEN_TYPE,
            "ver": token_version,
            "sid": session_id,
            "auth_time": int((auth_time or issued).timestamp()),
        }
        return self.keys.sign(payload, typ=ACCESS_TOKEN_TYP_HEADER)

    def read(self, token: str) -> AccessClaims:
        """Verify *token* and return its claims.

        Raises:
            BadTokenError: for any token that is not a valid, current access token
                of this kit.
        """
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise BadTokenError("token is empty or too long")
        digest = hashlib.sha256(token.encode()).digest()
        known = self._verified.get(digest)
        if known is not None:
            if time.time() < known.expires_at.timestamp():
                self._verified.move_to_end(digest)
                return known
            del self._verified[digest]  # expired: the full check below says so
        try:
            payload = self.keys.decode(
                token,
                typ=ACCESS_TOKEN_TYP_HEADER,
                audience=self.audience,
                issuer=self.issuer,
                require=_REQUIRED_CLAIMS,
            )
        except BadTokenError as exc:
            logger.debug("access token refused: %s", exc)
            raise
        claims = self._claims(payload)
        self._verified[digest] = claims
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return claims

    @staticmethod
    def _claims(payload: dict[str, Any]) -> AccessClaims:
        subject = payload.get("sub")
        version = payload.get("ver")
        token_id = payload.get("jti")
        session_id = payload.get("sid")
        if payload.get("type") != ACCESS_TOKEN_TYPE:
            raise BadTokenError("not an access token (type claim)")
        if not all(isinstance(value, str) for value in (subject, token_id, session_id)):
            raise BadTokenError("malformed sub, jti or sid")
        if not _SESSION_ID.fullmatch(str(session_id)):
            raise BadTokenError("malformed sid")
        if not isinstance(version, int) or isinstance(version, bool):
            raise BadTokenError("missing token version")
        auth_time = payload.get("auth_time")
        if auth_time is not None and (
            not isinstance(auth_time, int) or isinstance(auth_time, bool)
        ):
            raise BadTokenError("malformed auth_time")
        try:
            issued_at = datetime.fromtimestamp(payload["iat"], UTC)
            expires_at = datetime.fromtimestamp(payload["exp"], UTC)
            authenticated = (
                datetime.fromtimestamp(auth_time, UTC) if auth_time is not None else None
            )
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            raise BadTokenError("malformed timestamps") from exc
        return AccessClaims(
            subject=str(subject),
            token_version=version,
            session_id=str(session_id),
            token_id=str(token_id),
            issued_at=issued_at,
            expires_at=expires_at,
            auth_time=authenticated,
        )
