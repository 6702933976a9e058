"""Public-key support for the key ring: PEM loading, key-type checks, JWKs.

Everything here needs `cryptography` (the `[crypto]` extra), so `keys` imports
this module only when an asymmetric algorithm (RS256, ES256, EdDSA) is used.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import cast

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from fastapi_userkit.exceptions import ConfigurationError

MIN_RSA_BITS = 2048
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


def _read_pem(path: Path, variable: str) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_PEM_BYTES + 1)
    except OSError as exc:
        raise ConfigurationError(f"{variable}: cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > _MAX_PEM_BYTES:
        raise ConfigurationError(f"{variable}: {path} is too large to be a PEM key")
    return data


def load_private_key(algorithm: str, text: str, path: Path | None) -> PrivateKey:
    """Return the signing key from its PEM *text* (`jwt_private_key`) or the file
    *path* (`jwt_private_key_file`): exactly one of them.

    Raises:
        ConfigurationError: neither or both are set, or the key is unreadable,
            not an unencrypted PEM private key, or unfit for the algorithm.
    """
    text = text.strip()
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


def load_public_key(algorithm: str, path: Path) -> PublicKey:
    """Return the PEM public key in the file *path*, one of `jwt_public_key_files`.

    Raises:
        ConfigurationError: the file is unreadable, not a PEM public key, or
            holds a key unfit for *algorithm*.
    """
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
