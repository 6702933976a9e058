"""ASVS 4.0.3 V3.5.3 (V3.5.2, V6.2.2): the JWT attack corpus.

Every case goes through the HTTP API of a real host app and must be refused with a
401 (the e-mailed-token routes and the refresh grant of `/auth/jwt/login` answer
their documented 400), never a 200 nor a 500. The untouched tokens the cases start
from are accepted (`test_v3_5_3_untouched_tokens_are_accepted`, and each re-signing
case checks its unchanged token first), so every refusal is about what the case
changed. Replay after logout is V3.3.1, in test_v3_session_management.py;
docs/security/asvs.md maps every requirement to its tests.
"""

import base64
import datetime
import hashlib
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from fastapi_userkit import UserKitSettings
from fastapi_userkit._access_tokens import MAX_TOKEN_LENGTH
from fastapi_userkit._keys import hmac_kid
from tests.conftest import PASSWORD, SECRET, Host
from tests.security._jwt import (
    ASYMMETRIC,
    KEY_FOR,
    Signer,
    asymmetric_settings,
    b64,
    compact,
    compact_raw,
    hs256,
    keypair,
    kit_signer,
    log_in,
    me_status,
    public_pem,
    rs256,
    signer,
)
from tests.security._mail import Outbox

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

KITS = ["HS256", *ASYMMETRIC]
ALICE = "alice@example.com"
NEW_SECRET = "fedcba9876543210fedcba9876543210-newest-key"
LONG_SECRET = SECRET + "-" + SECRET[::-1]  # long enough for HS512
NEW_PASSWORD = "another-horse-battery-7"
MISSING = object()
HAS_ES256K = "ES256K" in jwt.algorithms.get_default_algorithms()

KitHost = Callable[[str], Awaitable[Host]]
#: Route groups the corpus never calls (the e-mailed-token cases mount their own).
UNCALLED = ("admin", "delete", "sessions", "cookie", "verify", "reset", "email-change")


@pytest.fixture
def asymmetric(make_settings: Callable[..., UserKitSettings], tmp_path: Path) -> Any:
    return asymmetric_settings(make_settings, tmp_path)


@pytest.fixture
def kit_host(make_host: Any, settings: UserKitSettings, asymmetric: Any) -> KitHost:
    """A host whose kit signs with *kit*: the test SECRET for HS256, else a key file.

    The route groups no case calls are left out: the token checks are the same, and
    building those routes would be most of the cost of each of the many hosts.
    """

    async def make(kit: str) -> Host:
        chosen = settings if kit == "HS256" else asymmetric(kit)
        return await make_host(settings=chosen, exclude=UNCALLED)  # type: ignore[no-any-return]

    return make


