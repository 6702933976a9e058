"""Key ring: algorithms, `kid`, rotation, JWKS, header attacks and key configuration."""

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from fastapi import FastAPI
from pydantic import ValidationError

from fastapi_userkit import ConfigurationError, UserKitSettings, include_user_router
from tests.conftest import PASSWORD, SECRET, Host

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

NEW_SECRET = "fedcba9876543210fedcba9876543210-newest-key"
LONG_SECRET = SECRET + "-" + SECRET[::-1]  # long enough for HS512, not a repeat
ASYMMETRIC = ["RS256", "ES256", "EdDSA"]
KEY_FOR = {"RS256": "rsa", "ES256": "p256", "EdDSA": "ed25519"}
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k"}
# RFC 7638 §3.1 and RFC 8037 §A.3: public keys and their thumbprints.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb"
    "WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ"
    "MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2N"
    "cRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_KID = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_KID = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


@cache
def _key(kind: str) -> Any:
    """A private key per kind, generated once per test run ("rsa-old" differs from "rsa")."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(65537, 1024 if kind == "rsa-1024" else 2048)
    if kind.startswith("p256"):
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "p384":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ed448":
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


def _private_pem(key: Any, password: bytes | None = None) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )


def _public_pem(public: Any) -> bytes:
    return bytes(
        public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


def _write(directory: Path, name: str, data: bytes) -> Path:
    path = directory / name
    path.write_bytes(data)
    return path


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def _compact(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A JWS built by hand, for headers and signatures PyJWT refuses to produce."""
    parts = [_b64(json.dumps(part).encode()) for part in (header, claims)]
    signing_input = ".".join(parts).encode()
    return f"{signing_input.decode()}.{_b64(sign(signing_input))}"


def _hs256(secret: bytes) -> Callable[[bytes], bytes]:
    return lambda message: hmac.new(secret, message, hashlib.sha256).digest()


def _rs256(key: Any) -> Callable[[bytes], bytes]:
    return lambda message: bytes(key.sign(message, padding.PKCS1v15(), hashes.SHA256()))


@pytest.fixture
def asymmetric(make_settings: Callable[..., UserKitSettings], tmp_path: Path) -> Any:
    """Settings signing with the private key of *key*, accepting the public keys of *old*."""

    def make(
        algorithm: str, key: str | None = None, old: Sequence[str] = (), **overrides: Any
    ) -> UserKitSettings:
        kind = key or KEY_FOR[algorithm]
        values: dict[str, Any] = {
            "secret_key": None,
            "jwt_algorithm": algorithm,
            "jwt_private_key_file": _write(tmp_path, f"{kind}.pem", _private_pem(_key(kind))),
            "jwt_public_key_files": [
                _write(tmp_path, f"{o}.pub.pem", _public_pem(_key(o).public_key())) for o in old
            ],
        }
        values.update(overrides)
        return make_settings(**values)

    return make


async def _session(host: Host, *, register: bool = True) -> tuple[str, dict[str, Any], Any]:
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


async def _me(host: Host, token: str) -> int:
    response = await host.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


