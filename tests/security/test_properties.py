"""Properties the security model rests on, checked over generated input (Hypothesis)
or exhaustively where the input space is small.
"""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fastapi_userkit import BcryptHasher, canonical_email
from tests.conftest import Host

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

HASHER = BcryptHasher(rounds=4)
# Passwords the default policy's lengths allow (8 to 128 characters), any Unicode but
# surrogates, which JSON cannot carry.
passwords = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)), min_size=8, max_size=128
).filter(lambda p: p.strip() != "")
# 73 characters or more: always more than 72 bytes, in any script.
long_passwords = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)), min_size=73, max_size=128
).filter(lambda p: p.strip() != "")


@settings(max_examples=40, deadline=None, derandomize=True)
@given(password=passwords)
def test_hash_verify_round_trip(password: str) -> None:
    hashed = HASHER.hash(password)
    assert HASHER.verify(password, hashed)
    assert not HASHER.verify(password + "x", hashed)
    # The salt and digest (the last 53 characters) do not carry the password; the
    # scheme's name before them is public and may share letters with one.
    assert password not in hashed[-53:]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(password=long_passwords)
def test_72_byte_prefix_never_verifies(password: str) -> None:
    # Plain bcrypt reads 72 bytes and ignores the rest; the kit's pre-hash reads them all.
    prefix = password.encode()[:72].decode(errors="ignore")
    assert prefix != password
    assert not HASHER.verify(prefix, HASHER.hash(password))


_FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in string.ascii_letters + string.digits}


@settings(max_examples=200, derandomize=True)
@given(email=st.emails())
def test_canonical_email_is_idempotent(email: str) -> None:
    key = canonical_email(email)
    assert canonical_email(key) == key


@settings(max_examples=200, derandomize=True)
@given(email=st.emails())
def test_canonical_email_collapses_case_and_width(email: str) -> None:
    local, _, domain = email.rpartition("@")
    key = canonical_email(email)
    assert canonical_email(f"{local.upper()}@{domain.upper()}") == key
    assert canonical_email(f"{local.swapcase()}@{domain}") == key
    wide = f"{local.translate(_FULL_WIDTH)}@{domain.translate(_FULL_WIDTH)}"
    assert canonical_email(wide) == key


_BASE64URL = string.ascii_letters + string.digits + "-_"


async def test_every_one_character_change_of_a_token_is_refused(host: Host) -> None:
    """Each character of an issued access token changed in turn (to a different
    base64url character each time, and the signature's last character to all 63
    others, where unused bits could hide a change) gets a 401.
    """
    headers = await host.headers()
    token = headers["Authorization"].removeprefix("Bearer ")
    assert (await host.client.get("/users/me", headers=headers)).status_code == 200
    variants = []
    for i, char in enumerate(token):
        if char == ".":
            continue
        variants.append(
            token[:i] + _BASE64URL[(_BASE64URL.index(char) + 1 + i % 63) % 64] + token[i + 1 :]
        )
    variants += [token[:-1] + c for c in _BASE64URL if c != token[-1]]
    assert token not in variants
    accepted = []
    for variant in variants:
        response = await host.client.get(
            "/users/me", headers={"Authorization": f"Bearer {variant}"}
        )
        if response.status_code != 401:
            accepted.append((variant, response.status_code))
    assert accepted == []