def _changed(mapping: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """*mapping* with *changes*: a callable value is given the mapping, MISSING drops."""
    result = dict(mapping)
    for name, value in changes.items():
        value = value(mapping) if callable(value) else value
        if value is MISSING:
            result.pop(name, None)
        else:
            result[name] = value
    return result


def _self_signed_certificate(key: Any) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fastapi-userkit")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


# --- The untouched tokens -------------------------------------------------------------


@pytest.mark.parametrize("kit", KITS)
async def test_v3_5_3_untouched_tokens_are_accepted(kit_host: KitHost, kit: str) -> None:
    # The helpers the corpus builds its forgeries with make tokens the kit accepts.
    host = await kit_host(kit)
    token, header, claims = await log_in(host)
    assert header == {"alg": kit, "typ": "at+jwt", "kid": header["kid"]}
    assert await me_status(host, token) == 200
    assert await me_status(host, compact(header, claims, kit_signer(kit))) == 200
    key = SECRET if kit == "HS256" else keypair(KEY_FOR[kit])
    assert await me_status(host, jwt.encode(claims, key, kit, headers=header)) == 200


# --- Null cipher, algorithm confusion, other algorithms ---------------------------------


@pytest.mark.parametrize("form", ["empty-signature", "no-signature-part", "real-signature"])
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
@pytest.mark.parametrize("kit", ["HS256", "RS256"])
async def test_v3_5_3_alg_none_is_refused(kit_host: KitHost, kit: str, alg: str, form: str) -> None:
    host = await kit_host(kit)
    token, header, claims = await log_in(host)
    unsigned = compact({**header, "alg": alg}, claims, lambda message: b"")  # ends with "."
    forged = {
        "empty-signature": unsigned,
        "no-signature-part": unsigned.removesuffix("."),
        "real-signature": unsigned + token.rsplit(".", 1)[1],
    }[form]
    assert await me_status(host, forged) == 401


@pytest.mark.parametrize(
    ("kit", "encoding"),
    [
        *[("RS256", e) for e in ("pem", "pem-stripped", "pem-body", "der", "openssh")],
        *[("RS256", e) for e in ("jwk-member", "jwk-json")],
        *[("ES256", e) for e in ("pem", "openssh", "jwk-member")],
        *[("EdDSA", e) for e in ("pem", "der", "jwk-member")],
    ],
)
async def test_v3_5_3_hs256_signed_with_the_public_key_is_refused(
    kit_host: KitHost, kit: str, encoding: str
) -> None:
    # Key substitution: the public key, in any form a verifier might use as an HMAC secret.
    host = await kit_host(kit)
    _, header, claims = await log_in(host)
    public = keypair(KEY_FOR[kit]).public_key()
    pem = public_pem(public)
    (published,) = (await host.client.get("/auth/jwks.json")).json()["keys"]
    secret = {
        "pem": pem,
        "pem-stripped": pem.strip(),
        "pem-body": b"".join(pem.splitlines()[1:-1]),
        "der": public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "openssh": public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
        "jwk-member": published["n" if kit == "RS256" else "x"].encode(),
        "jwk-json": json.dumps(published).encode(),
    }[encoding]
    assert await me_status(host, compact({**header, "alg": "HS256"}, claims, hs256(secret))) == 401


@pytest.mark.parametrize(
    ("kit", "alg", "secret"),
    [
        pytest.param("HS256", "HS384", SECRET, id="hs256-kit-hs384"),
        pytest.param("HS256", "HS512", SECRET, id="hs256-kit-hs512"),
        pytest.param("HS512", "HS256", LONG_SECRET, id="hs512-kit-hs256"),
        pytest.param("HS512", "HS384", LONG_SECRET, id="hs512-kit-hs384"),
    ],
)
async def test_v6_2_2_other_hmac_algorithm_with_the_kits_own_secret_is_refused(
    make_host: Any, make_settings: Any, kit: str, alg: str, secret: str
) -> None:
    settings = make_settings(secret_key=secret, jwt_algorithm=kit)
    host: Host = await make_host(settings=settings, exclude=UNCALLED)
    _, header, claims = await log_in(host)
    token = compact({**header, "alg": alg}, claims, signer(alg, secret.encode()))
    assert await me_status(host, token) == 401


@pytest.mark.parametrize(
    ("kit", "alg", "key"),
    [
        pytest.param("RS256", "RS384", "rsa", id="rs256-kit-rs384-own-key"),
        pytest.param("RS256", "RS512", "rsa", id="rs256-kit-rs512-own-key"),
        pytest.param("RS256", "PS256", "rsa", id="rs256-kit-ps256-own-key"),
        pytest.param("RS256", "ES256", "p256", id="rs256-kit-es256"),
        pytest.param("RS256", "EdDSA", "ed25519", id="rs256-kit-eddsa"),
        pytest.param("ES256", "RS256", "rsa", id="es256-kit-rs256"),
        pytest.param("ES256", "ES384", "p384", id="es256-kit-es384"),
        pytest.param("ES256", "ES512", "p521", id="es256-kit-es512"),
        pytest.param(
            "ES256",
            "ES256K",
            "k256",
            id="es256-kit-es256k",
            marks=pytest.mark.skipif(not HAS_ES256K, reason="PyJWT without ES256K"),
        ),
        pytest.param("ES256", "EdDSA", "ed25519", id="es256-kit-eddsa"),
        pytest.param("EdDSA", "ES256", "p256", id="eddsa-kit-es256"),
        pytest.param("EdDSA", "RS256", "rsa", id="eddsa-kit-rs256"),
        pytest.param("HS256", "RS256", "rsa", id="hs256-kit-rs256"),
        pytest.param("HS256", "PS256", "rsa", id="hs256-kit-ps256"),
        pytest.param("HS256", "ES256", "p256", id="hs256-kit-es256"),
        pytest.param("HS256", "EdDSA", "ed25519", id="hs256-kit-eddsa"),
    ],
)
async def test_v6_2_2_other_algorithm_with_the_ring_kid_is_refused(
    kit_host: KitHost, kit: str, alg: str, key: str
) -> None:
    host = await kit_host(kit)
    _, header, claims = await log_in(host)
    token = compact({**header, "alg": alg}, claims, signer(alg, keypair(key)))
    assert await me_status(host, token) == 401


@pytest.mark.parametrize(
    ("kit", "alg"),
    [
        pytest.param("HS256", "HS256 ", id="trailing-space"),
        pytest.param("HS256", " HS256", id="leading-space"),
        pytest.param("HS256", "hs256", id="lower-case"),
        pytest.param("HS256", "HS256\u0000", id="nul"),
        pytest.param("HS256", "HS-256", id="hyphen"),
        pytest.param("HS256", "", id="empty"),
        pytest.param("HS256", None, id="null"),
        pytest.param("HS256", 256, id="number"),
        pytest.param("HS256", ["HS256"], id="list"),
        pytest.param("HS256", {"alg": "HS256"}, id="object"),
        pytest.param("RS256", "rs256", id="rs256-lower-case"),
        pytest.param("RS256", "RS256 ", id="rs256-trailing-space"),
    ],
)
async def test_v6_2_2_made_up_algorithm_names_are_refused(
    kit_host: KitHost, kit: str, alg: Any
) -> None:
    # Signed as the kit signs: only the spelling of `alg` is wrong.
    host = await kit_host(kit)
    _, header, claims = await log_in(host)
    assert await me_status(host, compact({**header, "alg": alg}, claims, kit_signer(kit))) == 401


@pytest.mark.parametrize(
    ("shape", "jwe_header"),
    [
        pytest.param("five-parts", {"alg": "RSA-OAEP", "enc": "A256GCM"}, id="rsa-oaep"),
        pytest.param(
            "five-parts", {"alg": "RSA-OAEP-256", "enc": "A128CBC-HS256"}, id="rsa-oaep-256"
        ),
        pytest.param("five-parts", {"alg": "dir", "enc": "A256GCM"}, id="dir"),
        pytest.param("five-parts", {"alg": "A128KW", "enc": "A128GCM"}, id="a128kw"),
        pytest.param(
            "five-parts", {"alg": "ECDH-ES", "enc": "A256GCM", "epk": {"kty": "EC"}}, id="ecdh-es"
        ),
        pytest.param(
            "five-parts",
            {"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2s": "c2FsdA", "p2c": 2**31 - 1},
            id="pbes2-huge-count",
        ),
        pytest.param("signed-jws", {"alg": "dir"}, id="dir-signed-jws"),
        pytest.param("signed-jws", {"alg": "RSA-OAEP"}, id="rsa-oaep-signed-jws"),
    ],
)
async def test_v3_5_3_jwe_envelopes_are_refused(
    kit_host: KitHost, shape: str, jwe_header: dict[str, Any]
) -> None:
    # Enveloping: key-management `alg`s of JWE, as a five-part token and as a JWS
    # signed with the kit's own key.
    host = await kit_host("RS256")
    _, header, claims = await log_in(host)
    forged_header = {**header, **jwe_header}
    if shape == "signed-jws":
        token = compact(forged_header, claims, kit_signer("RS256"))
    else:
        encrypted_key = "" if jwe_header["alg"] == "dir" else b64(b"k" * 256)
        parts = [b64(json.dumps(forged_header).encode()), encrypted_key, b64(b"i" * 12)]
        token = ".".join([*parts, b64(json.dumps(claims).encode()), b64(b"t" * 16)])
    assert await me_status(host, token) == 401


# --- Header parameters and keys the token brings along ----------------------------------


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"crit": ["exp"]}, id="crit"),
        pytest.param({"crit": ["b64"], "b64": False}, id="crit-b64"),
        pytest.param({"crit": []}, id="crit-empty"),
        pytest.param({"jku": "https://evil.example/jwks.json"}, id="jku"),
        pytest.param({"x5u": "https://evil.example/cert.pem"}, id="x5u"),
        pytest.param({"x5c": ["MIIB"]}, id="x5c"),
        pytest.param({"x5t": b64(b"t" * 20)}, id="x5t"),
        pytest.param({"x5t#S256": b64(b"t" * 32)}, id="x5t-s256"),
        pytest.param({"cty": "JWT"}, id="nested-cty"),
        pytest.param({"enc": "A256GCM"}, id="enc"),
        pytest.param({"zip": "DEF"}, id="zip"),
        pytest.param({"url": "https://evil.example/"}, id="url"),
        pytest.param({"jwk": "own"}, id="jwk-of-the-kit"),
    ],
)
async def test_v3_5_3_unknown_header_parameters_are_refused(
    kit_host: KitHost, change: dict[str, Any]
) -> None:
    # Signed with the kit's own key: only the extra parameter is wrong.
    host = await kit_host("RS256")
    _, header, claims = await log_in(host)
    if change.get("jwk") == "own":
        (published,) = (await host.client.get("/auth/jwks.json")).json()["keys"]
        change = {"jwk": published}
    forged = compact({**header, **change}, claims, rs256(keypair("rsa")))
    assert await me_status(host, forged) == 401


