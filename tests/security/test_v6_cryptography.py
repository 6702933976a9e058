"""ASVS 4.0.3 V6: stored cryptography. Token signatures are attacked in
test_v3_jwt_attacks.py; docs/security/asvs.md maps every requirement to its tests.
"""

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from fastapi_userkit import UserKitSettings
from tests.conftest import PASSWORD, SECRET, Host

# Settings and key handling do not depend on the database: SQLite pass only.
pytestmark = pytest.mark.single_pass


@pytest.mark.parametrize("algorithm", ["none", "HS1", "RS1", "HS256 ", "hs256", "RSA-OAEP"])
def test_v6_2_2_only_vetted_signature_algorithms_can_be_configured(algorithm: str) -> None:
    with pytest.raises(ValidationError):
        UserKitSettings(secret_key=SECRET, jwt_algorithm=algorithm)


@pytest.mark.parametrize(
    "secret",
    ["changeme", "secret", "0123456789abcdef", "a" * 64, "your_secret_key"],
    ids=["placeholder", "word", "short", "repetitive", "documented-placeholder"],
)
def test_v6_2_5_weak_or_placeholder_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError):
        UserKitSettings(secret_key=secret)


async def test_v6_3_1_random_values_do_not_repeat(host: Host) -> None:
    await host.register()
    form = {"username": "alice@example.com", "password": PASSWORD}
    pairs = []
    for _ in range(20):
        answer = await host.client.post("/auth/jwt/login", data=form)
        assert answer.status_code == 200
        pairs.append(answer.json())
    assert len({p["refresh_token"] for p in pairs}) == 20
    assert len({p["access_token"] for p in pairs}) == 20
    me = {"Authorization": f"Bearer {pairs[-1]['access_token']}"}
    sessions = (await host.client.get("/auth/sessions", headers=me)).json()
    assert len({s["id"] for s in sessions}) == 20


async def test_v6_4_2_published_keys_hold_no_private_member(
    make_host: Any, make_settings: Any, tmp_path: Path
) -> None:
    pytest.importorskip("cryptography")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate()
    pem = tmp_path / "signing.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    h: Host = await make_host(
        settings=make_settings(secret_key=None, jwt_algorithm="EdDSA", jwt_private_key_file=pem)
    )
    (published,) = (await h.client.get("/auth/jwks.json")).json()["keys"]
    assert {"d", "p", "q", "dp", "dq", "qi", "k"}.isdisjoint(published)
    assert published["kty"] == "OKP"
    assert "PRIVATE" not in repr(h.kit) and pem.read_text() not in repr(h.kit)
