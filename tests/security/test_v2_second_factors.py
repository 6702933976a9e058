"""ASVS 4.0.3 V2 (and 4.3.1): second factors. Each test is named after the requirement it
checks; docs/security/asvs.md maps every requirement to its tests. Codes come from pyotp.
"""

import logging
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from fastapi_userkit._totp import SECRET_BYTES
from fastapi_userkit.db.mfa import TotpRow
from tests.conftest import PASSWORD, Host
from tests.security._mail import Outbox
from tests.test_mfa import Clock, clock, enrolled, password_step, second_step

__all__ = ["clock"]  # the fixture, used by name


@pytest.fixture
async def mfa(make_host: Any, make_settings: Any) -> tuple[Host, Outbox]:
    outbox = Outbox()
    h: Host = await make_host(settings=make_settings(mfa_enabled=True), email_sender=outbox)
    return h, outbox


async def test_v2_2_2_a_password_alone_opens_no_session_once_a_second_factor_is_set(
    mfa: tuple[Host, Outbox], clock: Clock
) -> None:
    h, _ = mfa
    await enrolled(h, clock)
    for body in (
        {"data": {"username": "alice@example.com", "password": PASSWORD}},
        {"json": {"email": "alice@example.com", "password": PASSWORD}},
    ):
        answer = await h.client.post("/auth/jwt/login", **body)
        assert answer.status_code == 403
        assert "access_token" not in answer.json() and "set-cookie" not in answer.headers


async def test_v2_5_5_owner_is_told_when_a_second_factor_is_added_or_removed(
    mfa: tuple[Host, Outbox], clock: Clock
) -> None:
    h, outbox = mfa
    headers, _, codes = await enrolled(h, clock)
    assert (await h.client.delete("/auth/mfa", headers=headers)).status_code == 204
    added, removed = outbox.messages
    assert (added.to, removed.to) == ("alice@example.com", "alice@example.com")
    assert "second factor was added" in added.subject
    assert "second factor" in removed.subject and "removed" in removed.subject
    for message in outbox.messages:
        assert not any(code in message.text for code in codes)


async def test_v2_5_7_a_lost_device_is_recovered_with_a_code_or_by_an_admin(
    mfa: tuple[Host, Outbox], clock: Clock
) -> None:
    h, outbox = mfa
    _, _, codes = await enrolled(h, clock)
    recovered = await second_step(h, (await password_step(h))["mfa_token"], codes[0])
    assert recovered.status_code == 200
    assert "recovery code was used" in outbox.messages[-1].subject
    assert "9 unused codes left" in outbox.messages[-1].text
    await h.kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
    root = {"Authorization": f"Bearer {await h.login('root@example.com')}"}
    alice = await h.kit.users.get_by_email("alice@example.com")
    assert (await h.client.delete(f"/users/{alice.id}/mfa", headers=root)).status_code == 204
    await h.login()


async def test_v2_8_1_a_code_lives_one_step_either_side_of_its_own(
    mfa: tuple[Host, Outbox], clock: Clock
) -> None:
    h, _ = mfa
    _, secret, _ = await enrolled(h, clock)
    clock.advance(3)
    stale = await second_step(h, (await password_step(h))["mfa_token"], clock.code(secret, -2))
    assert stale.status_code == 400
    assert pyotp.TOTP(secret).interval == 30


async def test_v2_8_3_and_v2_8_2_secrets_are_random_and_encrypted_at_rest(
    mfa: tuple[Host, Outbox], clock: Clock
) -> None:
    h, _ = mfa
    _, secret, _ = await enrolled(h, clock)
    assert len(pyotp.TOTP(secret).byte_secret()) == SECRET_BYTES == 20  # 160 bits, RFC 4226
    async with h.kit.database.open() as uow:
        stored = (await uow.session.scalars(select(TotpRow.secret))).one()
    assert secret not in stored and secret.lower() not in stored.lower()