@pytest.mark.parametrize(
    "carrier", ["jwk-ring-kid", "jwk-own-kid", "jku", "x5u", "x5c", "x5c-x5t", "x5t-s256"]
)
async def test_v3_5_3_keys_the_token_brings_along_are_not_trusted(
    kit_host: KitHost, carrier: str
) -> None:
    # The attacker's own key, signing, and named or embedded in the header.
    host = await kit_host("RS256")
    _, header, claims = await log_in(host)
    attacker = keypair("rsa-attacker")
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(attacker.public_key()))
    certificate = _self_signed_certificate(attacker)
    der = certificate.public_bytes(serialization.Encoding.DER)
    thumbprint = b64(hashlib.sha256(public_pem(attacker.public_key())).digest())
    chain = [base64.b64encode(der).decode()]
    forged = {
        "jwk-ring-kid": {**header, "jwk": jwk},
        "jwk-own-kid": {**header, "jwk": jwk, "kid": thumbprint},
        "jku": {**header, "jku": "https://evil.example/jwks.json", "kid": thumbprint},
        "x5u": {**header, "x5u": "https://evil.example/cert.pem"},
        "x5c": {**header, "x5c": chain},
        "x5c-x5t": {**header, "x5c": chain, "x5t": b64(hashlib.sha1(der).digest())},  # noqa: S324
        "x5t-s256": {**header, "x5t#S256": b64(hashlib.sha256(der).digest())},
    }[carrier]
    assert await me_status(host, compact(forged, claims, rs256(attacker))) == 401


