"""The key ring that signs and verifies the kit's JWTs.

A `KeyRing` holds one signing key and every key still accepted for verification,
each with a `kid`: for HMAC keys the first 16 hex digits of a domain-separated
SHA-256 of the key, for public keys their RFC 7638 thumbprint. Tokens are signed
with the newest key and verified with the key their `kid` names, with the one
algorithm of the settings (RFC 8725 §3.1); `alg`, `jwk`, `jku`, `x5u` and any
other header parameter are never trusted. Keys are read from the settings
(`KeyRing.from_settings`) when `include_user_router()` runs, never at import.
"""

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, cast

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.exceptions import BadTokenError, ConfigurationError

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "ES256", "EdDSA"})
MIN_RSA_BITS = 2048
#: The only header parameters the kit writes; a token with any other is refused.
HEADER_PARAMETERS = frozenset({"alg", "typ", "kid"})
_HMAC_KID_CONTEXT = b"fastapi-userkit:hmac-kid:v1\x00"
_THUMBPRINT_MEMBERS = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
_MAX_PEM_BYTES = 65_536

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
_RSA = (rsa.RSAPrivateKey, rsa.RSAPublicKey)
_EC = (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)
_KEY_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "RS256": (_RSA, f"an RSA key of at least {MIN_RSA_BITS} bits"),
    "ES256": (_EC, "a P-256 (secp256r1) EC key"),
    "EdDSA": ((ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey), "an Ed25519 key"),
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64_uint(value: int) -> str:
    return _b64(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def hmac_kid(secret: bytes) -> str:
    """Return the `kid` of an HMAC key: a short id from which the key cannot be recovered."""
    return hashlib.sha256(_HMAC_KID_CONTEXT + secret).hexdigest()[:16]


def public_jwk(key: PublicKey) -> dict[str, str]:
    """Return the required public members of *key* as a JWK (RFC 7518 §6, RFC 8037)."""
    if isinstance(key, rsa.RSAPublicKey):
        numbers = key.public_numbers()
        return {"kty": "RSA", "n": _b64_uint(numbers.n), "e": _b64_uint(numbers.e)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        point, size = key.public_numbers(), (key.curve.key_size + 7) // 8
        x, y = point.x.to_bytes(size, "big"), point.y.to_bytes(size, "big")
        crv = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}[key.curve.name]
        return {"kty": "EC", "crv": crv, "x": _b64(x), "y": _b64(y)}
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": _b64(raw)}


def jwk_thumbprint(jwk: Mapping[str, str]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
    return _b64(hashlib.sha256(canonical.encode("utf-8")).digest())


def check_key_type(algorithm: str, key: object, where: str) -> None:
    """Raise `ConfigurationError`, naming *where* the key came from, unless *key*
    (a `cryptography` private or public key) is fit for *algorithm*.
    """
    types, wanted = _KEY_TYPES[algorithm]
    if isinstance(key, _RSA):
        kind = f"{key.key_size}-bit RSA"
        fits = key.key_size >= MIN_RSA_BITS
    elif isinstance(key, _EC):
        kind, fits = f"EC {key.curve.name}", isinstance(key.curve, ec.SECP256R1)
    else:
        kind, fits = type(key).__name__.removesuffix("PrivateKey").removesuffix("PublicKey"), True
    if not (fits and isinstance(key, types)):
        raise ConfigurationError(
            f"{where} is a {kind} key, but USERKIT_JWT_ALGORITHM={algorithm} needs {wanted}"
        )


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
        signing_key: bytes | PrivateKey,
        verification_keys: Sequence[bytes | PublicKey] = (),
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

    def _add(self, key: bytes | PublicKey) -> None:
        if isinstance(key, bytes) == self.asymmetric or not key:
            raise ConfigurationError(f"{type(key).__name__} key unusable with {self.algorithm}")
        if isinstance(key, bytes):
            self._keys.setdefault(hmac_kid(key), key)
            return
        check_key_type(self.algorithm, key, "a verification key")
        jwk = public_jwk(key)
        kid = jwk_thumbprint(jwk)
        if kid not in self._keys:
            self._keys[kid] = key
            self._jwks.append({**jwk, "kid": kid, "alg": self.algorithm, "use": "sig"})

    @classmethod
    def from_settings(cls, settings: UserKitSettings, secret: str | None) -> "KeyRing":
        """Build the key ring *settings* describe.

        Args:
            settings: The kit's settings (algorithm, keys, older keys).
            secret: The HMAC signing key (`secret_key`, or an ephemeral one);
                ignored with an asymmetric algorithm.

        Raises:
            ConfigurationError: a key is missing, unreadable, not PEM, of the wrong
                type or size, or given for the other family of algorithms.
        """
        algorithm = settings.jwt_algorithm
        if algorithm in HMAC_ALGORITHMS:
            if settings.jwt_private_key or settings.jwt_private_key_file:
                _mismatch(algorithm, "USERKIT_JWT_PRIVATE_KEY(_FILE)", "USERKIT_SECRET_KEY")
            if settings.jwt_public_key_files:
                _mismatch(algorithm, "USERKIT_JWT_PUBLIC_KEY_FILES", "USERKIT_PREVIOUS_SECRET_KEYS")
            if not secret:
                raise ConfigurationError(f"USERKIT_SECRET_KEY is required with {algorithm}")
            old = [key.get_secret_value().encode() for key in settings.previous_secret_keys]
            return cls(algorithm, secret.encode(), old)
        if settings.previous_secret_keys:
            _mismatch(algorithm, "USERKIT_PREVIOUS_SECRET_KEYS", "USERKIT_JWT_PUBLIC_KEY_FILES")
        public = [_load_public_key(algorithm, path) for path in settings.jwt_public_key_files]
        return cls(algorithm, _load_private_key(settings), public)

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
            return jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=audience,
                issuer=issuer,
                options={"require": list(require)},
            )
        except jwt.PyJWTError as exc:
            raise BadTokenError(f"invalid token: {exc}") from exc


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


def _mismatch(algorithm: str, variable: str, instead: str) -> NoReturn:
    raise ConfigurationError(
        f"{variable} is set, but USERKIT_JWT_ALGORITHM={algorithm} cannot use it "
        f"(use {instead}); change the algorithm or remove the setting"
    )


def _read_pem(path: Path, variable: str) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > _MAX_PEM_BYTES:
        raise ConfigurationError(f"{variable}: {path} is too large to be a PEM key")
    return data


def _load_private_key(settings: UserKitSettings) -> PrivateKey:
    algorithm = settings.jwt_algorithm
    text = settings.jwt_private_key.get_secret_value().strip() if settings.jwt_private_key else ""
    path = settings.jwt_private_key_file
    if bool(text) == (path is not None):
        raise ConfigurationError(
            f"USERKIT_JWT_ALGORITHM={algorithm} needs exactly one of USERKIT_JWT_PRIVATE_KEY "
            "(PEM text) and USERKIT_JWT_PRIVATE_KEY_FILE (path to a PEM file); "
            + ("both are set" if text else "neither is set")
        )
    if path is not None:
        where = f"USERKIT_JWT_PRIVATE_KEY_FILE ({path})"
        data = _read_pem(path, "USERKIT_JWT_PRIVATE_KEY_FILE")
    else:
        where = "USERKIT_JWT_PRIVATE_KEY"
        # A PEM squeezed onto one line of an env file, with literal "\n".
        data = (text if "\n" in text else text.replace("\\n", "\n")).encode()
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(f"{where} is not an unencrypted PEM private key") from exc
    check_key_type(algorithm, key, where)
    return cast(PrivateKey, key)


def _load_public_key(algorithm: str, path: Path) -> PublicKey:
    where = f"USERKIT_JWT_PUBLIC_KEY_FILES ({path})"
    data = _read_pem(path, "USERKIT_JWT_PUBLIC_KEY_FILES")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError(
            f"{where} is not a PEM public key (BEGIN PUBLIC KEY); extract one from a "
            "private key with `openssl pkey -in key.pem -pubout`"
        ) from exc
    check_key_type(algorithm, key, where)
    return cast(PublicKey, key)
