"""Account lifecycle through the HTTP API: password reset, verification, e-mail
change, self-deletion, enumeration-safe registration, and their hooks and e-mails."""

import asyncio
import re
from typing import Any

import pytest
from fastapi import HTTPException

from fastapi_userkit import UserKitHooks
from fastapi_userkit._action_tokens import Purpose
from fastapi_userkit.mail import EmailMessage, EmailSender
from tests.conftest import PASSWORD, Host

FRONTEND = "https://app.example.com"


def oauth_error(code: str) -> dict[str, str]:
    """The token endpoint's refusal: RFC 6749 §5.2 `error` beside the kit's code."""
    return {"error": "invalid_grant", "error_description": code, "detail": code}


class Outbox(EmailSender):
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.messages.append(message)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m.to == address]

    def token(self, address: str) -> str:
        match = re.search(r"token=([A-Za-z0-9_\-\.]+)", self.to(address)[-1].text)
        assert match is not None
        return match.group(1)


class Recorder(UserKitHooks):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def on_after_forgot_password(self, user, token, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("forgot", user.email))

    async def on_after_reset_password(self, user, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("reset", user.email))

    async def on_after_request_verify(self, user, token, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("request_verify", user.email))

    async def on_after_verify(self, user, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("verify", user.email))

    async def on_before_delete(self, user, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("before_delete", user.email))
        if user.email.startswith("keep"):
            raise HTTPException(status_code=409, detail="ACCOUNT_HAS_OPEN_INVOICES")

    async def on_after_delete(self, user, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("after_delete", user.email))

    async def on_login_failed(self, email, request=None):  # type: ignore[no-untyped-def]
        self.calls.append(("login_failed", email))


@pytest.fixture
async def env(make_host: Any, make_settings: Any) -> tuple[Host, Outbox, Recorder]:
    outbox, hooks = Outbox(), Recorder()
    h: Host = await make_host(
        settings=make_settings(frontend_url=FRONTEND), email_sender=outbox, hooks=hooks
    )
    return h, outbox, hooks