@pytest.mark.parametrize(
    "kid",
    [
        pytest.param(MISSING, id="missing"),
        pytest.param(None, id="null"),
        pytest.param("nope", id="unknown"),
        pytest.param("", id="empty"),
        pytest.param("../../../../../../dev/null", id="path-traversal"),
        pytest.param("x' OR '1'='1", id="sql-injection"),
        pytest.param("https://evil.example/key", id="url"),
        pytest.param(lambda h: h["kid"] + "\u0000", id="ring-kid-nul"),
        pytest.param(lambda h: h["kid"] + " ", id="ring-kid-space"),
        pytest.param(lambda h: h["kid"].upper(), id="ring-kid-upper"),
        pytest.param(lambda h: h["kid"][:8], id="ring-kid-prefix"),
        pytest.param("0" * 16, id="zeros"),
        pytest.param(7, id="int"),
        pytest.param(True, id="bool"),
        pytest.param(lambda h: [h["kid"]], id="list"),
        pytest.param(lambda h: {"kid": h["kid"]}, id="object"),
    ],
)
@pytest.mark.parametrize("kit", ["HS256", "RS256"])
async def test_v3_5_3_kid_tricks_are_refused(kit_host: KitHost, kit: str, kid: Any) -> None:
    # Signed with the ring's own key: only the `kid` is wrong.
    host = await kit_host(kit)
    _, header, claims = await log_in(host)
    forged = _changed(header, {"kid": kid})
    assert forged != header
    assert await me_status(host, compact(forged, claims, kit_signer(kit))) == 401


@pytest.mark.parametrize(
    ("kid", "secret"),
    [
        pytest.param("../../../../../../dev/null", b"", id="dev-null-empty-key"),
        pytest.param("/proc/sys/kernel/randomize_va_space", b"2\n", id="proc-file"),
        pytest.param("x' UNION SELECT 'attacker-key' --", b"attacker-key", id="sql-union-key"),
        pytest.param("0 OR 1=1", b"", id="sql-or-empty-key"),
    ],
)
@pytest.mark.parametrize("kit", ["HS256", "RS256"])
async def test_v3_5_3_kid_pointing_at_a_guessable_key_is_refused(
    kit_host: KitHost, kit: str, kid: str, secret: bytes
) -> None:
    # What a `kid` injection sends: HS256 with the key the injected lookup would return.
    host = await kit_host(kit)
    _, header, claims = await log_in(host)
    token = compact({**header, "alg": "HS256", "kid": kid}, claims, hs256(secret))
    assert await me_status(host, token) == 401


@pytest.mark.parametrize(
    ("kit", "key", "kid"),
    [
        pytest.param("HS256", NEW_SECRET.encode(), "ring", id="hs256-other-secret-ring-kid"),
        pytest.param("HS256", NEW_SECRET.encode(), "own", id="hs256-other-secret-own-kid"),
        pytest.param("HS256", b"", "ring", id="hs256-empty-secret"),
        pytest.param("RS256", "rsa-attacker", "ring", id="rs256-attacker-ring-kid"),
        pytest.param("RS256", "rsa-attacker", "own", id="rs256-attacker-own-kid"),
        pytest.param("ES256", "p256-attacker", "ring", id="es256-attacker-ring-kid"),
        pytest.param("EdDSA", "ed25519-attacker", "ring", id="eddsa-attacker-ring-kid"),
        pytest.param("EdDSA", "ed448", "ring", id="eddsa-ed448-key-ring-kid"),
    ],
)
async def test_v3_5_3_key_outside_the_ring_is_refused(
    kit_host: KitHost, kit: str, key: Any, kid: str
) -> None:
    # "own": the kid the attacker's key would have, were it in the ring.
    host = await kit_host(kit)
    _, header, claims = await log_in(host)
    sign: Signer
    if isinstance(key, bytes):
        sign, own_kid = hs256(key), hmac_kid(key)
    else:
        private = keypair(key)
        sign = signer(kit, private)
        own_kid = b64(hashlib.sha256(public_pem(private.public_key())).digest())
    forged = {**header, "kid": own_kid} if kid == "own" else header
    assert await me_status(host, compact(forged, claims, sign)) == 401


@pytest.mark.parametrize(
    "typ",
    [
        pytest.param(MISSING, id="missing"),
        pytest.param(None, id="null"),
        pytest.param("JWT", id="jwt"),
        pytest.param("AT+JWT", id="upper-case"),
        pytest.param("at+jwt ", id="trailing-space"),
        pytest.param("at+jwt\u0000", id="nul"),
        pytest.param("reset+jwt", id="reset"),
        pytest.param("userkit-reset+jwt", id="userkit-reset"),
        pytest.param("userkit-verify+jwt", id="userkit-verify"),
        pytest.param("userkit-email-change+jwt", id="userkit-email-change"),
        pytest.param(["at+jwt"], id="list"),
        pytest.param(1, id="number"),
    ],
)
async def test_v3_5_3_typ_header_other_than_at_jwt_is_refused(kit_host: KitHost, typ: Any) -> None:
    # Signed with the kit's own key: only `typ` is wrong (RFC 8725 §3.11 explicit typing).
    host = await kit_host("RS256")
    _, header, claims = await log_in(host)
    forged = _changed(header, {"typ": typ})
    assert await me_status(host, compact(forged, claims, kit_signer("RS256"))) == 401


# --- Claims: a valid signature, one claim wrong -----------------------------------------


