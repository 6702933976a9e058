"""Passkeys (WebAuthn): registration, a passkey as the second step of a login, a
passwordless login, re-authentication, listing and removing. The browser's and
the authenticator's part is played by `tests._soft_authenticator` (the real
browser is in tests/browser/test_passkeys_in_chromium.py).
"""

from typing import Any

import pytest

from tests._soft_authenticator import SoftAuthenticator
from tests.conftest import PASSWORD, Host
from tests.test_mfa import Clock, clock, enrolled, password_step

__all__ = ["clock"]  # the fixture, used by name


@pytest.fixture
async def mfa(make_host: Any, make_settings: Any) -> Host:
    return await make_host(settings=make_settings(mfa_enabled=True))  # type: ignore[no-any-return]


async def add_passkey(
    h: Host, headers: dict[str, str], key: SoftAuthenticator, name: str = "Laptop"
) -> dict[str, Any]:
    offered = await h.client.post("/auth/mfa/passkey-options", headers=headers)
    assert offered.status_code == 200, offered.text
    body = offered.json()
    assert body["options"]["authenticatorSelection"]["residentKey"] == "required"
    added = await h.client.post(
        "/auth/mfa/passkeys",
        headers=headers,
        json={"token": body["token"], "credential": key.create(body["options"]), "name": name},
    )
    assert added.status_code == 201, added.text
    return added.json()  # type: ignore[no-any-return]


async def assertion(h: Host, key: SoftAuthenticator) -> dict[str, Any]:
    offered = (await h.client.post("/auth/passkey/options")).json()
    return {"token": offered["token"], "credential": key.get(offered["options"])}


class TestRegistration:
    async def test_a_first_passkey_enables_the_second_step_and_gives_codes(self, mfa: Host) -> None:
        headers = await mfa.headers()
        key = SoftAuthenticator()
        added = await add_passkey(mfa, headers, key)
        assert added["passkey"]["id"] == key.id and added["passkey"]["name"] == "Laptop"
        assert len(added["recovery_codes"]) == 10
        status = (await mfa.client.get("/auth/mfa", headers=headers)).json()
        assert status == {
            "totp": False,
            "totp_pending": False,
            "passkeys": 1,
            "recovery_codes_left": 10,
        }
        step = await password_step(mfa)
        assert step["methods"] == ["passkey", "recovery_code"]
        second = await add_passkey(mfa, headers, SoftAuthenticator(), "Phone")
        assert second["recovery_codes"] is None
        listed = (await mfa.client.get("/auth/mfa/passkeys", headers=headers)).json()
        assert [p["name"] for p in listed] == ["Laptop", "Phone"]

    async def test_a_registration_for_another_site_or_challenge_is_refused(self, mfa: Host) -> None:
        headers = await mfa.headers()
        offered = (await mfa.client.post("/auth/mfa/passkey-options", headers=headers)).json()
        phished = SoftAuthenticator(origin="https://evil.example")
        answer = await mfa.client.post(
            "/auth/mfa/passkeys",
            headers=headers,
            json={"token": offered["token"], "credential": phished.create(offered["options"])},
        )
        assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CODE_INVALID")
        other = (await mfa.client.post("/auth/mfa/passkey-options", headers=headers)).json()
        mixed = await mfa.client.post(
            "/auth/mfa/passkeys",
            headers=headers,
            json={
                "token": other["token"],
                "credential": SoftAuthenticator().create(offered["options"]),
            },
        )
        assert (mixed.status_code, mixed.json()["detail"]) == (400, "MFA_CODE_INVALID")

    async def test_a_registration_token_is_one_users_own(self, mfa: Host) -> None:
        alice = await mfa.headers()
        bob = await mfa.headers("bob@example.com")
        offered = (await mfa.client.post("/auth/mfa/passkey-options", headers=alice)).json()
        answer = await mfa.client.post(
            "/auth/mfa/passkeys",
            headers=bob,
            json={
                "token": offered["token"],
                "credential": SoftAuthenticator().create(offered["options"]),
            },
        )
        assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")

    async def test_a_malformed_registration_is_a_400(self, mfa: Host) -> None:
        headers = await mfa.headers()
        offered = (await mfa.client.post("/auth/mfa/passkey-options", headers=headers)).json()
        good = SoftAuthenticator().create(offered["options"])
        for response in ("x", [], None, {"attestationObject": "%%%", "clientDataJSON": "e30"}):
            bad = {**good, "response": response}
            answer = await mfa.client.post(
                "/auth/mfa/passkeys",
                headers=headers,
                json={"token": offered["token"], "credential": bad},
            )
            assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CODE_INVALID")

    async def test_a_user_without_verification_is_refused(self, mfa: Host) -> None:
        headers = await mfa.headers()
        offered = (await mfa.client.post("/auth/mfa/passkey-options", headers=headers)).json()
        key = SoftAuthenticator()
        key.verified = False
        answer = await mfa.client.post(
            "/auth/mfa/passkeys",
            headers=headers,
            json={"token": offered["token"], "credential": key.create(offered["options"])},
        )
        assert answer.status_code == 400