async def test_v2_8_4_a_code_is_used_once(mfa: tuple[Host, Outbox], clock: Clock) -> None:
    h, _ = mfa
    _, secret, codes = await enrolled(h, clock)
    code = clock.code(secret)
    assert (await second_step(h, (await password_step(h))["mfa_token"], code)).status_code == 200
    assert (await second_step(h, (await password_step(h))["mfa_token"], code)).status_code == 400
    assert (await second_step(h, (await password_step(h))["mfa_token"], codes[0])).is_success
    assert (await second_step(h, (await password_step(h))["mfa_token"], codes[0])).status_code == (
        400
    )


async def test_v2_8_5_a_replayed_code_is_logged(
    mfa: tuple[Host, Outbox], clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    h, _ = mfa
    _, secret, _ = await enrolled(h, clock)
    code = clock.code(secret)
    await second_step(h, (await password_step(h))["mfa_token"], code)
    with caplog.at_level(logging.INFO, logger="fastapi_userkit.security"):
        await second_step(h, (await password_step(h))["mfa_token"], code)
    refused = [r for r in caplog.records if getattr(r, "outcome", None) == "failure"]
    assert [(r.event, r.reason) for r in refused] == [("login", "invalid_code")]  # type: ignore[attr-defined]
    assert code not in caplog.text


async def test_v2_8_6_a_lost_authenticator_is_revoked_by_its_owner(
    mfa: tuple[Host, Outbox], clock: Clock
) -> None:
    h, _ = mfa
    headers, secret, _ = await enrolled(h, clock)
    assert (await h.client.delete("/auth/mfa", headers=headers)).status_code == 204
    await h.login()  # the password alone again
    answer = await h.client.post(
        "/auth/jwt/login/mfa", json={"mfa_token": "x", "code": clock.code(secret, 1)}
    )
    assert answer.status_code == 400


async def test_v4_3_1_an_admin_reset_of_second_factors_needs_a_fresh_login(
    make_host: Any, make_settings: Any, clock: Clock
) -> None:
    h: Host = await make_host(settings=make_settings(mfa_enabled=True, fresh_max_age=1))
    await enrolled(h, clock)
    await h.kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
    root = {"Authorization": f"Bearer {await h.login('root@example.com')}"}
    import asyncio

    await asyncio.sleep(2.1)
    alice = await h.kit.users.get_by_email("alice@example.com")
    answer = await h.client.delete(f"/users/{alice.id}/mfa", headers=root)
    assert (answer.status_code, answer.json()["detail"]) == (401, "REAUTHENTICATION_REQUIRED")


async def test_v2_9_1_a_passkey_answer_for_another_site_is_refused(
    mfa: tuple[Host, Outbox],
) -> None:
    from tests._soft_authenticator import SoftAuthenticator
    from tests.test_passkeys import add_passkey, assertion

    h, _ = mfa
    key = SoftAuthenticator()
    await add_passkey(h, await h.headers(), key)
    phished = SoftAuthenticator(origin="https://examp1e.example")
    phished.credential_id, phished.key, phished.user_handle = (
        key.credential_id,
        key.key,
        key.user_handle,
    )
    phished.sign_count = 10
    answer = await h.client.post("/auth/jwt/login/passkey", json=await assertion(h, phished))
    assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CODE_INVALID")


async def test_v2_9_2_a_passkey_answer_counts_once(mfa: tuple[Host, Outbox]) -> None:
    from tests._soft_authenticator import SoftAuthenticator
    from tests.test_passkeys import add_passkey

    h, _ = mfa
    key = SoftAuthenticator()
    await add_passkey(h, await h.headers(), key)
    first = (await h.client.post("/auth/passkey/options")).json()
    second = (await h.client.post("/auth/passkey/options")).json()
    assert first["options"]["challenge"] != second["options"]["challenge"]
    assert len(first["options"]["challenge"]) >= 43  # 256 bits
    used = {"token": first["token"], "credential": key.get(first["options"])}
    assert (await h.client.post("/auth/jwt/login/passkey", json=used)).status_code == 200
    assert (await h.client.post("/auth/jwt/login/passkey", json=used)).status_code == 400