async def _resigned(host: Host, changes: dict[str, Any]) -> str:
    """Alice's access token with *changes* to its claims, re-signed with the test SECRET,
    after checking that the unchanged token, re-signed, is accepted.
    """
    _, header, claims = await log_in(host)
    assert await me_status(host, compact(header, claims, kit_signer("HS256"))) == 200
    forged = _changed(claims, changes)
    assert json.dumps(forged) != json.dumps(claims)
    return compact(header, forged, kit_signer("HS256"))


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": MISSING}, id="exp-missing"),
        pytest.param({"exp": None}, id="exp-null"),
        pytest.param({"exp": lambda c: str(c["exp"])}, id="exp-string"),
        pytest.param({"exp": "never"}, id="exp-word"),
        pytest.param({"exp": lambda c: c["exp"] + 0.5}, id="exp-float"),
        pytest.param({"exp": 10**20}, id="exp-huge"),
        pytest.param({"exp": 1e300}, id="exp-huge-float"),
        pytest.param({"exp": float("inf")}, id="exp-infinity"),
        pytest.param({"exp": float("nan")}, id="exp-nan"),
        pytest.param({"exp": -1}, id="exp-negative"),
        pytest.param({"exp": 0}, id="exp-zero"),
        pytest.param({"exp": True}, id="exp-bool"),
        pytest.param({"exp": lambda c: [c["exp"]]}, id="exp-list"),
        pytest.param({"exp": lambda c: {"$gt": c["exp"]}}, id="exp-object"),
        pytest.param({"exp": lambda c: c["iat"] - 1}, id="exp-past"),
    ],
)
async def test_v3_5_2_access_tokens_without_a_sound_expiry_are_refused(
    kit_host: KitHost, changes: dict[str, Any]
) -> None:
    # A token that never expires would be a static secret: `exp` must be a sound
    # NumericDate in the future.
    host = await kit_host("HS256")
    assert await me_status(host, await _resigned(host, changes)) == 401


def _other_user(claims: dict[str, Any]) -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize(
    "changes",
    [
        # issued at, not before
        pytest.param({"iat": lambda c: c["iat"] + 3600}, id="iat-future"),
        pytest.param({"iat": MISSING}, id="iat-missing"),
        pytest.param({"iat": lambda c: str(c["iat"])}, id="iat-string"),
        pytest.param({"iat": None}, id="iat-null"),
        pytest.param({"iat": 10**20}, id="iat-huge"),
        pytest.param({"nbf": lambda c: c["iat"] + 3600}, id="nbf-future"),
        pytest.param({"nbf": lambda c: str(c["iat"] + 3600)}, id="nbf-future-string"),
        pytest.param({"nbf": "soon"}, id="nbf-word"),
        # subject
        pytest.param({"sub": lambda c: {"id": c["sub"]}}, id="sub-object"),
        pytest.param({"sub": lambda c: [c["sub"]]}, id="sub-list"),
        pytest.param({"sub": 1}, id="sub-int"),
        pytest.param({"sub": ""}, id="sub-empty"),
        pytest.param({"sub": None}, id="sub-null"),
        pytest.param({"sub": MISSING}, id="sub-missing"),
        pytest.param({"sub": _other_user}, id="sub-other-user"),
        pytest.param({"sub": lambda c: c["sub"].upper()}, id="sub-upper-case"),
        pytest.param({"sub": lambda c: "{" + c["sub"] + "}"}, id="sub-braces"),
        pytest.param({"sub": lambda c: "urn:uuid:" + c["sub"]}, id="sub-urn"),
        pytest.param({"sub": lambda c: c["sub"].replace("-", "")}, id="sub-hex"),
        pytest.param({"sub": lambda c: " " + c["sub"]}, id="sub-space"),
        # session
        pytest.param({"sid": 1}, id="sid-int"),
        pytest.param({"sid": lambda c: str(uuid.uuid4())}, id="sid-unknown"),
        pytest.param({"sid": MISSING}, id="sid-missing"),
        pytest.param({"sid": ""}, id="sid-empty"),
        pytest.param({"sid": None}, id="sid-null"),
        pytest.param({"sid": "../sessions"}, id="sid-traversal"),
        pytest.param({"sid": "x' OR '1'='1"}, id="sid-injection"),
        pytest.param({"sid": "a" * 65}, id="sid-too-long"),
        pytest.param({"sid": lambda c: [c["sid"]]}, id="sid-list"),
        # token version
        pytest.param({"ver": lambda c: str(c["ver"])}, id="ver-string"),
        pytest.param({"ver": lambda c: c["ver"] + 1}, id="ver-mismatched"),
        pytest.param({"ver": lambda c: c["ver"] - 1}, id="ver-older"),
        pytest.param({"ver": lambda c: float(c["ver"])}, id="ver-float"),
        pytest.param({"ver": lambda c: not c["ver"]}, id="ver-bool"),
        pytest.param({"ver": None}, id="ver-null"),
        pytest.param({"ver": MISSING}, id="ver-missing"),
        # audience and issuer
        pytest.param({"aud": "another-service"}, id="aud-wrong"),
        pytest.param({"aud": lambda c: c["aud"] + ":reset"}, id="aud-of-reset-tokens"),
        pytest.param({"aud": lambda c: [c["aud"], "another-service"]}, id="aud-list"),
        pytest.param({"aud": MISSING}, id="aud-missing"),
        pytest.param({"aud": 1}, id="aud-int"),
        pytest.param({"aud": None}, id="aud-null"),
        pytest.param({"iss": "https://evil.example"}, id="iss-wrong"),
        pytest.param({"iss": lambda c: [c["iss"], "https://evil.example"]}, id="iss-list"),
        pytest.param({"iss": MISSING}, id="iss-missing"),
        pytest.param({"iss": 1}, id="iss-int"),
        # token id
        pytest.param({"jti": MISSING}, id="jti-missing"),
        pytest.param({"jti": 1}, id="jti-int"),
        # kind of token
        pytest.param({"type": "refresh"}, id="type-refresh"),
        pytest.param({"type": "reset"}, id="type-reset"),
        pytest.param({"type": "verify"}, id="type-verify"),
        pytest.param({"type": "email-change"}, id="type-email-change"),
        pytest.param({"type": "ACCESS"}, id="type-upper-case"),
        pytest.param({"type": "access "}, id="type-trailing-space"),
        pytest.param({"type": ["access"]}, id="type-list"),
        pytest.param({"type": None}, id="type-null"),
        pytest.param({"type": MISSING}, id="type-missing"),
    ],
)
async def test_v3_5_3_claims_of_the_wrong_type_or_value_are_refused(
    kit_host: KitHost, changes: dict[str, Any]
) -> None:
    host = await kit_host("HS256")
    assert await me_status(host, await _resigned(host, changes)) == 401


