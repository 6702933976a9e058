"""Attacks on the e-mailed tokens, written as an attacker would run them through the
HTTP API: each token-consuming write must be conditioned on the account state the
token was issued for, atomically, and every token dies with a password change,
a reset, an address change or a token-version bump (logout-all)."""

import asyncio
from typing import Any

import pytest

from tests.conftest import PASSWORD, Host
from tests.test_lifecycle import Outbox

FRONTEND = "https://app.example.com"
OWNER = "alice@example.com"
ATTACKER = "mallory@evil.example"


@pytest.fixture
async def env(make_host: Any, make_settings: Any) -> tuple[Host, Outbox]:
    outbox = Outbox()
    h: Host = await make_host(settings=make_settings(frontend_url=FRONTEND), email_sender=outbox)
    assert (await h.register(OWNER)).status_code == 201
    return h, outbox


async def bearer(h: Host, email: str = OWNER, password: str = PASSWORD) -> dict[str, str]:
    return {"Authorization": f"Bearer {await h.login(email, password)}"}


async def change_password(h: Host, outbox: Outbox, new: str) -> None:
    r = await h.client.post(
        "/users/me/password",
        json={"current_password": PASSWORD, "new_password": new},
        headers=await bearer(h),
    )
    assert r.status_code == 204, r.text


async def reset_password(h: Host, outbox: Outbox, new: str) -> None:
    await h.client.post("/auth/forgot-password", json={"email": OWNER})
    r = await h.client.post(
        "/auth/reset-password", json={"token": outbox.token(OWNER), "password": new}
    )
    assert r.status_code == 200, r.text


async def logout_all(h: Host, outbox: Outbox, new: str) -> None:
    r = await h.client.post("/auth/jwt/logout-all", headers=await bearer(h))
    assert r.status_code == 204


class TestVerificationRace:
    """The verify route checked the bound address, then wrote `is_verified=true`
    unconditionally: sent while `PATCH /users/me` moved the account to an address
    the caller does not own, it verified that address."""

    @pytest.mark.parametrize("attempt", range(8))
    async def test_verify_racing_an_address_change_never_verifies_the_new_address(
        self, env: Any, attempt: int
    ) -> None:
        h, outbox = env
        headers = await bearer(h)
        await h.client.post("/auth/request-verify-token", json={"email": OWNER})
        token = outbox.token(OWNER)
        victim = f"ceo{attempt}@bank.example"
        verify, patch = await asyncio.gather(
            h.client.post("/auth/verify", json={"token": token}),
            h.client.patch(
                "/users/me",
                json={"email": victim, "current_password": PASSWORD},
                headers=headers,
            ),
        )
        assert patch.status_code == 200, patch.text
        me = (await h.client.get("/users/me", headers=headers)).json()
        assert me["email"] == victim
        assert me["is_verified"] is False, (verify.status_code, verify.text)

    async def test_a_verify_link_for_the_old_address_cannot_verify_the_new_one(
        self, env: Any
    ) -> None:
        h, outbox = env
        headers = await bearer(h)
        await h.client.post("/auth/request-verify-token", json={"email": OWNER})
        token = outbox.token(OWNER)
        r = await h.client.patch(
            "/users/me",
            json={"email": "ceo@bank.example", "current_password": PASSWORD},
            headers=headers,
        )
        assert r.status_code == 200
        r = await h.client.post("/auth/verify", json={"token": token})
        assert r.json() == {"detail": "VERIFY_USER_BAD_TOKEN"}
        assert (await h.client.get("/users/me", headers=headers)).json()["is_verified"] is False

    async def test_a_new_spelling_of_a_verified_address_is_not_verified(self, env: Any) -> None:
        h, outbox = env
        headers = await bearer(h)
        await h.client.post("/auth/request-verify-token", json={"email": OWNER})
        r = await h.client.post("/auth/verify", json={"token": outbox.token(OWNER)})
        assert r.json()["is_verified"] is True
        r = await h.client.patch(
            "/users/me",
            json={"email": "Alice@example.com", "current_password": PASSWORD},
            headers=headers,
        )
        assert r.status_code == 200
        assert r.json() == {**r.json(), "email": "Alice@example.com", "is_verified": False}


