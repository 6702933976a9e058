"""The key ring that signs and verifies the kit's JWTs.

A `KeyRing` holds one signing key and every key still accepted for verification,
each with a `kid`: for HMAC keys the first 16 hex digits of a domain-separated
SHA-256 of the key, for public keys their RFC 7638 thumbprint. Tokens are signed
with the newest key and verified with the key their `kid` names, with the one
algorithm of the settings (RFC 8725 §3.1); `alg`, `jwk`, `jku`, `x5u` and any
other header parameter are never trusted. Verification is strict about the form
too: a token must be a compact JWS of unpadded base64url (RFC 7515 §2, §7.1), so
each token has one spelling; `aud` must be the single expected string; `exp`,
`iat` and `nbf` must be integers. The kit's builder reads the keys from the
settings when `include_user_router()` runs, never at import.
"""

import base64
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jwt

from fastapi_userkit.exceptions import BadTokenError, ConfigurationError

if TYPE_CHECKING:
    from fastapi_userkit._asymmetric import PrivateKey, PublicKey

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
#: The only header parameters the kit writes; a token with any other is refused.
HEADER_PARAMETERS = frozenset({"alg", "typ", "kid"})
_HMAC_KID_CONTEXT = b"fastapi-userkit:hmac-kid:v1\x00"
#: Three segments of unpadded base64url: the only form of token the kit reads.
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: NumericDate claims: the kit writes integers and accepts nothing else.
_NUMERIC_DATES = ("exp", "iat", "nbf")


def hmac_kid(secret: bytes) -> str:
    """Return the `kid` of an HMAC key: a short id from which the key cannot be recovered."""
    return hashlib.sha256(_HMAC_KID_CONTEXT + secret).hexdigest()[:16]


class KeyRing:
    """One signing key and every key accepted for verification, found by `kid`.

    Args:
        algorithm: The single algorithm used to sign and verify.
        signing_key: HMAC key bytes, or the private key for an asymmetric algorithm.
        verification_keys: Older keys accepted for verification only (HMAC key
            bytes, or public keys); the signing key is always accepted too.

    Raises:
        ConfigurationError: a key does not fit the algorithm.
    """

    def __init__(
        self,
        algorithm: str,
        signing_key: "bytes | PrivateKey",
        verification_keys: "Sequence[bytes | PublicKey]" = (),
    ) -> None:
        if algorithm not in HMAC_ALGORITHMS | ASYMMETRIC_ALGORITHMS:
            raise ConfigurationError(f"unsupported JWT algorithm {algorithm!r}")
        self.algorithm = algorithm
        self.asymmetric = algorithm in ASYMMETRIC_ALGORITHMS
        self._signing_key = signing_key
        self._keys: dict[str, bytes | PublicKey] = {}
        self._jwks: list[dict[str, str]] = []
        first = signing_key if isinstance(signing_key, bytes) else signing_key.public_key()
        for key in [first, *verification_keys]:
            self._add(key)
        self.signing_kid = next(iter(self._keys))

    def _add(self, key: "bytes | PublicKey") -> None:
        if isinstance(key, bytes) == self.asymmetric or not key:
            raise ConfigurationError(f"{type(key).__name__} key unusable with {self.algorithm}")
        if isinstance(key, bytes):
            self._keys.setdefault(hmac_kid(key), key)
            return
        # A public key object: cryptography is installed.
        from fastapi_userkit._asymmetric import check_key_type, jwk_thumbprint, public_jwk

        check_key_type(self.algorithm, key, "a verification key")
        jwk = public_jwk(key)
        kid = jwk_thumbprint(jwk)
        if kid not in self._keys:
            self._keys[kid] = key
            self._jwks.append({**jwk, "kid": kid, "alg": self.algorithm, "use": "sig"})

    @property
    def kids(self) -> list[str]:
        """The `kid` of every accepted key, the signing key first."""
        return list(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(algorithm={self.algorithm!r}, kids={self.kids!r})"

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the public keys as a JWK Set (RFC 7517 §5); empty for HMAC keys."""
        return {"keys": [dict(jwk) for jwk in self._jwks]}

    def sign(self, payload: Mapping[str, Any], *, typ: str) -> str:
        """Return *payload* signed with the newest key, with `typ` and `kid` headers."""
        headers = {"typ": typ, "kid": self.signing_kid}
        return jwt.encode(dict(payload), self._signing_key, self.algorithm, headers=headers)

    def decode(
        self, token: str, *, typ: str, audience: str, issuer: str, require: Sequence[str]
    ) -> dict[str, Any]:
        """Verify *token*, a compact JWS whose `typ` header must be *typ*, and
        return its payload; `aud`, `iss` and the *require* claims are checked.

        Raises:
            BadTokenError: bad signature, unknown `kid`, other algorithm or `typ`,
                unexpected header parameter, failed claim check, malformed token.
        """
        # PyJWT also takes padded base64url: the same token under another spelling.
        if not _COMPACT_JWS.fullmatch(token):
            raise BadTokenError("not a compact JWS of unpadded base64url")
        header = _header(token)
        if not HEADER_PARAMETERS.issuperset(header):
            raise BadTokenError("unexpected header parameter")
        if header.get("typ") != typ:
            raise BadTokenError("wrong typ header")
        kid = header.get("kid")
        key = self._keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise BadTokenError("unknown or missing kid")
        try:
            payload: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=audience,
                issuer=issuer,
                # strict_aud: a list naming the kit beside another audience is refused.
                options={"require": list(require), "strict_aud": True},
            )
        except jwt.PyJWTError as exc:
            raise BadTokenError(f"invalid token: {exc}") from exc
        # PyJWT truncates any number (and numeric string) with int().
        if any(type(payload.get(name, 0)) is not int for name in _NUMERIC_DATES):
            raise BadTokenError("exp, iat or nbf is not an integer")
        return payload


def _header(token: str) -> dict[str, Any]:
    # Only to pick the key; PyJWT parses the same bytes again under the signature.
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, TypeError, RecursionError) as exc:
        raise BadTokenError("malformed token header") from exc
    if not isinstance(header, dict):
        raise BadTokenError("malformed token header")
    return header