# --- Every kind of token where another is expected ---------------------------------------

#: The routes of the e-mailed tokens: path, other body fields, the documented 400 code.
ACTION_ROUTES = {
    "reset": ("/auth/reset-password", {"password": NEW_PASSWORD}, "RESET_PASSWORD_BAD_TOKEN"),
    "verify": ("/auth/verify", {}, "VERIFY_USER_BAD_TOKEN"),
    "email-change": ("/users/me/email/confirm", {}, "EMAIL_CHANGE_BAD_TOKEN"),
}
ACTION_KINDS = list(ACTION_ROUTES)


class Tokens:
    """Alice's tokens of every kind, from one host: access, refresh and e-mailed ones."""

    def __init__(self, host: Host, pair: dict[str, str], mailed: dict[str, str]) -> None:
        self.host = host
        self.access = pair["access_token"]
        self.refresh = pair["refresh_token"]
        self.mailed = mailed

    def of(self, kind: str) -> str:
        return {"access": self.access, "refresh": self.refresh}.get(kind) or self.mailed[kind]

    async def at_refresh(self, token: str, route: str) -> tuple[int, Any]:
        """Present *token* as a refresh token: the status and the body."""
        client = self.host.client
        if route == "refresh-endpoint":
            response = await client.post("/auth/jwt/refresh", json={"refresh_token": token})
        else:  # RFC 6749 §6 on the token endpoint
            form = {"grant_type": "refresh_token", "refresh_token": token}
            response = await client.post("/auth/jwt/login", data=form)
        return response.status_code, response.json()

    async def at_action(self, token: str, kind: str) -> tuple[int, Any]:
        """Present *token* at the route of the e-mailed *kind*: status and `detail`."""
        path, fields, _ = ACTION_ROUTES[kind]
        response = await self.host.client.post(path, json={"token": token, **fields})
        return response.status_code, response.json()


@pytest.fixture
async def tokens(make_host: Any, make_settings: Any) -> Tokens:
    outbox = Outbox()
    host: Host = await make_host(
        settings=make_settings(frontend_url="https://app.example"), email_sender=outbox
    )
    assert (await host.register()).status_code == 201
    credentials = {"username": ALICE, "password": PASSWORD}
    pair = (await host.client.post("/auth/jwt/login", data=credentials)).json()
    bearer = {"Authorization": f"Bearer {pair['access_token']}"}
    for path, body, headers in [
        ("/auth/forgot-password", {"email": ALICE}, {}),
        ("/auth/request-verify-token", {"email": ALICE}, {}),
        (
            "/users/me/email",
            {"current_password": PASSWORD, "new_email": "alice@new.example"},
            bearer,
        ),
    ]:
        assert (await host.client.post(path, json=body, headers=headers)).status_code == 202
    kinds = {f"userkit-{kind}+jwt": kind for kind in ACTION_KINDS}
    mailed = {kinds[jwt.get_unverified_header(t)["typ"]]: t for t in outbox.tokens()}
    assert set(mailed) == set(ACTION_KINDS)
    return Tokens(host, pair, mailed)


@pytest.mark.parametrize("kit", ["HS256", "EdDSA"])
async def test_v3_5_3_refresh_and_access_tokens_are_not_interchangeable(
    kit_host: KitHost, kit: str
) -> None:
    host = await kit_host(kit)
    await host.register()
    credentials = {"username": ALICE, "password": PASSWORD}
    pair = (await host.client.post("/auth/jwt/login", data=credentials)).json()
    assert await me_status(host, pair["refresh_token"]) == 401
    refreshed = await host.client.post(
        "/auth/jwt/refresh", json={"refresh_token": pair["access_token"]}
    )
    assert refreshed.status_code == 401
    assert "access_token" not in refreshed.text
    assert await me_status(host, pair["access_token"]) == 200


@pytest.mark.parametrize("route", ["refresh-endpoint", "refresh-grant"])
@pytest.mark.parametrize("kind", ["access", *ACTION_KINDS])
async def test_v3_5_3_access_and_e_mailed_tokens_are_not_refresh_tokens(
    tokens: Tokens, kind: str, route: str
) -> None:
    # The refresh endpoint answers 401; the refresh grant its RFC 6749 §5.2 400.
    status, body = await tokens.at_refresh(tokens.of(kind), route)
    if route == "refresh-endpoint":
        assert (status, body) == (401, {"detail": "REFRESH_TOKEN_INVALID"})
    else:
        assert (status, body["error"], body["detail"]) == (
            400,
            "invalid_grant",
            "REFRESH_TOKEN_INVALID",
        )
    status, body = await tokens.at_refresh(tokens.refresh, route)
    assert status == 200
    assert "access_token" in body


