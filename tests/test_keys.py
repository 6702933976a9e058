"""Key ring: algorithms, `kid`, rotation, JWKS and key configuration. Attacks on the
tokens themselves are in tests/security/test_v3_jwt_attacks.py.
"""

import base64
import hashlib
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from fastapi import FastAPI
from pydantic import ValidationError

from fastapi_userkit import ConfigurationError, UserKitSettings, include_user_router
from tests.conftest import SECRET, Host
from tests.security._jwt import (
    ASYMMETRIC,
    asymmetric_settings,
    keypair,
    log_in,
    me_status,
    private_pem,
    public_pem,
    write,
)

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

NEW_SECRET = "fedcba9876543210fedcba9876543210-newest-key"
LONG_SECRET = SECRET + "-" + SECRET[::-1]  # long enough for HS512, not a repeat
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


def _b64_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


@pytest.fixture
def asymmetric(make_settings: Callable[..., UserKitSettings], tmp_path: Path) -> Any:
    """Settings signing with the private key of *key*, accepting the public keys of *old*."""
    return asymmetric_settings(make_settings, tmp_path)


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
        token, header, claims = await log_in(host)
        assert await me_status(host, token) == 200
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
        pem = private_pem(keypair("p256")).decode()
        monkeypatch.setenv("USERKIT_JWT_ALGORITHM", "ES256")
        monkeypatch.setenv("USERKIT_JWT_PRIVATE_KEY", pem.replace("\n", "\\n") if escaped else pem)
        monkeypatch.setenv("USERKIT_DATABASE_URL", database_url)
        monkeypatch.setenv("USERKIT_CREATE_TABLES", "true")
        monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
        host: Host = await make_host(settings=UserKitSettings())
        token, header, _ = await log_in(host)
        assert header["alg"] == "ES256"
        assert await me_status(host, token) == 200


class TestRotation:
    async def test_hmac_rotation(self, make_host: Any, make_settings: Any) -> None:
        before: Host = await make_host(settings=make_settings(secret_key=SECRET))
        old_token, old_header, _ = await log_in(before)
        rotated: Host = await make_host(
            settings=make_settings(secret_key=NEW_SECRET, previous_secret_keys=[SECRET])
        )
        assert await me_status(rotated, old_token) == 200
        new_token, new_header, _ = await log_in(rotated, register=False)
        assert new_header["kid"] != old_header["kid"]
        for kid, key in ((old_header["kid"], SECRET), (new_header["kid"], NEW_SECRET)):
            assert re.fullmatch(r"[0-9a-f]{16}", kid)
            assert kid != hashlib.sha256(key.encode()).hexdigest()[:16]  # domain-separated
        assert await me_status(before, new_token) == 401  # the old kit never knew the new key

        after: Host = await make_host(settings=make_settings(secret_key=NEW_SECRET))
        assert await me_status(after, old_token) == 401
        assert await me_status(after, new_token) == 200
        assert (await log_in(after, register=False))[1]["kid"] == new_header["kid"]

    async def test_rsa_rotation(self, make_host: Any, asymmetric: Any) -> None:
        before: Host = await make_host(settings=asymmetric("RS256", key="rsa-old"))
        old_token, old_header, _ = await log_in(before)
        rotated: Host = await make_host(settings=asymmetric("RS256", key="rsa", old=["rsa-old"]))
        assert await me_status(rotated, old_token) == 200
        new_token, new_header, _ = await log_in(rotated, register=False)
        kids = [key["kid"] for key in (await rotated.client.get("/auth/jwks.json")).json()["keys"]]
        assert kids == [new_header["kid"], old_header["kid"]]

        after: Host = await make_host(settings=asymmetric("RS256", key="rsa"))
        assert await me_status(after, old_token) == 401
        assert await me_status(after, new_token) == 200


class TestJWKS:
    @pytest.mark.parametrize("algorithm", ASYMMETRIC)
    async def test_another_service_verifies_with_the_jwks_alone(
        self, make_host: Any, asymmetric: Any, algorithm: str
    ) -> None:
        host: Host = await make_host(settings=asymmetric(algorithm))
        token, header, _ = await log_in(host)
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
        rsa_file = write(tmp_path, "rfc7638.pem", public_pem(rfc_rsa))
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
        ed_file = write(tmp_path, "rfc8037.pem", public_pem(rfc_ed))
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
        pem = private_pem(keypair("p256")).decode()
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
    pem = private_pem(keypair("p256"))

    def es256_file(name: str, data: bytes) -> Callable[[], UserKitSettings]:
        return lambda: make("ES256", jwt_private_key_file=write(tmp, name, data))

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
        "encrypted": es256_file("enc.pem", private_pem(keypair("p256"), b"passphrase")),
        "public-as-private": es256_file("pub.pem", public_pem(keypair("p256").public_key())),
        "both": lambda: make("ES256", jwt_private_key=pem.decode()),
        "neither": lambda: make("ES256", jwt_private_key_file=None),
        "garbage-text": lambda: make("ES256", jwt_private_key_file=None, jwt_private_key="hello"),
        "old-rsa-1024": lambda: make("RS256", old=["rsa-1024"]),
        "old-wrong-type": lambda: make("ES256", old=["ed25519"]),
        "old-missing": lambda: make("ES256", jwt_public_key_files=[tmp / "gone.pem"]),
        "old-private": lambda: make("ES256", jwt_public_key_files=[write(tmp, "p.pem", pem)]),
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
        private = write(tmp_path, "new.pem", private_pem(keypair("rsa")))
        public = write(tmp_path, "old.pub", public_pem(keypair("rsa-old").public_key()))
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
