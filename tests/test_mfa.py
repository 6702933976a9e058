"""Second factors: TOTP enrolment with recovery codes, the two-step login on every
transport, step-up (`current_user(fresh=...)` and re-authentication), and the
confinement of the challenge token. Codes come from pyotp, an implementation
independent of the kit's.
"""

import asyncio
import base64
import time
from types import SimpleNamespace
from typing import Annotated, Any

import pyotp
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import select, text

from fastapi_userkit import SecurityEventName, UserKitHooks
from fastapi_userkit._accounts import second_factors
from fastapi_userkit.db.mfa import RecoveryCodeRow, TotpRow
from tests.conftest import PASSWORD, Host

STEP = 30
FRESH = 2
"""The `fresh_max_age` of the step-up tests. `auth_time` is in whole seconds, so a
token may look up to a second older than it is: a fresh one is used well within."""
STALE_AFTER = FRESH + 1.1


class Clock:
    """The time the kit's TOTP checks see; starts mid-step, moves only when told."""

    def __init__(self) -> None:
        self.now = (time.time() // STEP) * STEP + 10

    def time(self) -> float:
        return self.now

    def code(self, secret: str, steps: int = 0) -> str:
        return pyotp.TOTP(secret).at(self.now + steps * STEP)

    def advance(self, steps: int = 1) -> None:
        self.now += steps * STEP


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(second_factors, "time", SimpleNamespace(time=fake.time))
    return fake


class Recorder(UserKitHooks):
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.events: list[tuple[str, str, str | None]] = []

    async def on_after_mfa_enabled(self, user: Any, request: Any = None) -> None:
        self.calls.append(f"enabled:{user.email}")

    async def on_after_mfa_disabled(self, user: Any, request: Any = None) -> None:
        self.calls.append(f"disabled:{user.email}")

    async def on_security_event(self, event: Any, request: Any = None) -> None:
        self.events.append((event.event.value, event.outcome, event.reason))


@pytest.fixture
async def mfa(make_host: Any, make_settings: Any) -> Host:
    return await make_host(settings=make_settings(mfa_enabled=True))  # type: ignore[no-any-return]


async def enrol(h: Host, headers: dict[str, str], clock: Clock) -> tuple[str, list[str]]:
    started = await h.client.post("/auth/mfa/totp", headers=headers)
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = await h.client.post(
        "/auth/mfa/totp/confirm", headers=headers, json={"code": clock.code(secret)}
    )
    assert confirmed.status_code == 200, confirmed.text
    clock.advance()
    return secret, confirmed.json()["recovery_codes"]


async def password_step(
    h: Host, email: str = "alice@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    answer = await h.client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert answer.status_code == 403, answer.text
    return answer.json()  # type: ignore[no-any-return]


async def second_step(h: Host, challenge: str, code: str) -> Any:
    return await h.client.post("/auth/jwt/login/mfa", json={"mfa_token": challenge, "code": code})


async def enrolled(h: Host, clock: Clock) -> tuple[dict[str, str], str, list[str]]:
    headers = await h.headers()
    secret, codes = await enrol(h, headers, clock)
    return headers, secret, codes


class TestEnrolment:
    async def test_enrolment_gives_a_secret_a_uri_and_a_qr_code(self, mfa: Host) -> None:
        headers = await mfa.headers()
        answer = await mfa.client.post("/auth/mfa/totp", headers=headers)
        assert answer.status_code == 201
        body = answer.json()
        parsed = pyotp.parse_uri(body["uri"])
        assert parsed.secret == body["secret"]
        assert parsed.issuer == "FastAPI"  # the app's title
        assert parsed.name == "alice@example.com"
        assert body["qr_code"].startswith("data:image/svg+xml;base64,")
        assert b"<svg" in base64.b64decode(body["qr_code"].split(",", 1)[1])
        assert answer.headers["cache-control"] == "no-store"

    async def test_not_enabled_until_a_first_code_confirms_it(
        self, mfa: Host, clock: Clock
    ) -> None:
        headers = await mfa.headers()
        secret = (await mfa.client.post("/auth/mfa/totp", headers=headers)).json()["secret"]
        status = (await mfa.client.get("/auth/mfa", headers=headers)).json()
        assert status == {
            "totp": False,
            "totp_pending": True,
            "passkeys": 0,
            "recovery_codes_left": 0,
        }
        await mfa.login()  # still one step
        wrong = await mfa.client.post(
            "/auth/mfa/totp/confirm", headers=headers, json={"code": "000000"}
        )
        assert (wrong.status_code, wrong.json()["detail"]) == (400, "MFA_CODE_INVALID")
        right = await mfa.client.post(
            "/auth/mfa/totp/confirm", headers=headers, json={"code": clock.code(secret)}
        )
        codes = right.json()["recovery_codes"]
        assert len(codes) == 10 and len(set(codes)) == 10
        status = (await mfa.client.get("/auth/mfa", headers=headers)).json()
        assert status == {
            "totp": True,
            "totp_pending": False,
            "passkeys": 0,
            "recovery_codes_left": 10,
        }
        again = await mfa.client.post("/auth/mfa/totp", headers=headers)
        assert (again.status_code, again.json()["detail"]) == (400, "MFA_ALREADY_ENABLED")

    async def test_secrets_are_encrypted_and_codes_hashed_at_rest(
        self, mfa: Host, clock: Clock
    ) -> None:
        _, secret, codes = await enrolled(mfa, clock)
        async with mfa.kit.database.open() as uow:
            row = (await uow.session.scalars(select(TotpRow))).one()
            hashes = list(await uow.session.scalars(select(RecoveryCodeRow.code_hash)))
            values: list[str] = []
            for table in ("userkit_totp", "userkit_recovery_code"):
                rows = (await uow.session.execute(text(f"SELECT * FROM {table}"))).all()  # noqa: S608
                values += [str(value) for found in rows for value in found]
            dump = " ".join(values)
        assert secret not in row.secret and row.secret.startswith("v1:")
        assert len(hashes) == 10
        for code in codes:
            assert code not in dump and code.replace("-", "") not in dump

    async def test_a_sealed_secret_copied_to_another_user_does_not_open(
        self, mfa: Host, clock: Clock
    ) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        bob = await mfa.headers("bob@example.com")
        await mfa.client.post("/auth/mfa/totp", headers=bob)
        async with mfa.kit.database.open() as uow:
            rows = {r.user_id: r for r in await uow.session.scalars(select(TotpRow))}
            alice_id = str((await mfa.kit.users.get_by_email("alice@example.com")).id)
            bob_id = str((await mfa.kit.users.get_by_email("bob@example.com")).id)
            rows[bob_id].secret = rows[alice_id].secret
            await uow.commit()
        with pytest.raises(RuntimeError, match="cannot be decrypted"):
            await mfa.client.post(
                "/auth/mfa/totp/confirm", headers=bob, json={"code": clock.code(secret)}
            )

    async def test_hooks_events_and_notices(
        self, make_host: Any, make_settings: Any, clock: Clock, caplog: Any
    ) -> None:
        hooks = Recorder()
        h = await make_host(settings=make_settings(mfa_enabled=True), hooks=hooks)
        headers, _, _ = await enrolled(h, clock)
        assert hooks.calls == ["enabled:alice@example.com"]
        assert ("mfa_enable", "success", None) in hooks.events
        with caplog.at_level("INFO", logger="fastapi_userkit.mail"):
            assert (await h.client.delete("/auth/mfa", headers=headers)).status_code == 204
            await asyncio.sleep(0)
        assert hooks.calls[-1] == "disabled:alice@example.com"
        assert ("mfa_disable", "success", None) in hooks.events


class TestKeyRotation:
    async def test_an_old_key_still_opens_and_the_secret_moves_to_the_new_one(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        old, new = (
            "8d2f6b0a4c9e1f3b7d5a2c8e6f0b4d9a1c3e5f7b",
            "1b7e3d9f5a2c8e4b6d0f2a9c7e1b3d5f8a6c4e2b",
        )
        first = await make_host(settings=make_settings(mfa_enabled=True, mfa_encryption_key=old))
        _, secret, _ = await enrolled(first, clock)
        rotated = await make_host(
            settings=make_settings(
                mfa_enabled=True, mfa_encryption_key=new, previous_mfa_encryption_keys=[old]
            )
        )
        challenge = (await password_step(rotated))["mfa_token"]
        assert (await second_step(rotated, challenge, clock.code(secret))).status_code == 200
        only_new = await make_host(settings=make_settings(mfa_enabled=True, mfa_encryption_key=new))
        clock.advance()
        challenge = (await password_step(only_new))["mfa_token"]
        assert (await second_step(only_new, challenge, clock.code(secret))).status_code == 200


class TestTwoStepLogin:
    async def test_the_password_step_gives_a_challenge_and_no_token(
        self, mfa: Host, clock: Clock
    ) -> None:
        await enrolled(mfa, clock)
        answer = await mfa.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert answer.status_code == 403
        body = answer.json()
        assert body["error"] == "mfa_required"
        assert body["detail"] == "LOGIN_MFA_REQUIRED"
        assert body["expires_in"] == 300
        assert body["methods"] == ["totp", "recovery_code"]
        assert "access_token" not in body and "refresh_token" not in body
        assert answer.headers["cache-control"] == "no-store"
        json_answer = await mfa.client.post(
            "/auth/jwt/login", json={"email": "alice@example.com", "password": PASSWORD}
        )
        assert json_answer.json()["detail"] == "LOGIN_MFA_REQUIRED"

    async def test_a_wrong_password_never_reaches_the_second_step(
        self, mfa: Host, clock: Clock
    ) -> None:
        await enrolled(mfa, clock)
        answer = await mfa.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": "wrong one!"}
        )
        assert (answer.status_code, answer.json()["detail"]) == (400, "LOGIN_BAD_CREDENTIALS")

    async def test_a_totp_code_completes_the_login(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        answer = await second_step(mfa, challenge, clock.code(secret))
        assert answer.status_code == 200, answer.text
        tokens = answer.json()
        me = await mfa.client.get(
            "/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.json()["email"] == "alice@example.com"
        refreshed = await mfa.client.post(
            "/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert refreshed.status_code == 200

    async def test_the_second_step_takes_a_form_too(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        answer = await mfa.client.post(
            "/auth/jwt/login/mfa", data={"mfa_token": challenge, "code": clock.code(secret)}
        )
        assert answer.status_code == 200, answer.text

    async def test_codes_one_step_either_side_are_accepted(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        clock.advance(2)
        late = await second_step(
            mfa, (await password_step(mfa))["mfa_token"], clock.code(secret, -1)
        )
        assert late.status_code == 200, late.text
        early = await second_step(
            mfa, (await password_step(mfa))["mfa_token"], clock.code(secret, 1)
        )
        assert early.status_code == 200, early.text
        clock.advance(4)
        for steps in (-2, 2):
            far = await second_step(
                mfa, (await password_step(mfa))["mfa_token"], clock.code(secret, steps)
            )
            assert (far.status_code, far.json()["detail"]) == (400, "MFA_CODE_INVALID")

    async def test_a_code_works_once(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        code = clock.code(secret)
        assert (
            await second_step(mfa, (await password_step(mfa))["mfa_token"], code)
        ).status_code == 200
        replay = await second_step(mfa, (await password_step(mfa))["mfa_token"], code)
        assert (replay.status_code, replay.json()["detail"]) == (400, "MFA_CODE_INVALID")
        assert replay.json()["error"] == "invalid_grant"
        # nor does an earlier step's code once a later one was used
        older = await second_step(
            mfa, (await password_step(mfa))["mfa_token"], clock.code(secret, -1)
        )
        assert older.status_code == 400

    async def test_two_requests_racing_with_one_code_open_one_session(
        self, mfa: Host, clock: Clock
    ) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenges = [(await password_step(mfa))["mfa_token"] for _ in range(4)]
        code = clock.code(secret)
        answers = await asyncio.gather(*(second_step(mfa, c, code) for c in challenges))
        assert sorted(a.status_code for a in answers) == [200, 400, 400, 400]

    async def test_the_challenge_is_spent_by_the_login_it_completes(
        self, mfa: Host, clock: Clock
    ) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        assert (await second_step(mfa, challenge, clock.code(secret))).status_code == 200
        again = await second_step(mfa, challenge, clock.code(secret, 1))
        assert (again.status_code, again.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")

    async def test_a_wrong_code_leaves_the_challenge_usable(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        wrong = "000000" if clock.code(secret) != "000000" else "111111"
        assert (await second_step(mfa, challenge, wrong)).status_code == 400
        assert (await second_step(mfa, challenge, clock.code(secret))).status_code == 200

    async def test_a_password_change_kills_the_challenge(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        user = await mfa.kit.users.get_by_email("alice@example.com")
        await mfa.kit.users.set_password(user.id, "another long passphrase")
        answer = await second_step(mfa, challenge, clock.code(secret))
        assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")

    async def test_an_expired_challenge_is_refused(self, mfa: Host, clock: Clock) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        lifetime = (await password_step(mfa))["expires_in"]
        assert lifetime == 300
        # A challenge issued already expired: the second step must read `exp`.
        factors = mfa.kit._parts.accounts.factors
        object.__setattr__(factors, "challenge_ttl", -1)
        challenge = (await password_step(mfa))["mfa_token"]
        answer = await second_step(mfa, challenge, clock.code(secret))
        assert (answer.status_code, answer.json()["detail"]) == (400, "MFA_CHALLENGE_INVALID")

    async def test_wrong_codes_count_against_the_login_limits(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        h = await make_host(
            settings=make_settings(mfa_enabled=True, rate_limit_login_account_ip="3/900")
        )
        _, secret, _ = await enrolled(h, clock)
        challenge = (await password_step(h))["mfa_token"]
        wrong = "000000" if clock.code(secret) != "000000" else "111111"
        for _ in range(3):
            assert (await second_step(h, challenge, wrong)).status_code == 400
        limited = await second_step(h, challenge, clock.code(secret))
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0

    async def test_a_right_password_does_not_clear_the_counters(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        """Knowing the password must not buy fresh guesses at the code."""
        h = await make_host(
            settings=make_settings(mfa_enabled=True, rate_limit_login_account_ip="4/900")
        )
        _, secret, _ = await enrolled(h, clock)
        wrong = "000000" if clock.code(secret) != "000000" else "111111"
        for _ in range(4):
            challenge = (await password_step(h))["mfa_token"]
            assert (await second_step(h, challenge, wrong)).status_code == 400
        refused = await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert refused.status_code == 429

    async def test_recovery_codes_work_once_each(self, mfa: Host, clock: Clock) -> None:
        headers, _, codes = await enrolled(mfa, clock)
        first = await second_step(mfa, (await password_step(mfa))["mfa_token"], codes[0])
        assert first.status_code == 200, first.text
        again = await second_step(mfa, (await password_step(mfa))["mfa_token"], codes[0])
        assert (again.status_code, again.json()["detail"]) == (400, "MFA_CODE_INVALID")
        typed = codes[1].upper().replace("-", " ")
        assert (
            await second_step(mfa, (await password_step(mfa))["mfa_token"], typed)
        ).status_code == 200
        status = (await mfa.client.get("/auth/mfa", headers=headers)).json()
        assert status["recovery_codes_left"] == 8

    async def test_users_without_a_second_factor_log_in_in_one_step(self, mfa: Host) -> None:
        await mfa.headers()
        await mfa.login()

    async def test_the_cookie_transport(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        h = await make_host(
            settings=make_settings(mfa_enabled=True, cookie_transport=True, cookie_secure=False)
        )
        _, secret, _ = await enrolled(h, clock)
        step = await h.client.post(
            "/auth/cookie/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert (step.status_code, step.json()["detail"]) == (403, "LOGIN_MFA_REQUIRED")
        assert "userkit_access" not in step.headers.get("set-cookie", "")
        h.client.cookies.clear()
        done = await h.client.post(
            "/auth/cookie/login/mfa",
            json={"mfa_token": step.json()["mfa_token"], "code": clock.code(secret)},
        )
        assert done.status_code == 204, done.text
        assert (await h.client.get("/users/me")).json()["email"] == "alice@example.com"

    async def test_the_cookie_second_step_refuses_other_sites(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        h = await make_host(
            settings=make_settings(mfa_enabled=True, cookie_transport=True, cookie_secure=False)
        )
        _, secret, _ = await enrolled(h, clock)
        challenge = (await password_step(h))["mfa_token"]
        answer = await h.client.post(
            "/auth/cookie/login/mfa",
            json={"mfa_token": challenge, "code": clock.code(secret)},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert (answer.status_code, answer.json()["detail"]) == (403, "CSRF_FAILED")


class TestConfinement:
    """Every token kind works only for its purpose."""

    async def test_the_challenge_is_no_access_refresh_or_emailed_token(
        self, mfa: Host, clock: Clock
    ) -> None:
        await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        bearer = {"Authorization": f"Bearer {challenge}"}
        assert (await mfa.client.get("/users/me", headers=bearer)).status_code == 401
        assert (await mfa.client.get("/auth/mfa", headers=bearer)).status_code == 401
        refresh = await mfa.client.post("/auth/jwt/refresh", json={"refresh_token": challenge})
        assert refresh.status_code == 401
        grant = await mfa.client.post(
            "/auth/jwt/login", data={"grant_type": "refresh_token", "refresh_token": challenge}
        )
        assert grant.status_code == 400
        reset = await mfa.client.post(
            "/auth/reset-password", json={"token": challenge, "password": "a brand new passphrase"}
        )
        assert (reset.status_code, reset.json()["detail"]) == (400, "RESET_PASSWORD_BAD_TOKEN")
        verify = await mfa.client.post("/auth/verify", json={"token": challenge})
        assert (verify.status_code, verify.json()["detail"]) == (400, "VERIFY_USER_BAD_TOKEN")

    async def test_access_refresh_and_emailed_tokens_are_no_challenge(
        self, mfa: Host, clock: Clock
    ) -> None:
        _, secret, _ = await enrolled(mfa, clock)
        challenge = (await password_step(mfa))["mfa_token"]
        tokens = (await second_step(mfa, challenge, clock.code(secret))).json()
        user = await mfa.kit.users.get_by_email("alice@example.com")
        from fastapi_userkit._action_tokens import Purpose, account_state

        reset = mfa.kit._parts.action_tokens.issue(
            Purpose.RESET_PASSWORD, subject=str(user.id), state=account_state(user), ttl=600
        )
        for token in (tokens["access_token"], tokens["refresh_token"], reset, "", "x" * 9000):
            answer = await second_step(mfa, token, clock.code(secret, 1))
            assert answer.status_code in (400, 422), token
            if answer.status_code == 400:
                assert answer.json()["detail"] == "MFA_CHALLENGE_INVALID"

    async def test_the_routes_are_absent_when_second_factors_are_off(self, host: Host) -> None:
        headers = await host.headers()
        assert (await host.client.post("/auth/mfa/totp", headers=headers)).status_code == 404
        assert (
            await host.client.post("/auth/jwt/login/mfa", json={"mfa_token": "x", "code": "1"})
        ).status_code == 404


class TestStepUp:
    async def test_fresh_routes_refuse_an_old_authentication(
        self, make_host: Any, make_settings: Any
    ) -> None:
        app = FastAPI()
        h = await make_host(app, settings=make_settings(fresh_max_age=FRESH))

        @app.post("/transfer")
        async def transfer(user: Annotated[Any, Depends(h.kit.current_user(fresh=True))]) -> str:
            return str(user.email)

        headers = await h.headers()
        assert (await h.client.post("/transfer", headers=headers)).status_code == 200
        await asyncio.sleep(STALE_AFTER)
        stale = await h.client.post("/transfer", headers=headers)
        assert (stale.status_code, stale.json()["detail"]) == (401, "REAUTHENTICATION_REQUIRED")
        challenge = stale.headers["www-authenticate"]
        assert challenge.startswith('Bearer error="insufficient_user_authentication"')
        assert f'max_age="{FRESH}"' in challenge
        wrong = await h.client.post(
            "/auth/jwt/reauthenticate", headers=headers, json={"password": "not the password"}
        )
        assert (wrong.status_code, wrong.json()["detail"]) == (400, "CURRENT_PASSWORD_INVALID")
        again = await h.client.post(
            "/auth/jwt/reauthenticate", headers=headers, json={"password": PASSWORD}
        )
        assert again.status_code == 200, again.text
        fresh = {"Authorization": f"Bearer {again.json()['access_token']}"}
        assert (await h.client.post("/transfer", headers=fresh)).status_code == 200
        assert (await h.client.get("/users/me", headers=headers)).status_code == 200

    async def test_a_refresh_keeps_the_time_of_the_login(
        self, make_host: Any, make_settings: Any
    ) -> None:
        app = FastAPI()
        h = await make_host(app, settings=make_settings(fresh_max_age=FRESH))

        @app.get("/fresh")
        async def fresh(user: Annotated[Any, Depends(h.kit.current_user(fresh=True))]) -> str:
            return str(user.email)

        await h.register()
        tokens = (
            await h.client.post(
                "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
            )
        ).json()
        await asyncio.sleep(STALE_AFTER)
        refreshed = await h.client.post(
            "/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        assert (await h.client.get("/fresh", headers=bearer)).status_code == 401

    async def test_second_factor_changes_need_a_fresh_authentication(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        h = await make_host(settings=make_settings(mfa_enabled=True, fresh_max_age=FRESH))
        headers, secret, _ = await enrolled(h, clock)
        await asyncio.sleep(STALE_AFTER)
        for method, path in (
            ("DELETE", "/auth/mfa"),
            ("POST", "/auth/mfa/recovery-codes"),
            ("POST", "/auth/mfa/totp"),
        ):
            answer = await h.client.request(method, path, headers=headers)
            assert (answer.status_code, answer.json()["detail"]) == (
                401,
                "REAUTHENTICATION_REQUIRED",
            ), path
        no_code = await h.client.post(
            "/auth/jwt/reauthenticate", headers=headers, json={"password": PASSWORD}
        )
        assert (no_code.status_code, no_code.json()["detail"]) == (400, "MFA_CODE_REQUIRED")
        done = await h.client.post(
            "/auth/jwt/reauthenticate",
            headers=headers,
            json={"password": PASSWORD, "code": clock.code(secret)},
        )
        assert done.status_code == 200, done.text
        fresh = {"Authorization": f"Bearer {done.json()['access_token']}"}
        codes = await h.client.post("/auth/mfa/recovery-codes", headers=fresh)
        assert codes.status_code == 200 and len(codes.json()["recovery_codes"]) == 10
        assert (await h.client.delete("/auth/mfa", headers=fresh)).status_code == 204
        await h.login()  # one step again

    async def test_the_cookie_transport_reauthenticates_into_the_cookie(
        self, make_host: Any, make_settings: Any
    ) -> None:
        app = FastAPI()
        h = await make_host(
            app,
            settings=make_settings(fresh_max_age=FRESH, cookie_transport=True, cookie_secure=False),
        )

        @app.get("/fresh")
        async def fresh(user: Annotated[Any, Depends(h.kit.current_user(fresh=True))]) -> str:
            return str(user.email)

        await h.register()
        login = await h.client.post(
            "/auth/cookie/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert login.status_code == 204
        await asyncio.sleep(STALE_AFTER)
        assert (await h.client.get("/fresh")).status_code == 401
        csrf = {"X-CSRF-Token": h.client.cookies["userkit_csrf"]}
        again = await h.client.post(
            "/auth/cookie/reauthenticate", json={"password": PASSWORD}, headers=csrf
        )
        assert again.status_code == 204, again.text
        assert (await h.client.get("/fresh")).status_code == 200


class TestAdministration:
    async def test_an_admin_resets_a_users_factors(self, mfa: Host, clock: Clock) -> None:
        await enrolled(mfa, clock)
        await mfa.kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
        root = {"Authorization": f"Bearer {await mfa.login('root@example.com')}"}
        user = await mfa.kit.users.get_by_email("alice@example.com")
        answer = await mfa.client.delete(f"/users/{user.id}/mfa", headers=root)
        assert answer.status_code == 204, answer.text
        await mfa.login()
        again = await mfa.client.delete(f"/users/{user.id}/mfa", headers=root)
        assert (again.status_code, again.json()["detail"]) == (400, "MFA_NOT_ENABLED")
        alice = {"Authorization": f"Bearer {await mfa.login()}"}
        assert (await mfa.client.delete(f"/users/{user.id}/mfa", headers=alice)).status_code == 403

    async def test_the_users_service_resets_factors(self, mfa: Host, clock: Clock) -> None:
        await enrolled(mfa, clock)
        user = await mfa.kit.users.get_by_email("alice@example.com")
        await mfa.kit.users.reset_second_factors(user.id)
        await mfa.login()

    async def test_deleting_the_account_removes_its_factors(self, mfa: Host, clock: Clock) -> None:
        headers, _, _ = await enrolled(mfa, clock)
        answer = await mfa.client.request(
            "DELETE", "/users/me", headers=headers, json={"current_password": PASSWORD}
        )
        assert answer.status_code == 204, answer.text
        async with mfa.kit.database.open() as uow:
            assert (await uow.session.scalars(select(TotpRow))).first() is None
            assert (await uow.session.scalars(select(RecoveryCodeRow))).first() is None


class TestSecurityEvents:
    async def test_the_steps_are_recorded(
        self, make_host: Any, make_settings: Any, clock: Clock
    ) -> None:
        hooks = Recorder()
        h = await make_host(settings=make_settings(mfa_enabled=True), hooks=hooks)
        _, secret, codes = await enrolled(h, clock)
        hooks.events.clear()
        challenge = (await password_step(h))["mfa_token"]
        await second_step(h, challenge, "000000" if clock.code(secret) != "000000" else "111111")
        await second_step(h, challenge, codes[0])
        assert hooks.events == [
            (SecurityEventName.MFA_CHALLENGE.value, "success", None),
            (SecurityEventName.LOGIN.value, "failure", "invalid_code"),
            (SecurityEventName.LOGIN.value, "success", "recovery_code"),
        ]


class TestConfiguration:
    def test_an_ephemeral_key_is_warned_about(self, caplog: pytest.LogCaptureFixture) -> None:
        from fastapi_userkit import UserKitSettings, include_user_router

        with caplog.at_level("WARNING", logger="fastapi_userkit"):
            include_user_router(
                FastAPI(),
                settings=UserKitSettings(mfa_enabled=True, database_url="sqlite+aiosqlite://"),
            )
        assert "USERKIT_MFA_ENCRYPTION_KEY" in caplog.text
        caplog.clear()
        with caplog.at_level("WARNING", logger="fastapi_userkit"):
            include_user_router(
                FastAPI(),
                settings=UserKitSettings(
                    mfa_enabled=True,
                    database_url="sqlite+aiosqlite://",
                    mfa_encryption_key="3f9a1c7e5b2d8f4a6c0e9b1d7f3a5c8e2b4d6f0a9c1e3b5d",
                ),
            )
        assert "USERKIT_MFA_ENCRYPTION_KEY" not in caplog.text

    def test_a_weak_encryption_key_is_refused(self) -> None:
        from pydantic import ValidationError

        from fastapi_userkit import UserKitSettings

        with pytest.raises(ValidationError, match="mfa_encryption_key"):
            UserKitSettings(mfa_encryption_key="changeme-changeme-changeme-changeme")