@pytest.mark.parametrize("kind", ACTION_KINDS)
async def test_v3_5_3_e_mailed_tokens_are_not_bearer_tokens(tokens: Tokens, kind: str) -> None:
    assert await me_status(tokens.host, tokens.of(kind)) == 401
    assert await me_status(tokens.host, tokens.access) == 200


@pytest.mark.parametrize(
    ("kind", "route"),
    [(kind, route) for kind in ACTION_KINDS for route in ACTION_KINDS if kind != route],
)
async def test_v3_5_3_e_mailed_tokens_only_work_at_their_own_route(
    tokens: Tokens, kind: str, route: str
) -> None:
    status, body = await tokens.at_action(tokens.of(kind), route)
    assert (status, body) == (400, {"detail": ACTION_ROUTES[route][2]})
    # The token itself was sound: its own route takes it.
    assert (await tokens.at_action(tokens.of(kind), kind))[0] == 200


@pytest.mark.parametrize("route", ACTION_KINDS)
@pytest.mark.parametrize("kind", ["access", "refresh"])
async def test_v3_5_3_session_tokens_are_not_e_mailed_tokens(
    tokens: Tokens, kind: str, route: str
) -> None:
    status, body = await tokens.at_action(tokens.of(kind), route)
    assert (status, body) == (400, {"detail": ACTION_ROUTES[route][2]})


# --- Structural garbage -----------------------------------------------------------------


def _inside(segment: int, insert: bytes) -> Callable[[str], bytes]:
    """*insert* in the middle of the token's *segment* (0 header, 1 payload, 2 signature)."""

    def change(token: str) -> bytes:
        parts = [part.encode() for part in token.split(".")]
        middle = len(parts[segment]) // 2
        parts[segment] = parts[segment][:middle] + insert + parts[segment][middle:]
        return b".".join(parts)

    return change


def _padded(segment: int) -> Callable[[str], bytes]:
    """The token with the base64 padding its *segment* would have, were it not omitted."""

    def change(token: str) -> bytes:
        parts = token.split(".")
        padding = "=" * (-len(parts[segment]) % 4) or "===="
        parts[segment] += padding
        return ".".join(parts).encode()

    return change


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda t: b"Bearer", id="bearer-without-token"),
        pytest.param(lambda t: b"Bearer ", id="bearer-and-space"),
        pytest.param(lambda t: b'Bearer ""', id="empty-quoted"),
        pytest.param(lambda t: t.encode(), id="token-without-scheme"),
        pytest.param(lambda t: b"Basic " + t.encode(), id="basic-scheme"),
        pytest.param(lambda t: b"Bearer Bearer " + t.encode(), id="bearer-twice"),
        pytest.param(lambda t: f"Bearer {t} {t}".encode(), id="two-tokens"),
        pytest.param(lambda t: f"Bearer {t}, Bearer {t}".encode(), id="two-credentials"),
        pytest.param(lambda t: f'Bearer "{t}"'.encode(), id="quoted"),
        pytest.param(lambda t: b"Bearer " + t.split(".")[0].encode(), id="one-part"),
        pytest.param(lambda t: b"Bearer " + t.rsplit(".", 1)[0].encode(), id="two-parts"),
        pytest.param(lambda t: b"Bearer " + t.rsplit(".", 1)[0].encode() + b".", id="empty-sig"),
        pytest.param(lambda t: f"Bearer {t}.{t.split('.')[2]}".encode(), id="four-parts"),
        pytest.param(lambda t: f"Bearer {t}.e30.e30".encode(), id="five-parts"),
        pytest.param(lambda t: f"Bearer .{t}".encode(), id="leading-dot"),
        pytest.param(lambda t: f"Bearer {t}.".encode(), id="trailing-dot"),
        pytest.param(lambda t: b"Bearer ..", id="dots-only"),
        pytest.param(lambda t: b"Bearer " + t.replace(".", "..").encode(), id="double-dots"),
        pytest.param(lambda t: b"Bearer " + _inside(2, b"!")(t), id="non-base64-signature"),
        pytest.param(lambda t: b"Bearer " + _inside(1, b"*")(t), id="non-base64-payload"),
        pytest.param(lambda t: b"Bearer " + _inside(0, b"$")(t), id="non-base64-header"),
        pytest.param(
            lambda t: b"Bearer " + t.replace("-", "+").replace("_", "/").encode() + b"+/",
            id="standard-base64-alphabet",
        ),
        pytest.param(lambda t: b"Bearer " + _padded(2)(t), id="padded-signature"),
        pytest.param(lambda t: b"Bearer " + _padded(1)(t), id="padded-payload"),
        pytest.param(lambda t: b"Bearer " + _padded(0)(t), id="padded-header"),
        pytest.param(lambda t: b"Bearer " + t.encode() + b"==", id="trailing-padding"),
        pytest.param(lambda t: b"Bearer " + _inside(2, b" ")(t), id="space-inside"),
        pytest.param(lambda t: b"Bearer " + _inside(2, b"\t")(t), id="tab-inside"),
        pytest.param(lambda t: b"Bearer " + _inside(1, b"\n")(t), id="newline-inside"),
        pytest.param(lambda t: b"Bearer " + _inside(1, b"\r\n ")(t), id="folded-line"),
        pytest.param(lambda t: b"Bearer " + _inside(2, b"\x00")(t), id="nul-inside"),
        pytest.param(lambda t: b"Bearer " + _inside(2, "é".encode())(t), id="unicode"),
        pytest.param(
            lambda t: b"Bearer " + t.replace(".", "\uff0e").encode(), id="unicode-full-stops"
        ),
        pytest.param(lambda t: b"Bearer " + _inside(2, b"\xff\xfe")(t), id="non-utf8"),
        pytest.param(lambda t: b"Bearer " + t.upper().encode(), id="upper-cased"),
        pytest.param(lambda t: b"Bearer " + t[::-1].encode(), id="reversed"),
    ],
)
async def test_v3_5_3_structural_garbage_is_refused(
    kit_host: KitHost, authorization: Callable[[str], bytes]
) -> None:
    host = await kit_host("HS256")
    token, _, _ = await log_in(host)
    value = authorization(token)
    assert value != f"Bearer {token}".encode()
    response = await host.client.get("/users/me", headers=[(b"authorization", value)])
    assert response.status_code == 401


