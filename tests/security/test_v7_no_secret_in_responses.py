"""ASVS 4.0.3 V7/V8 (data protection): no response of any account flow carries a
password hash or a password the client sent, in its body or its headers, whether
the flow succeeds or is refused.
"""

from typing import Any

import httpx
import pytest

from fastapi_userkit import UserKit
from tests.conftest import PASSWORD, Host

NEW_PASSWORD = "another-horse-battery-7"
WRONG_PASSWORD = "not-the-password-at-all-3"
WEAK_PASSWORD = "qwertyuiop"  # common: refused by the policy


class Recorder:
    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.responses.append(response)


async def _hashes(kit: UserKit[Any]) -> list[str]:
    page = await kit.users.list(limit=100)
    return [user.hashed_password for user in page.items]


async def test_v8_3_4_no_hash_or_password_in_any_response(make_host: Any) -> None:
    h: Host = await make_host()
    recorder = Recorder()
    h.client.event_hooks["response"].append(recorder)
    c = h.client
    hashes: list[str] = []

    assert (await h.register()).status_code == 201
    assert (await h.register()).status_code == 400  # taken
    assert (await h.register("bob@example.com", WEAK_PASSWORD)).status_code in (400, 422)
    admin = await h.kit.users.create(
        email="root@example.com", password=PASSWORD, is_superuser=True, is_verified=True
    )
    hashes += await _hashes(h.kit)

    login = await c.post(
        "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
    )
    tokens = login.json()
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    await c.post(
        "/auth/jwt/login", data={"username": "alice@example.com", "password": WRONG_PASSWORD}
    )
    await c.post("/auth/jwt/login", json={"email": "alice@example.com", "password": PASSWORD})
    await c.get("/users/me", headers=me)
    await c.patch(
        "/users/me", headers=me, json={"email": "x@example.com", "current_password": WRONG_PASSWORD}
    )
    await c.patch(
        "/users/me", headers=me, json={"password": WEAK_PASSWORD, "current_password": PASSWORD}
    )
    await c.post(
        "/users/me/password",
        headers=me,
        json={"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD},
    )
    changed = await c.post(
        "/users/me/password",
        headers=me,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code in (200, 204), changed.text
    hashes += await _hashes(h.kit)
    refreshed = await c.post("/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]})
    if refreshed.status_code == 200:
        me = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    await c.get("/auth/sessions", headers=me)
    await c.post("/auth/forgot-password", json={"email": "alice@example.com"})
    await c.post("/auth/reset-password", json={"token": "x" * 40, "password": NEW_PASSWORD})
    await c.post("/auth/request-verify-token", json={"email": "alice@example.com"})

    root = {"Authorization": f"Bearer {await h.login('root@example.com')}"}
    alice = await h.kit.users.get_by_email("alice@example.com")
    await c.get("/users", headers=root)
    await c.get(f"/users/{alice.id}", headers=root)
    await c.patch(f"/users/{alice.id}", headers=root, json={"password": WEAK_PASSWORD})
    await c.patch(f"/users/{alice.id}", headers=root, json={"is_verified": True})
    await c.get(f"/users/{admin.id}", headers=root)
    await c.request("DELETE", "/users/me", headers=me, json={"current_password": WRONG_PASSWORD})
    hashes += await _hashes(h.kit)

    secrets = {*hashes, PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, WEAK_PASSWORD}
    assert len(recorder.responses) >= 20
    for response in recorder.responses:
        text = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        found = [s for s in secrets if s in text]
        assert found == [], (response.request.method, response.request.url.path, found)
        assert "hashed_password" not in text
        assert "$2b$" not in text and "$argon2" not in text


@pytest.mark.parametrize("body", [{"password": PASSWORD}, {"email": 5, "password": PASSWORD}])
async def test_v7_4_1_refused_registration_does_not_echo_the_password(
    host: Host, body: dict[str, Any]
) -> None:
    response = await host.client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert PASSWORD not in response.text