async def tokens_for(
    h: Host, email: str = "alice@example.com", password: str = PASSWORD
) -> dict[str, Any]:
    response = await h.client.post(
        "/auth/jwt/login", data={"username": email, "password": password}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


class TestForgotAndReset:
    async def test_forgot_is_always_202_and_mails_only_real_active_users(self, env: Any) -> None:
        h, outbox, hooks = env
        await h.register()
        await h.kit.users.create(email="off@example.com", password=PASSWORD, is_active=False)
        answers = []
        for email in ("alice@example.com", "nobody@example.com", "off@example.com"):
            r = await h.client.post("/auth/forgot-password", json={"email": email})
            answers.append((r.status_code, r.content))
        assert answers == [(202, b"null")] * 3
        assert [m.to for m in outbox.messages] == ["alice@example.com"]
        assert hooks.calls == [("forgot", "alice@example.com")]

    async def test_link_comes_from_settings_not_host_header(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        await h.client.post(
            "/auth/forgot-password",
            json={"email": "alice@example.com"},
            headers={"Host": "evil.example"},
        )
        text = outbox.messages[0].text
        assert f"{FRONTEND}/reset-password?token=" in text
        assert "evil.example" not in text + (outbox.messages[0].html or "")

    async def test_reset_sets_the_password_and_ends_every_session(self, env: Any) -> None:
        h, outbox, hooks = env
        await h.register()
        session = await tokens_for(h)
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        r = await h.client.post(
            "/auth/reset-password", json={"token": token, "password": "a brand new one"}
        )
        assert r.status_code == 200
        assert r.json() is None
        assert (await h.client.get("/users/me", headers=bearer(session))).status_code == 401
        refresh = await h.client.post(
            "/auth/jwt/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert refresh.status_code == 401
        assert await tokens_for(h, password="a brand new one")
        assert ("reset", "alice@example.com") in hooks.calls
        assert outbox.messages[-1].subject  # the "password changed" notice
        again = await h.client.post(
            "/auth/reset-password", json={"token": token, "password": "yet another one"}
        )
        assert again.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}

    async def test_concurrent_use_exactly_one_succeeds(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        responses = await asyncio.gather(
            *(
                h.client.post(
                    "/auth/reset-password", json={"token": token, "password": f"new pw {i}x"}
                )
                for i in range(6)
            )
        )
        assert sorted(r.status_code for r in responses) == [200] + [400] * 5
        winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
        assert await tokens_for(h, password=f"new pw {winner}x")

    async def test_invalid_new_password_keeps_the_token_usable(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        r = await h.client.post("/auth/reset-password", json={"token": token, "password": "x"})
        assert r.status_code == 400
        assert r.json()["detail"]["code"] == "RESET_PASSWORD_INVALID_PASSWORD"
        assert await tokens_for(h)
        ok = await h.client.post(
            "/auth/reset-password", json={"token": token, "password": "long enough now"}
        )
        assert ok.status_code == 200

    async def test_token_dies_when_the_password_changes(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        user = await h.kit.users.get_by_email("alice@example.com")
        await h.kit.users.set_password(user.id, "changed elsewhere")
        r = await h.client.post(
            "/auth/reset-password", json={"token": token, "password": "a new passphrase"}
        )
        assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}

    async def test_inactive_user_and_expired_token(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        user = await h.kit.users.get_by_email("alice@example.com")
        expired = h.kit._parts.action_tokens.issue(
            Purpose.RESET_PASSWORD, subject=str(user.id), state=user.hashed_password, ttl=-10
        )
        r = await h.client.post(
            "/auth/reset-password", json={"token": expired, "password": "a new passphrase"}
        )
        assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        await h.kit.users.deactivate(user.id)
        r = await h.client.post(
            "/auth/reset-password", json={"token": token, "password": "a new passphrase"}
        )
        assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}

    @pytest.mark.parametrize(
        "body",
        [
            {},
            {"token": "x"},
            {"token": 1, "password": 2},
            {"token": "", "password": "x"},
            {"email": 5},
        ],
    )
    async def test_malformed(self, env: Any, body: dict[str, Any]) -> None:
        h, _, _ = env
        r = await h.client.post("/auth/reset-password", json=body)
        assert r.status_code == 422
        r = await h.client.post("/auth/forgot-password", json=body)
        assert r.status_code == 422


class TestWrongKindOfToken:
    async def test_each_endpoint_refuses_the_others_tokens(self, env: Any) -> None:
        h, _, _ = env
        await h.register()
        session = await tokens_for(h)
        user = await h.kit.users.get_by_email("alice@example.com")
        codec = h.kit._parts.action_tokens
        reset = codec.issue(
            Purpose.RESET_PASSWORD, subject=str(user.id), state=user.hashed_password, ttl=60
        )
        verify = codec.issue(
            Purpose.VERIFY_EMAIL,
            subject=str(user.id),
            state=user.email_key,
            ttl=60,
            email=user.email,
        )
        change = codec.issue(
            Purpose.CHANGE_EMAIL,
            subject=str(user.id),
            state=user.email_key,
            ttl=60,
            email="other@example.com",
        )
        access, refresh = session["access_token"], session["refresh_token"]
        for token in (verify, change, access, refresh):
            r = await h.client.post(
                "/auth/reset-password", json={"token": token, "password": "a new passphrase"}
            )
            assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}
        for token in (reset, change, access, refresh):
            r = await h.client.post("/auth/verify", json={"token": token})
            assert r.json() == {"detail": "VERIFY_USER_BAD_TOKEN"}
        for token in (reset, verify, access, refresh):
            r = await h.client.post("/users/me/email/confirm", json={"token": token})
            assert r.json() == {"detail": "EMAIL_CHANGE_BAD_TOKEN"}
        for token in (reset, verify, change):
            r = await h.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 401
            r = await h.client.post("/auth/jwt/refresh", json={"refresh_token": token})
            assert r.status_code in (401, 422)


class TestVerification:
    async def test_request_and_verify(self, env: Any) -> None:
        h, outbox, hooks = env
        await h.register()
        for email in ("alice@example.com", "nobody@example.com"):
            r = await h.client.post("/auth/request-verify-token", json={"email": email})
            assert (r.status_code, r.content) == (202, b"null")
        assert [m.to for m in outbox.messages] == ["alice@example.com"]
        assert f"{FRONTEND}/verify-email?token=" in outbox.messages[0].text
        token = outbox.token("alice@example.com")
        r = await h.client.post("/auth/verify", json={"token": token})
        assert r.status_code == 200
        assert r.json()["is_verified"] is True
        assert r.json()["email"] == "alice@example.com"
        again = await h.client.post("/auth/verify", json={"token": token})
        assert again.json() == {"detail": "VERIFY_USER_ALREADY_VERIFIED"}
        assert ("request_verify", "alice@example.com") in hooks.calls
        assert ("verify", "alice@example.com") in hooks.calls
        # verified users get no new token
        await h.client.post("/auth/request-verify-token", json={"email": "alice@example.com"})
        assert len(outbox.messages) == 1

    async def test_token_bound_to_the_address(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        await h.client.post("/auth/request-verify-token", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        headers = bearer(await tokens_for(h))
        r = await h.client.patch(
            "/users/me",
            headers=headers,
            json={"email": "moved@example.com", "current_password": PASSWORD},
        )
        assert r.status_code == 200
        r = await h.client.post("/auth/verify", json={"token": token})
        assert r.json() == {"detail": "VERIFY_USER_BAD_TOKEN"}

    @pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 9000])
    async def test_garbage(self, env: Any, token: str) -> None:
        h, _, _ = env
        r = await h.client.post("/auth/verify", json={"token": token})
        assert r.status_code in (400, 422)

    async def test_required_verification_gates_login(
        self, make_host: Any, make_settings: Any
    ) -> None:
        outbox = Outbox()
        h: Host = await make_host(
            settings=make_settings(require_verified_login=True), email_sender=outbox
        )
        await h.register()
        r = await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert r.json() == oauth_error("LOGIN_USER_NOT_VERIFIED")
        await h.client.post("/auth/request-verify-token", json={"email": "alice@example.com"})
        await h.client.post("/auth/verify", json={"token": outbox.token("alice@example.com")})
        assert await tokens_for(h)


class TestEmailChange:
    async def test_change_applies_only_when_the_link_is_used(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        headers = bearer(await tokens_for(h))
        r = await h.client.post(
            "/users/me/email",
            headers=headers,
            json={"current_password": PASSWORD, "new_email": "New@Example.com"},
        )
        assert r.status_code == 202
        assert sorted(m.to for m in outbox.messages) == ["New@example.com", "alice@example.com"]
        assert "New@example.com" in outbox.to("alice@example.com")[0].text
        assert (await h.client.get("/users/me", headers=headers)).json()["email"] == (
            "alice@example.com"
        )
        token = outbox.token("New@example.com")
        r = await h.client.post("/users/me/email/confirm", json={"token": token})
        assert r.status_code == 200
        assert r.json()["email"] == "New@example.com"
        assert r.json()["is_verified"] is True
        assert await tokens_for(h, "new@example.com")
        reuse = await h.client.post("/users/me/email/confirm", json={"token": token})
        assert reuse.json() == {"detail": "EMAIL_CHANGE_BAD_TOKEN"}

    async def test_refusals(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        await h.register("bob@example.com")
        headers = bearer(await tokens_for(h))
        wrong = await h.client.post(
            "/users/me/email",
            headers=headers,
            json={"current_password": "nope nope", "new_email": "n@x.io"},
        )
        assert wrong.json() == {"detail": "CURRENT_PASSWORD_INVALID"}
        taken = await h.client.post(
            "/users/me/email",
            headers=headers,
            json={"current_password": PASSWORD, "new_email": "BOB@example.com"},
        )
        assert taken.json() == {"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"}
        assert outbox.messages == []
        assert (await h.client.post("/users/me/email", json={})).status_code == 401

    async def test_address_taken_before_confirmation(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        headers = bearer(await tokens_for(h))
        await h.client.post(
            "/users/me/email",
            headers=headers,
            json={"current_password": PASSWORD, "new_email": "late@example.com"},
        )
        await h.register("late@example.com")
        r = await h.client.post(
            "/users/me/email/confirm", json={"token": outbox.token("late@example.com")}
        )
        assert r.json() == {"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"}

    async def test_patch_email_notifies_the_old_address(self, env: Any) -> None:
        h, outbox, _ = env
        await h.register()
        headers = bearer(await tokens_for(h))
        await h.client.patch(
            "/users/me",
            headers=headers,
            json={"email": "moved@example.com", "current_password": PASSWORD},
        )
        assert [m.to for m in outbox.messages] == ["alice@example.com"]
        assert "moved@example.com" in outbox.messages[0].text


class TestDelete:
    async def test_self_deletion(self, env: Any) -> None:
        h, outbox, hooks = env
        await h.register()
        session = await tokens_for(h)
        wrong = await h.client.request(
            "DELETE", "/users/me", headers=bearer(session), json={"current_password": "nope nope"}
        )
        assert wrong.json() == {"detail": "CURRENT_PASSWORD_INVALID"}
        r = await h.client.request(
            "DELETE", "/users/me", headers=bearer(session), json={"current_password": PASSWORD}
        )
        assert r.status_code == 204
        assert (await h.client.get("/users/me", headers=bearer(session))).status_code == 401
        refresh = await h.client.post(
            "/auth/jwt/refresh", json={"refresh_token": session["refresh_token"]}
        )
        assert refresh.status_code == 401
        login = await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert login.status_code == 400
        assert [c for c in hooks.calls if c[0].endswith("delete")] == [
            ("before_delete", "alice@example.com"),
            ("after_delete", "alice@example.com"),
        ]
        assert outbox.to("alice@example.com")
        assert (await h.register()).status_code == 201  # the address is free again

    async def test_before_hook_aborts_and_nothing_is_written(self, env: Any) -> None:
        h, _, hooks = env
        await h.register("keep@example.com")
        session = await tokens_for(h, "keep@example.com")
        r = await h.client.request(
            "DELETE", "/users/me", headers=bearer(session), json={"current_password": PASSWORD}
        )
        assert r.status_code == 409
        assert r.json() == {"detail": "ACCOUNT_HAS_OPEN_INVOICES"}
        assert (await h.client.get("/users/me", headers=bearer(session))).status_code == 200
        assert ("after_delete", "keep@example.com") not in hooks.calls


class TestEnumerationSafeRegistration:
    async def test_same_answer_for_new_and_existing(
        self, make_host: Any, make_settings: Any
    ) -> None:
        outbox = Outbox()
        h: Host = await make_host(
            settings=make_settings(prevent_enumeration=True), email_sender=outbox
        )
        first = await h.register()
        second = await h.register("ALICE@example.com", password="another password")
        assert (first.status_code, first.content) == (202, b"null")
        assert (second.status_code, second.content) == (202, b"null")
        assert [m.to for m in outbox.messages] == ["alice@example.com"]
        assert await tokens_for(h)  # the first password still works
        weak = [await h.register(e, password="x") for e in ("alice@example.com", "n@example.com")]
        assert {w.json()["detail"]["code"] for w in weak} == {"REGISTER_INVALID_PASSWORD"}


class TestHooks:
    async def test_login_failed(self, env: Any) -> None:
        h, _, hooks = env
        await h.register()
        await h.client.post(
            "/auth/jwt/login", data={"username": "who@example.com", "password": PASSWORD}
        )
        await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": "wrong one!"}
        )
        assert [c for c in hooks.calls if c[0] == "login_failed"] == [
            ("login_failed", "who@example.com"),
            ("login_failed", "alice@example.com"),
        ]

    async def test_failing_mail_is_logged_and_the_answer_unchanged(
        self, make_host: Any, make_settings: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        class Broken(EmailSender):
            async def send(self, message: EmailMessage) -> None:
                raise OSError("smtp down")

        h: Host = await make_host(email_sender=Broken())
        await h.register()
        r = await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        assert r.status_code == 202
        assert "smtp down" in caplog.text

    async def test_default_sender_logs_the_link(
        self, make_host: Any, make_settings: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        h: Host = await make_host(settings=make_settings(frontend_url=FRONTEND))
        await h.register()
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        assert f"{FRONTEND}/reset-password?token=" in caplog.text