class TestAlgorithms:
    @pytest.mark.parametrize("algorithm", ["HS256", "HS384", "HS512", *ASYMMETRIC])
    async def test_login_and_me(
        self,
        make_host: Any,
        make_settings: Any,
        asymmetric: Any,
        algorithm: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        if algorithm.startswith("HS"):
            settings = make_settings(secret_key=LONG_SECRET, jwt_algorithm=algorithm)
        else:
            settings = asymmetric(algorithm)
        with caplog.at_level(logging.WARNING, logger="fastapi_userkit"):
            host: Host = await make_host(settings=settings)
        assert "USERKIT_SECRET_KEY" not in caplog.text  # no ephemeral secret for key files
        token, header, claims = await _session(host)
        assert await _me(host, token) == 200
        assert header == {"alg": algorithm, "typ": "at+jwt", "kid": header["kid"]}
        assert claims["type"] == "access"

    async def test_asymmetric_kit_needs_no_secret_with_any_database(self, asymmetric: Any) -> None:
        settings = asymmetric("EdDSA", database_url="postgresql+asyncpg://u@127.0.0.1/db")
        kit = include_user_router(FastAPI(), settings=settings)
        assert kit._parts.access_tokens.keys.asymmetric
        await kit.shutdown()

    @pytest.mark.parametrize("escaped", [False, True], ids=["multiline", "escaped-newlines"])
    async def test_private_key_text_from_environment(
        self, make_host: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, escaped: bool
    ) -> None:
        pem = _private_pem(_key("p256")).decode()
        monkeypatch.setenv("USERKIT_JWT_ALGORITHM", "ES256")
        monkeypatch.setenv("USERKIT_JWT_PRIVATE_KEY", pem.replace("\n", "\\n") if escaped else pem)
        monkeypatch.setenv("USERKIT_DATABASE_URL", database_url)
        monkeypatch.setenv("USERKIT_CREATE_TABLES", "true")
        monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
        host: Host = await make_host(settings=UserKitSettings())
        token, header, _ = await _session(host)
        assert header["alg"] == "ES256"
        assert await _me(host, token) == 200


class TestRotation:
    async def test_hmac_rotation(self, make_host: Any, make_settings: Any) -> None:
        before: Host = await make_host(settings=make_settings(secret_key=SECRET))
        old_token, old_header, _ = await _session(before)
        rotated: Host = await make_host(
            settings=make_settings(secret_key=NEW_SECRET, previous_secret_keys=[SECRET])
        )
        assert await _me(rotated, old_token) == 200
        new_token, new_header, _ = await _session(rotated, register=False)
        assert new_header["kid"] != old_header["kid"]
        for kid, key in ((old_header["kid"], SECRET), (new_header["kid"], NEW_SECRET)):
            assert re.fullmatch(r"[0-9a-f]{16}", kid)
            assert kid != hashlib.sha256(key.encode()).hexdigest()[:16]  # domain-separated
        assert await _me(before, new_token) == 401  # the old kit never knew the new key

        after: Host = await make_host(settings=make_settings(secret_key=NEW_SECRET))
        assert await _me(after, old_token) == 401
        assert await _me(after, new_token) == 200
        assert (await _session(after, register=False))[1]["kid"] == new_header["kid"]

    async def test_rsa_rotation(self, make_host: Any, asymmetric: Any) -> None:
        before: Host = await make_host(settings=asymmetric("RS256", key="rsa-old"))
        old_token, old_header, _ = await _session(before)
        rotated: Host = await make_host(settings=asymmetric("RS256", key="rsa", old=["rsa-old"]))
        assert await _me(rotated, old_token) == 200
        new_token, new_header, _ = await _session(rotated, register=False)
        kids = [key["kid"] for key in (await rotated.client.get("/auth/jwks.json")).json()["keys"]]
        assert kids == [new_header["kid"], old_header["kid"]]

        after: Host = await make_host(settings=asymmetric("RS256", key="rsa"))
        assert await _me(after, old_token) == 401
        assert await _me(after, new_token) == 200


class TestHeaderAttacks:
    async def test_hand_built_tokens_with_the_right_key_work(
        self, make_host: Any, asymmetric: Any
    ) -> None:
        # Sanity check of the helpers: the 401s below are about what each one changes.
        host: Host = await make_host(settings=asymmetric("RS256"))
        _, header, claims = await _session(host)
        assert await _me(host, _compact(header, claims, _rs256(_key("rsa")))) == 200
        assert await _me(host, jwt.encode(claims, _key("rsa"), "RS256", headers=header)) == 200

    @pytest.mark.parametrize("encoding", ["pem", "pem-stripped", "der", "openssh", "jwk-n"])
    async def test_rs256_kit_refuses_hs256_signed_with_its_public_key(
        self, make_host: Any, asymmetric: Any, encoding: str
    ) -> None:
        host: Host = await make_host(settings=asymmetric("RS256"))
        _, header, claims = await _session(host)
        public = _key("rsa").public_key()
        jwks = (await host.client.get("/auth/jwks.json")).json()
        secret = {
            "pem": _public_pem(public),
            "pem-stripped": _public_pem(public).strip(),
            "der": public.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            "openssh": public.public_bytes(
                serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
            ),
            "jwk-n": jwks["keys"][0]["n"].encode(),
        }[encoding]
        token = _compact({**header, "alg": "HS256"}, claims, _hs256(secret))
        assert await _me(host, token) == 401

    @pytest.mark.parametrize("kit", ["HS256", "RS256"])
    @pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
    async def test_alg_none(self, make_host: Any, asymmetric: Any, kit: str, alg: str) -> None:
        host: Host = await make_host(**({"settings": asymmetric(kit)} if kit != "HS256" else {}))
        _, header, claims = await _session(host)
        assert await _me(host, _compact({**header, "alg": alg}, claims, lambda m: b"")) == 401

    @pytest.mark.parametrize(
        "change",
        [
            pytest.param({"kid": None}, id="no-kid"),
            pytest.param({"kid": "nope"}, id="unknown-kid"),
            pytest.param({"kid": ""}, id="empty-kid"),
            pytest.param({"kid": "../../../../dev/null"}, id="kid-traversal"),
            pytest.param({"kid": "x' OR '1'='1"}, id="kid-injection"),
            pytest.param({"kid": 7}, id="int-kid"),
            pytest.param({"kid": ["k"]}, id="list-kid"),
            pytest.param({"typ": None}, id="no-typ"),
            pytest.param({"typ": "JWT"}, id="typ-jwt"),
            pytest.param({"typ": "reset+jwt"}, id="typ-reset"),
            pytest.param({"typ": "AT+JWT"}, id="typ-case"),
            pytest.param({"jku": "https://evil.example/jwks.json"}, id="jku"),
            pytest.param({"x5u": "https://evil.example/cert.pem"}, id="x5u"),
            pytest.param({"x5c": ["MIIB"]}, id="x5c"),
            pytest.param({"crit": ["exp"]}, id="crit"),
            pytest.param({"cty": "JWT"}, id="nested-cty"),
        ],
    )
    async def test_header_changes_with_a_valid_signature(
        self, make_host: Any, asymmetric: Any, change: dict[str, Any]
    ) -> None:
        host: Host = await make_host(settings=asymmetric("RS256"))
        _, header, claims = await _session(host)
        forged = {k: v for k, v in {**header, **change}.items() if v is not None}
        assert await _me(host, _compact(forged, claims, _rs256(_key("rsa")))) == 401

    @pytest.mark.parametrize(
        "raw_header",
        [b"[" * 5000, b"1", b"null", b'"kid"', b"\xff\xfe", b"{", b'{"kid": {"$ne": 1}}'],
        ids=["deeply-nested", "number", "null", "string", "not-utf8", "truncated", "object-kid"],
    )
    async def test_malformed_header_is_401_not_500(self, host: Host, raw_header: bytes) -> None:
        token, _, _ = await _session(host)
        forged = ".".join([_b64(raw_header), *token.split(".")[1:]])
        assert await _me(host, forged) == 401

    async def test_embedded_jwk_of_the_attacker(self, make_host: Any, asymmetric: Any) -> None:
        host: Host = await make_host(settings=asymmetric("RS256"))
        _, header, claims = await _session(host)
        attacker = _key("rsa-attacker")
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
        token = _compact({**header, "jwk": jwk}, claims, _rs256(attacker))
        assert await _me(host, token) == 401

    @pytest.mark.parametrize("kid", ["ring", "own"])
    async def test_key_outside_the_ring(self, make_host: Any, asymmetric: Any, kid: str) -> None:
        host: Host = await make_host(settings=asymmetric("RS256"))
        _, header, claims = await _session(host)
        attacker = _key("rsa-attacker")
        if kid == "own":  # the attacker's own kid, as a thumbprint would look
            header["kid"] = _b64(hashlib.sha256(_public_pem(attacker.public_key())).digest())
        assert await _me(host, _compact(header, claims, _rs256(attacker))) == 401

    @pytest.mark.parametrize(
        ("kit", "alg", "key"),
        [
            pytest.param("RS256", "RS384", "rsa", id="rs256-kit-rs384"),
            pytest.param("RS256", "PS256", "rsa", id="rs256-kit-ps256"),
            pytest.param("ES256", "RS256", "rsa", id="es256-kit-rs256"),
            pytest.param("ES256", "ES384", "p384", id="es256-kit-es384"),
            pytest.param("EdDSA", "ES256", "p256", id="eddsa-kit-es256"),
            pytest.param("HS256", "RS256", "rsa", id="hs256-kit-rs256"),
            pytest.param("HS256", "EdDSA", "ed25519", id="hs256-kit-eddsa"),
        ],
    )
    async def test_other_algorithm_with_the_ring_kid(
        self, make_host: Any, asymmetric: Any, kit: str, alg: str, key: str
    ) -> None:
        host: Host = await make_host(**({"settings": asymmetric(kit)} if kit != "HS256" else {}))
        _, header, claims = await _session(host)
        token = jwt.encode(claims, _key(key), alg, headers={**header, "alg": alg})
        assert await _me(host, token) == 401

    @pytest.mark.parametrize("alg", ["HS384", "HS512"])
    async def test_hmac_kit_refuses_other_hmac_algorithm_with_its_own_key(
        self, host: Host, alg: str
    ) -> None:
        _, header, claims = await _session(host)
        digest = {"HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
        token = _compact(
            {**header, "alg": alg},
            claims,
            lambda message: hmac.new(SECRET.encode(), message, digest).digest(),
        )
        assert await _me(host, token) == 401

    async def test_hmac_kit_foreign_key_and_kids(self, host: Host) -> None:
        _, header, claims = await _session(host)
        assert await _me(host, _compact(header, claims, _hs256(SECRET.encode()))) == 200
        assert await _me(host, _compact(header, claims, _hs256(NEW_SECRET.encode()))) == 401
        for kid in (None, "0" * 16, header["kid"].upper()):
            forged = {k: v for k, v in {**header, "kid": kid}.items() if v is not None}
            assert await _me(host, _compact(forged, claims, _hs256(SECRET.encode()))) == 401


class TestTokenKinds:
    @pytest.mark.parametrize("kit", ["HS256", "EdDSA"])
    async def test_refresh_token_is_not_a_bearer_token(
        self, make_host: Any, asymmetric: Any, kit: str
    ) -> None:
        host: Host = await make_host(**({"settings": asymmetric(kit)} if kit != "HS256" else {}))
        await host.register()
        credentials = {"username": "alice@example.com", "password": PASSWORD}
        pair = (await host.client.post("/auth/jwt/login", data=credentials)).json()
        assert await _me(host, pair["refresh_token"]) == 401
        assert await _me(host, pair["access_token"]) == 200
        refreshed = await host.client.post(
            "/auth/jwt/refresh", json={"refresh_token": pair["access_token"]}
        )
        assert refreshed.status_code != 200
        assert "access_token" not in refreshed.text

    async def test_type_claim_other_than_access(self, host: Host) -> None:
        _, header, claims = await _session(host)
        for kind in ("refresh", "reset", "verify", None):
            forged = {k: v for k, v in {**claims, "type": kind}.items() if v is not None}
            assert await _me(host, _compact(header, forged, _hs256(SECRET.encode()))) == 401


class TestJWKS:
    @pytest.mark.parametrize("algorithm", ASYMMETRIC)
    async def test_another_service_verifies_with_the_jwks_alone(
        self, make_host: Any, asymmetric: Any, algorithm: str
    ) -> None:
        host: Host = await make_host(settings=asymmetric(algorithm))
        token, header, _ = await _session(host)
        response = await host.client.get("/auth/jwks.json")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["content-type"] == "application/json"
        document = response.json()
        (published,) = document["keys"]
        assert published["kid"] == header["kid"]
        assert (published["alg"], published["use"]) == (algorithm, "sig")
        assert not PRIVATE_JWK_MEMBERS & published.keys()

        key_set = jwt.PyJWKSet.from_dict(document)
        verifier = next(k for k in key_set.keys if k.key_id == header["kid"])
        claims = jwt.decode(
            token,
            verifier.key,
            algorithms=[algorithm],
            audience="fastapi-userkit",
            issuer="fastapi-userkit",
        )
        assert claims["type"] == "access"
        assert host.app.url_path_for("auth:jwks") == "/auth/jwks.json"
        assert "auth" in host.app.openapi()["paths"]["/auth/jwks.json"]["get"]["tags"]

    async def test_kids_are_rfc7638_thumbprints(
        self, make_host: Any, asymmetric: Any, tmp_path: Path
    ) -> None:
        rfc_rsa = rsa.RSAPublicNumbers(65537, _b64_int(RFC7638_N)).public_key()
        rsa_file = _write(tmp_path, "rfc7638.pem", _public_pem(rfc_rsa))
        host: Host = await make_host(settings=asymmetric("RS256", jwt_public_key_files=[rsa_file]))
        keys = (await host.client.get("/auth/jwks.json")).json()["keys"]
        assert keys[1] == {
            "kty": "RSA",
            "n": RFC7638_N,
            "e": "AQAB",
            "kid": RFC7638_KID,
            "alg": "RS256",
            "use": "sig",
        }
        rfc_ed = ed25519.Ed25519PublicKey.from_public_bytes(
            base64.urlsafe_b64decode(RFC8037_X + "=")
        )
        ed_file = _write(tmp_path, "rfc8037.pem", _public_pem(rfc_ed))
        other: Host = await make_host(settings=asymmetric("EdDSA", jwt_public_key_files=[ed_file]))
        keys = (await other.client.get("/auth/jwks.json")).json()["keys"]
        assert keys[1]["kid"] == RFC8037_KID
        assert keys[1]["x"] == RFC8037_X

    async def test_under_a_prefix(self, make_host: Any, asymmetric: Any) -> None:
        host: Host = await make_host(settings=asymmetric("EdDSA"), prefix="/api")
        assert (await host.client.get("/api/auth/jwks.json")).status_code == 200
        assert (await host.client.get("/auth/jwks.json")).status_code == 404

    async def test_no_jwks_for_hmac(self, host: Host) -> None:
        assert (await host.client.get("/auth/jwks.json")).status_code == 404
        assert "/auth/jwks.json" not in host.app.openapi()["paths"]

    async def test_repr_hides_keys(self, make_host: Any, asymmetric: Any) -> None:
        hmac_host: Host = await make_host()
        assert SECRET not in repr(hmac_host.kit._parts.access_tokens)
        assert SECRET not in repr(hmac_host.kit._parts.access_tokens.keys)
        pem = _private_pem(_key("p256")).decode()
        settings = asymmetric("ES256", jwt_private_key_file=None, jwt_private_key=pem)
        host: Host = await make_host(settings=settings)
        body = pem.splitlines()[1]
        for text in (
            repr(settings),
            repr(host.kit._parts.access_tokens),
            repr(host.kit._parts.access_tokens.keys),
        ):
            assert body not in text


def _bad(make: Any, tmp: Path, case: str) -> UserKitSettings:
    """Settings whose keys the kit must refuse at include time."""
    pem = _private_pem(_key("p256"))

    def es256_file(name: str, data: bytes) -> Callable[[], UserKitSettings]:
        return lambda: make("ES256", jwt_private_key_file=_write(tmp, name, data))

    cases: dict[str, Callable[[], UserKitSettings]] = {
        "rs256-ec": lambda: make("RS256", key="p256"),
        "es256-rsa": lambda: make("ES256", key="rsa"),
        "es256-p384": lambda: make("ES256", key="p384"),
        "eddsa-ed448": lambda: make("EdDSA", key="ed448"),
        "eddsa-rsa": lambda: make("EdDSA", key="rsa"),
        "rsa-1024": lambda: make("RS256", key="rsa-1024"),
        "missing-file": lambda: make("ES256", jwt_private_key_file=tmp / "missing.pem"),
        "directory": lambda: make("ES256", jwt_private_key_file=tmp),
        "garbage-file": es256_file("garbage.pem", b"-----BEGIN PRIVATE KEY-----\nnope\n"),
        "empty-file": es256_file("empty.pem", b""),
        "huge-file": es256_file("huge.pem", b"A" * 100_000),
        "encrypted": es256_file("enc.pem", _private_pem(_key("p256"), b"passphrase")),
        "public-as-private": es256_file("pub.pem", _public_pem(_key("p256").public_key())),
        "both": lambda: make("ES256", jwt_private_key=pem.decode()),
        "neither": lambda: make("ES256", jwt_private_key_file=None),
        "garbage-text": lambda: make("ES256", jwt_private_key_file=None, jwt_private_key="hello"),
        "old-rsa-1024": lambda: make("RS256", old=["rsa-1024"]),
        "old-wrong-type": lambda: make("ES256", old=["ed25519"]),
        "old-missing": lambda: make("ES256", jwt_public_key_files=[tmp / "gone.pem"]),
        "old-private": lambda: make("ES256", jwt_public_key_files=[_write(tmp, "p.pem", pem)]),
        "hmac-with-key-file": lambda: make("HS256", key="rsa", secret_key=SECRET),
        "hmac-with-public-files": lambda: make(
            "HS256", key="rsa", secret_key=SECRET, jwt_private_key_file=None, old=["rsa"]
        ),
        "asymmetric-with-old-secrets": lambda: make("RS256", previous_secret_keys=[SECRET]),
    }
    return cases[case]()


class TestBadConfiguration:
    @pytest.mark.parametrize(
        ("case", "message"),
        [
            pytest.param(
                "rs256-ec",
                r"USERKIT_JWT_PRIVATE_KEY_FILE .* EC secp256r1 key.*RS256 needs an RSA",
                id="rs256-ec",
            ),
            pytest.param("es256-rsa", r"2048-bit RSA key.*ES256 needs a P-256", id="es256-rsa"),
            pytest.param("es256-p384", r"EC secp384r1 key.*ES256", id="es256-p384"),
            pytest.param("eddsa-ed448", r"Ed448 key.*EdDSA needs an Ed25519", id="eddsa-ed448"),
            pytest.param("eddsa-rsa", r"RSA key.*EdDSA", id="eddsa-rsa"),
            pytest.param(
                "rsa-1024",
                r"USERKIT_JWT_PRIVATE_KEY_FILE .* 1024-bit RSA key.*at least 2048",
                id="rsa-1024",
            ),
            pytest.param(
                "missing-file",
                r"USERKIT_JWT_PRIVATE_KEY_FILE: cannot read .*missing\.pem",
                id="missing-file",
            ),
            pytest.param("directory", r"USERKIT_JWT_PRIVATE_KEY_FILE: cannot read", id="directory"),
            pytest.param(
                "garbage-file",
                r"USERKIT_JWT_PRIVATE_KEY_FILE .* not an unencrypted PEM private",
                id="garbage-file",
            ),
            pytest.param(
                "empty-file",
                r"USERKIT_JWT_PRIVATE_KEY_FILE .* not an unencrypted PEM private",
                id="empty-file",
            ),
            pytest.param(
                "huge-file", r"USERKIT_JWT_PRIVATE_KEY_FILE: .* too large", id="huge-file"
            ),
            pytest.param("encrypted", r"not an unencrypted PEM private key", id="encrypted"),
            pytest.param(
                "public-as-private", r"not an unencrypted PEM private key", id="public-as-private"
            ),
            pytest.param(
                "both", r"exactly one of USERKIT_JWT_PRIVATE_KEY .*; both are set", id="both"
            ),
            pytest.param(
                "neither",
                r"exactly one of USERKIT_JWT_PRIVATE_KEY .*; neither is set",
                id="neither",
            ),
            pytest.param(
                "garbage-text",
                r"USERKIT_JWT_PRIVATE_KEY is not an unencrypted PEM",
                id="garbage-text",
            ),
            pytest.param(
                "old-rsa-1024", r"USERKIT_JWT_PUBLIC_KEY_FILES .* 1024-bit RSA", id="old-rsa-1024"
            ),
            pytest.param(
                "old-wrong-type",
                r"USERKIT_JWT_PUBLIC_KEY_FILES .* Ed25519 key.*ES256",
                id="old-wrong-type",
            ),
            pytest.param(
                "old-missing", r"USERKIT_JWT_PUBLIC_KEY_FILES: cannot read", id="old-missing"
            ),
            pytest.param(
                "old-private",
                r"USERKIT_JWT_PUBLIC_KEY_FILES .* not a PEM public key",
                id="old-private",
            ),
            pytest.param(
                "hmac-with-key-file",
                r"USERKIT_JWT_PRIVATE_KEY\(_FILE\) is set.*HS256",
                id="hmac-with-key-file",
            ),
            pytest.param(
                "hmac-with-public-files",
                r"USERKIT_JWT_PUBLIC_KEY_FILES is set.*HS256",
                id="hmac-with-public-files",
            ),
            pytest.param(
                "asymmetric-with-old-secrets",
                r"USERKIT_PREVIOUS_SECRET_KEYS is set.*RS256",
                id="asymmetric-with-old-secrets",
            ),
        ],
    )
    def test_refused_at_include_time(
        self, asymmetric: Any, tmp_path: Path, case: str, message: str
    ) -> None:
        settings = _bad(asymmetric, tmp_path, case)  # building the settings reads no file
        with pytest.raises(ConfigurationError, match=message):
            include_user_router(FastAPI(), settings=settings)

    def test_key_files_from_environment(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
    ) -> None:
        private = _write(tmp_path, "new.pem", _private_pem(_key("rsa")))
        public = _write(tmp_path, "old.pub", _public_pem(_key("rsa-old").public_key()))
        monkeypatch.setenv("USERKIT_DATABASE_URL", database_url)
        monkeypatch.setenv("USERKIT_JWT_ALGORITHM", "RS256")
        monkeypatch.setenv("USERKIT_JWT_PRIVATE_KEY_FILE", str(private))
        monkeypatch.setenv("USERKIT_JWT_PUBLIC_KEY_FILES", json.dumps([str(public)]))
        kit = include_user_router(FastAPI())
        assert len(kit._parts.access_tokens.keys.jwks()["keys"]) == 2
        monkeypatch.setenv("USERKIT_JWT_PUBLIC_KEY_FILES", json.dumps([str(tmp_path / "gone")]))
        with pytest.raises(ConfigurationError, match="USERKIT_JWT_PUBLIC_KEY_FILES"):
            include_user_router(FastAPI())

    def test_previous_secret_keys_from_environment(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("USERKIT_SECRET_KEY", NEW_SECRET)
        monkeypatch.setenv("USERKIT_PREVIOUS_SECRET_KEYS", json.dumps([SECRET]))
        settings = UserKitSettings()
        assert [key.get_secret_value() for key in settings.previous_secret_keys] == [SECRET]
        assert SECRET not in repr(settings)

    @pytest.mark.parametrize(
        ("previous", "algorithm", "message"),
        [
            pytest.param("changethis", "HS256", "openssl rand", id="placeholder"),
            pytest.param("short", "HS256", "openssl rand", id="short"),
            pytest.param(SECRET, "HS512", "at least 64 bytes", id="too-short-for-hs512"),
        ],
    )
    def test_weak_previous_secret_keys(self, previous: str, algorithm: str, message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            UserKitSettings(
                secret_key=LONG_SECRET, jwt_algorithm=algorithm, previous_secret_keys=[previous]
            )