RECOVERIES = [change_password, reset_password, logout_all]


class TestTakeoverSurvivesRecovery:
    """Someone who once knew the password asks to move the account to their own
    mailbox; the owner recovers (password change, reset, logout-all); the old
    confirmation link must be dead, and so must every reset and verify link."""

    @pytest.mark.parametrize("recover", RECOVERIES, ids=lambda f: f.__name__)
    async def test_a_pending_email_change_dies_with_the_recovery(
        self, env: Any, recover: Any
    ) -> None:
        h, outbox = env
        attacker = await bearer(h)
        r = await h.client.post(
            "/users/me/email",
            json={"current_password": PASSWORD, "new_email": ATTACKER},
            headers=attacker,
        )
        assert r.status_code == 202
        link = outbox.token(ATTACKER)
        await recover(h, outbox, "the owner's new passphrase")
        r = await h.client.post("/users/me/email/confirm", json={"token": link})
        assert r.json() == {"detail": "EMAIL_CHANGE_BAD_TOKEN"}
        user = await h.kit.users.get_by_email(OWNER)
        assert user.email == OWNER

    @pytest.mark.parametrize("recover", RECOVERIES, ids=lambda f: f.__name__)
    async def test_reset_and_verify_links_die_with_the_recovery(
        self, env: Any, recover: Any
    ) -> None:
        h, outbox = env
        await h.client.post("/auth/request-verify-token", json={"email": OWNER})
        verify_link = outbox.token(OWNER)
        await h.client.post("/auth/forgot-password", json={"email": OWNER})
        reset_link = outbox.token(OWNER)
        await recover(h, outbox, "the owner's new passphrase")
        r = await h.client.post("/auth/verify", json={"token": verify_link})
        assert r.json() == {"detail": "VERIFY_USER_BAD_TOKEN"}
        r = await h.client.post(
            "/auth/reset-password", json={"token": reset_link, "password": "attacker's own pw"}
        )
        assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}

    async def test_confirming_after_a_concurrent_reset_never_moves_the_account(
        self, env: Any
    ) -> None:
        h, outbox = env
        attacker = await bearer(h)
        await h.client.post(
            "/users/me/email",
            json={"current_password": PASSWORD, "new_email": ATTACKER},
            headers=attacker,
        )
        link = outbox.token(ATTACKER)
        await h.client.post("/auth/forgot-password", json={"email": OWNER})
        reset_link = outbox.token(OWNER)
        confirm, reset = await asyncio.gather(
            h.client.post("/users/me/email/confirm", json={"token": link}),
            h.client.post(
                "/auth/reset-password",
                json={"token": reset_link, "password": "the owner's new passphrase"},
            ),
        )
        # Whichever came first, the other one was refused: never both.
        assert sorted([confirm.status_code, reset.status_code]) == [200, 400]


class TestResetLinkBoundToAddress:
    """A reset link mailed to the old address must die once the address changes."""

    async def test_reset_link_dies_after_a_direct_address_change(self, env: Any) -> None:
        h, outbox = env
        await h.client.post("/auth/forgot-password", json={"email": OWNER})
        old_link = outbox.token(OWNER)
        r = await h.client.patch(
            "/users/me",
            json={"email": "alice@new.example", "current_password": PASSWORD},
            headers=await bearer(h),
        )
        assert r.status_code == 200
        r = await h.client.post(
            "/auth/reset-password", json={"token": old_link, "password": "someone else's pw"}
        )
        assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}

    async def test_reset_link_dies_after_a_confirmed_address_change(self, env: Any) -> None:
        h, outbox = env
        headers = await bearer(h)
        await h.client.post("/auth/forgot-password", json={"email": OWNER})
        old_link = outbox.token(OWNER)
        await h.client.post(
            "/users/me/email",
            json={"current_password": PASSWORD, "new_email": "alice@new.example"},
            headers=headers,
        )
        r = await h.client.post(
            "/users/me/email/confirm", json={"token": outbox.token("alice@new.example")}
        )
        assert r.status_code == 200
        r = await h.client.post(
            "/auth/reset-password", json={"token": old_link, "password": "someone else's pw"}
        )
        assert r.json() == {"detail": "RESET_PASSWORD_BAD_TOKEN"}