class TestSecondStep:
    async def test_a_passkey_completes_a_password_login(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        challenge = (await password_step(mfa))["mfa_token"]
        answer = await mfa.client.post(
            "/auth/jwt/login/mfa",
            json={"mfa_token": challenge, "passkey": await assertion(mfa, key)},
        )
        assert answer.status_code == 200, answer.text
        again = await mfa.client.post(
            "/auth/jwt/login/mfa",
            json={"mfa_token": challenge, "passkey": await assertion(mfa, key)},
        )
        assert (again.status_code, again.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")

    async def test_another_users_passkey_is_refused(self, mfa: Host) -> None:
        await add_passkey(mfa, await mfa.headers(), SoftAuthenticator())
        bobs = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers("bob@example.com"), bobs)
        challenge = (await password_step(mfa))["mfa_token"]
        answer = await mfa.client.post(
            "/auth/jwt/login/mfa",
            json={"mfa_token": challenge, "passkey": await assertion(mfa, bobs)},
        )
        assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CODE_INVALID")

    async def test_code_and_passkey_together_or_neither_are_refused(self, mfa: Host) -> None:
        for body in ({"mfa_token": "x"}, {"mfa_token": "x", "code": "1", "passkey": {}}):
            answer = await mfa.client.post("/auth/jwt/login/mfa", json=body)
            assert answer.status_code == 422


class TestPasswordless:
    async def test_a_passkey_alone_logs_in(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        answer = await mfa.client.post("/auth/jwt/login/passkey", json=await assertion(mfa, key))
        assert answer.status_code == 200, answer.text
        me = await mfa.client.get(
            "/users/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"}
        )
        assert me.json()["email"] == "alice@example.com"

    async def test_an_assertion_works_once(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        used = await assertion(mfa, key)
        assert (await mfa.client.post("/auth/jwt/login/passkey", json=used)).status_code == 200
        replay = await mfa.client.post("/auth/jwt/login/passkey", json=used)
        assert (replay.status_code, replay.json()["detail"]) == (400, "MFA_CODE_INVALID")

    async def test_a_synced_passkey_without_a_counter_cannot_replay_either(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        offered = (await mfa.client.post("/auth/passkey/options")).json()
        key.sign_count = -1  # every assertion says 0, as synced passkeys do
        first = {"token": offered["token"], "credential": key.get(offered["options"])}
        key.sign_count = -1
        second = {"token": offered["token"], "credential": key.get(offered["options"])}
        assert (await mfa.client.post("/auth/jwt/login/passkey", json=first)).status_code == 200
        again = await mfa.client.post("/auth/jwt/login/passkey", json=second)
        assert again.status_code == 400

    async def test_an_unknown_or_forged_passkey_is_refused(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        stranger = await mfa.client.post(
            "/auth/jwt/login/passkey", json=await assertion(mfa, SoftAuthenticator())
        )
        assert stranger.status_code == 400
        forged = await assertion(mfa, key)
        forged["credential"]["response"]["signature"] = (
            forged["credential"]["response"]["signature"][:-4] + "AAAA"
        )
        assert (await mfa.client.post("/auth/jwt/login/passkey", json=forged)).status_code == 400
        wrong_site = SoftAuthenticator(origin="https://evil.example")
        wrong_site.credential_id, wrong_site.key = key.credential_id, key.key
        wrong_site.user_handle, wrong_site.sign_count = key.user_handle, key.sign_count + 5
        phished = await assertion(mfa, wrong_site)
        assert (await mfa.client.post("/auth/jwt/login/passkey", json=phished)).status_code == 400

    async def test_a_malformed_answer_of_a_known_passkey_is_a_400(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        good = await assertion(mfa, key)
        for response in ("x", [], {"userHandle": 5}, {"clientDataJSON": "%%%"}, None):
            bad = {**good, "credential": {**good["credential"], "response": response}}
            answer = await mfa.client.post("/auth/jwt/login/passkey", json=bad)
            assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CODE_INVALID")

    async def test_an_inactive_user_cannot_log_in_with_a_passkey(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        await add_passkey(mfa, await mfa.headers(), key)
        alice = await mfa.kit.users.get_by_email("alice@example.com")
        await mfa.kit.users.deactivate(alice.id)
        answer = await mfa.client.post("/auth/jwt/login/passkey", json=await assertion(mfa, key))
        assert (answer.status_code, answer.json()["detail"]) == (400, "LOGIN_BAD_CREDENTIALS")

    async def test_the_cookie_transport(self, make_host: Any, make_settings: Any) -> None:
        h = await make_host(
            settings=make_settings(mfa_enabled=True, cookie_transport=True, cookie_secure=False)
        )
        key = SoftAuthenticator()
        await add_passkey(h, await h.headers(), key)
        answer = await h.client.post("/auth/cookie/login/passkey", json=await assertion(h, key))
        assert answer.status_code == 204, answer.text
        assert (await h.client.get("/users/me")).json()["email"] == "alice@example.com"


class TestManagement:
    async def test_a_passkey_reauthenticates_alone(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        headers = await mfa.headers()
        await add_passkey(mfa, headers, key)
        answer = await mfa.client.post(
            "/auth/jwt/reauthenticate", headers=headers, json={"passkey": await assertion(mfa, key)}
        )
        assert answer.status_code == 200, answer.text
        no_proof = await mfa.client.post(
            "/auth/jwt/reauthenticate", headers=headers, json={"password": PASSWORD}
        )
        assert (no_proof.status_code, no_proof.json()["detail"]) == (400, "MFA_CODE_REQUIRED")

    async def test_removing_the_last_factor_removes_the_codes(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        headers = await mfa.headers()
        await add_passkey(mfa, headers, key)
        missing = await mfa.client.delete("/auth/mfa/passkeys/nope", headers=headers)
        assert (missing.status_code, missing.json()["detail"]) == (404, "PASSKEY_NOT_FOUND")
        bob = await mfa.headers("bob@example.com")
        theirs = await mfa.client.delete(f"/auth/mfa/passkeys/{key.id}", headers=bob)
        assert theirs.status_code == 404
        gone = await mfa.client.delete(f"/auth/mfa/passkeys/{key.id}", headers=headers)
        assert gone.status_code == 204
        status = (await mfa.client.get("/auth/mfa", headers=headers)).json()
        assert status == {
            "totp": False,
            "totp_pending": False,
            "passkeys": 0,
            "recovery_codes_left": 0,
        }
        await mfa.login()

    async def test_passkeys_and_totp_together(self, mfa: Host, clock: Clock) -> None:
        headers, secret, codes = await enrolled(mfa, clock)
        key = SoftAuthenticator()
        added = await add_passkey(mfa, headers, key)
        assert added["recovery_codes"] is None
        step = await password_step(mfa)
        assert step["methods"] == ["totp", "passkey", "recovery_code"]
        gone = await mfa.client.delete(f"/auth/mfa/passkeys/{key.id}", headers=headers)
        assert gone.status_code == 204
        status = (await mfa.client.get("/auth/mfa", headers=headers)).json()
        assert status["totp"] and status["recovery_codes_left"] == len(codes)
        assert clock.code(secret)


class TestConfinement:
    """The passkey tokens work only for their own purpose, and nothing else passes
    for them."""

    async def test_passkey_tokens_are_no_other_token(self, mfa: Host) -> None:
        key = SoftAuthenticator()
        headers = await mfa.headers()
        await add_passkey(mfa, headers, key)
        registration = (await mfa.client.post("/auth/mfa/passkey-options", headers=headers)).json()[
            "token"
        ]
        challenge = (await password_step(mfa))["mfa_token"]
        asserted = (await mfa.client.post("/auth/passkey/options")).json()["token"]
        for token in (registration, asserted):
            bearer = {"Authorization": f"Bearer {token}"}
            assert (await mfa.client.get("/users/me", headers=bearer)).status_code == 401
            second = await mfa.client.post(
                "/auth/jwt/login/mfa", json={"mfa_token": token, "code": "123456"}
            )
            assert (second.status_code, second.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")
            reset = await mfa.client.post(
                "/auth/reset-password", json={"token": token, "password": "a new passphrase!"}
            )
            assert reset.status_code == 400
        offered = (await mfa.client.post("/auth/passkey/options")).json()
        for token in (registration, challenge, headers["Authorization"].removeprefix("Bearer ")):
            answer = await mfa.client.post(
                "/auth/jwt/login/passkey",
                json={"token": token, "credential": key.get(offered["options"])},
            )
            assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CODE_INVALID")
        register_options = (
            await mfa.client.post("/auth/mfa/passkey-options", headers=headers)
        ).json()["options"]
        for token in (asserted, challenge):
            answer = await mfa.client.post(
                "/auth/mfa/passkeys",
                headers=headers,
                json={"token": token, "credential": SoftAuthenticator().create(register_options)},
            )
            assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")
