"""Keys, hand-built JWS and logged-in sessions, shared by the key-ring tests and the
JWT attack corpus.
"""

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from fastapi_userkit import UserKitSettings
from tests.conftest import SECRET, Host

ASYMMETRIC = ["RS256", "ES256", "EdDSA"]
#: The kind of key (`keypair`) each algorithm the kit supports signs with.
KEY_FOR = {"RS256": "rsa", "ES256": "p256", "EdDSA": "ed25519"}

Signer = Callable[[bytes], bytes]


@cache
def keypair(kind: str) -> Any:
    """A private key per kind, generated once per test run ("rsa-old" differs from "rsa")."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, 1024 if kind == "rsa-1024" else 2048)
    curves = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}
    if kind.startswith("p256") or kind in curves:
        return ec.generate_private_key(curves[kind[:4]]())
    if kind == "k256":
        return ec.generate_private_key(ec.SECP256K1())
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: Any, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )


def public_pem(public: Any) -> bytes:
    return bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def compact(header: Any, claims: Any, sign: Signer) -> str:
    """A JWS built by hand, for headers, claims and signatures PyJWT refuses to produce."""
    return compact_raw(json.dumps(header).encode(), json.dumps(claims).encode(), sign)


def compact_raw(header: bytes, payload: bytes, sign: Signer) -> str:
    """A JWS of any bytes as its header and payload, signed with *sign*."""
    signing_input = f"{b64(header)}.{b64(payload)}".encode()
    return f"{signing_input.decode()}.{b64(sign(signing_input))}"


def hs256(secret: bytes) -> Signer:
    """HMAC-SHA256 with any bytes as the key, even a public key PyJWT would refuse."""
    return lambda message: hmac.new(secret, message, hashlib.sha256).digest()


def signer(alg: str, key: Any) -> Signer:
    """PyJWT's own implementation of *alg*, signing with *key* (raw r||s for ECDSA)."""
    algorithm = jwt.algorithms.get_default_algorithms()[alg]
    prepared = algorithm.prepare_key(key)
    return lambda message: bytes(algorithm.sign(message, prepared))


def rs256(key: Any) -> Signer:
    return signer("RS256", key)


def kit_signer(kit: str) -> Signer:
    """The signature the kit *kit* makes: the test SECRET for HS256, else its private key."""
    if kit == "HS256":
        return hs256(SECRET.encode())
    return signer(kit, keypair(KEY_FOR[kit]))


def asymmetric_settings(
    make_settings: Callable[..., UserKitSettings], directory: Path
) -> Callable[..., UserKitSettings]:
    """Settings signing with the private key of *key*, accepting the public keys of *old*
    (the `asymmetric` fixture of the modules that use it).
    """

    def make(
        algorithm: str, key: str | None = None, old: Sequence[str] = (), **overrides: Any
    ) -> UserKitSettings:
        kind = key or KEY_FOR[algorithm]
        values: dict[str, Any] = {
            "secret_key": None,
            "jwt_algorithm": algorithm,
            "jwt_private_key_file": write(directory, f"{kind}.pem", private_pem(keypair(kind))),
            "jwt_public_key_files": [
                write(directory, f"{o}.pub.pem", public_pem(keypair(o).public_key())) for o in old
            ],
        }
        values.update(overrides)
        return make_settings(**values)

    return make


async def log_in(host: Host, *, register: bool = True) -> tuple[str, dict[str, Any], Any]:
    """Log alice in; return her access token, its header and its claims."""
    if register:
        token = (await host.headers())["Authorization"].split()[1]
    else:
        token = await host.login()
    return (
        token,
        jwt.get_unverified_header(token),
        jwt.decode(token, options={"verify_signature": False}),
    )


async def me_status(host: Host, token: str) -> int:
    """The status `GET /users/me` answers with *token* as the bearer token."""
    response = await host.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code