@pytest.mark.parametrize(
    "raw_header",
    [
        b"[" * 5000,
        b"[]",
        b"1",
        b"1e999",
        b"null",
        b"true",
        b'"kid"',
        b"",
        b"\xff\xfe",
        b"{",
        b'{"kid": {"$ne": 1}}',
        b'{"alg": "HS256", "alg": "none"}',
    ],
    ids=[
        "deeply-nested",
        "array",
        "number",
        "huge-number",
        "null",
        "true",
        "string",
        "empty",
        "not-utf8",
        "truncated",
        "object-kid",
        "duplicate-alg",
    ],
)
async def test_v3_5_3_malformed_header_segment_is_refused(
    kit_host: KitHost, raw_header: bytes
) -> None:
    host = await kit_host("HS256")
    token, _, _ = await log_in(host)
    forged = ".".join([b64(raw_header), *token.split(".")[1:]])
    assert await me_status(host, forged) == 401


@pytest.mark.parametrize(
    "raw_payload",
    [b"[" * 5000, b"[]", b"1", b"null", b'"sub"', b"", b"\xff\xfe", b"{", b"{}"],
    ids=[
        "deeply-nested",
        "array",
        "number",
        "null",
        "string",
        "empty",
        "not-utf8",
        "truncated",
        "empty-object",
    ],
)
async def test_v3_5_3_malformed_payload_with_a_valid_signature_is_refused(
    kit_host: KitHost, raw_payload: bytes
) -> None:
    host = await kit_host("HS256")
    _, header, _ = await log_in(host)
    token = compact_raw(json.dumps(header).encode(), raw_payload, kit_signer("HS256"))
    assert await me_status(host, token) == 401


# --- Oversize ---------------------------------------------------------------------------


def _of_length(header: dict[str, Any], claims: dict[str, Any], length: int) -> str:
    """Alice's token, signed as the kit signs, padded (a `pad` claim, spaces in the
    header's JSON) to exactly *length* characters.
    """
    sign = kit_signer("HS256")
    for spaces in range(4):  # a longer header segment reaches the lengths a payload skips
        raw_header = json.dumps(header).replace(",", "," + " " * spaces, 1).encode()
        unpadded = len(compact_raw(raw_header, json.dumps({**claims, "pad": ""}).encode(), sign))
        for extra in range(max(0, (length - unpadded) * 3 // 4 - 4), length):
            padded = json.dumps({**claims, "pad": "x" * extra}).encode()
            token = compact_raw(raw_header, padded, sign)
            if len(token) >= length:
                if len(token) == length:
                    return token
                break
    raise AssertionError(f"no token of {length} characters")


async def test_v3_5_3_tokens_above_the_length_limit_are_refused(kit_host: KitHost) -> None:
    host = await kit_host("HS256")
    _, header, claims = await log_in(host)
    assert await me_status(host, _of_length(header, claims, MAX_TOKEN_LENGTH)) == 200
    assert await me_status(host, _of_length(header, claims, MAX_TOKEN_LENGTH + 1)) == 401
    answer = await host.client.post(
        "/auth/jwt/refresh", json={"refresh_token": "A" * (MAX_TOKEN_LENGTH + 1)}
    )
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(lambda t: "Bearer " + "A" * 2**20, id="one-part"),
        pytest.param(lambda t: "Bearer " + t + "A" * 2**20, id="long-signature"),
        pytest.param(lambda t: f"Bearer {t.split('.')[0]}.{'e' * 2**20}.{t}", id="long-payload"),
        pytest.param(lambda t: "Bearer " + "." * 2**20, id="dots"),
        pytest.param(lambda t: "Bearer " + " ".join([t] * 2**12), id="many-tokens"),
    ],
)
async def test_v3_5_3_a_megabyte_token_is_refused_quickly(
    kit_host: KitHost, authorization: Callable[[str], str]
) -> None:
    host = await kit_host("HS256")
    token, _, _ = await log_in(host)
    value = authorization(token)
    assert len(value) > 2**20
    started = time.perf_counter()
    response = await host.client.get("/users/me", headers={"Authorization": value})
    elapsed = time.perf_counter() - started
    assert response.status_code in (400, 401, 431)
    assert elapsed < 1.0, f"{elapsed:.2f} s"
