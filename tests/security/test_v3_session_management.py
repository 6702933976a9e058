"""ASVS 4.0.3 V3: session management. The token attack corpus of V3.5.3 is in
test_v3_jwt_attacks.py; docs/security/asvs.md maps every requirement to its tests.
"""

import asyncio
import base64
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Host

ORIGIN = "https://testserver"
NEW_PASSWORD = "another-horse-battery-7"
FORM = {"username": "alice@example.com", "password": PASSWORD}


async def _pair(h: Host) -> dict[str, Any]:
    response = await h.client.post("/auth/jwt/login", data=FORM)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def _status(h: Host, pair: dict[str, Any]) -> tuple[int, int]:
    """The answers to the pair's access token and to its refresh token."""
    me = await h.client.get("/users/me", headers=_bearer(pair))
    refresh = await h.client.post(
        "/auth/jwt/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    return me.status_code, refresh.status_code


@pytest.fixture
async def cookie_host(make_host: Any, make_settings: Any) -> Host:
    h: Host = await make_host(settings=make_settings(cookie_transport=True))
    h.client.base_url = httpx.URL(ORIGIN)
    await h.register()
    return h


async def test_v3_1_1_tokens_in_the_url_are_not_accepted(host: Host) -> None:
    await host.register()
    pair = await _pair(host)
    for name in ("access_token", "token", "authorization"):
        answer = await host.client.get("/users/me", params={name: pair["access_token"]})
        assert answer.status_code == 401
    answer = await host.client.post(
        "/auth/jwt/refresh", params={"refresh_token": pair["refresh_token"]}, json={}
    )
    assert answer.status_code == 422


async def test_v3_2_1_every_login_gets_new_tokens_and_a_new_session(host: Host) -> None:
    await host.register()
    first, second = await _pair(host), await _pair(host)
    assert first["access_token"] != second["access_token"]
    assert first["refresh_token"] != second["refresh_token"]
    sessions = (await host.client.get("/auth/sessions", headers=_bearer(second))).json()
    assert len({s["id"] for s in sessions}) == 2


async def test_v3_2_2_refresh_tokens_carry_at_least_128_bits(host: Host) -> None:
    await host.register()
    tokens = {(await _pair(host))["refresh_token"] for _ in range(5)}
    assert len(tokens) == 5
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128


async def test_v3_3_1_logout_invalidates_access_token(host: Host) -> None:
    await host.register()
    pair, other = await _pair(host), await _pair(host)
    assert (await host.client.post("/auth/jwt/logout", headers=_bearer(pair))).status_code == 204
    assert await _status(host, pair) == (401, 401)
    assert (await host.client.get("/users/me", headers=_bearer(other))).status_code == 200


async def test_v3_3_1_cookie_logout_invalidates_the_session(cookie_host: Host) -> None:
    h = cookie_host
    assert (await h.client.post("/auth/cookie/login", data=FORM)).status_code == 204
    stolen = dict(h.client.cookies)
    csrf = {"X-CSRF-Token": h.client.cookies["__Host-userkit_csrf"]}
    assert (await h.client.post("/auth/cookie/logout", headers=csrf)).status_code == 204
    replay = httpx.AsyncClient(transport=h.client._transport, base_url=ORIGIN, cookies=stolen)
    async with replay:
        assert (await replay.get("/users/me")).status_code == 401


async def test_v3_3_2_sessions_end_at_their_absolute_lifetime(
    make_host: Any, make_settings: Any
) -> None:
    h: Host = await make_host(settings=make_settings(session_ttl=1))
    await h.register()
    pair = await _pair(h)
    assert (await h.client.get("/users/me", headers=_bearer(pair))).status_code == 200
    await asyncio.sleep(1.2)
    assert await _status(h, pair) == (401, 401)


async def test_v3_3_3_password_change_ends_every_other_session(host: Host) -> None:
    await host.register()
    mine, other = await _pair(host), await _pair(host)
    change = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    answer = await host.client.post("/users/me/password", headers=_bearer(mine), json=change)
    assert answer.is_success
    assert await _status(host, other) == (401, 401)
    refreshed = await host.client.post(
        "/auth/jwt/refresh", json={"refresh_token": mine["refresh_token"]}
    )
    assert refreshed.status_code == 200  # the caller's own session goes on


async def test_v3_3_4_users_see_and_end_their_sessions(host: Host) -> None:
    await host.register()
    mine, other = await _pair(host), await _pair(host)
    listed = (await host.client.get("/auth/sessions", headers=_bearer(mine))).json()
    assert [s["current"] for s in listed].count(True) == 1
    (other_id,) = [s["id"] for s in listed if not s["current"]]
    answer = await host.client.delete(f"/auth/sessions/{other_id}", headers=_bearer(mine))
    assert answer.status_code == 204
    assert await _status(host, other) == (401, 401)
    everywhere = await host.client.post("/auth/jwt/logout-all", headers=_bearer(mine))
    assert everywhere.status_code == 204
    assert await _status(host, mine) == (401, 401)


async def test_v3_4_1_to_v3_4_5_cookie_attributes(cookie_host: Host) -> None:
    answer = await cookie_host.client.post("/auth/cookie/login", data=FORM)
    assert answer.status_code == 204
    cookies = {c.split("=", 1)[0]: c.lower() for c in answer.headers.get_list("set-cookie")}
    assert set(cookies) == {
        "__Host-userkit_access",  # V3.4.4: __Host- prefix
        "__Host-userkit_refresh",
        "__Host-userkit_csrf",
    }
    for name, cookie in cookies.items():
        assert "secure" in cookie  # V3.4.1
        assert ("httponly" in cookie) == (name != "__Host-userkit_csrf")  # V3.4.2
        assert "samesite=lax" in cookie  # V3.4.3
        assert "path=/" in cookie and "domain=" not in cookie  # V3.4.5


async def test_v3_5_2_access_tokens_are_short_lived_and_refresh_tokens_rotate(
    host: Host,
) -> None:
    await host.register()
    pair = await _pair(host)
    assert 0 < pair["expires_in"] <= 3600
    rotated = await host.client.post(
        "/auth/jwt/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert rotated.json()["refresh_token"] != pair["refresh_token"]
    reused = await host.client.post(
        "/auth/jwt/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert reused.status_code == 401
    assert reused.json()["detail"] == "REFRESH_TOKEN_REUSED"
    # the reuse revoked the whole session, the rotated pair included
    assert await _status(host, rotated.json()) == (401, 401)


@pytest.mark.parametrize("change", ["email", "delete"])
async def test_v3_7_1_sensitive_changes_need_the_current_password(host: Host, change: str) -> None:
    me = await host.headers()
    if change == "email":
        body = {"current_password": NEW_PASSWORD, "new_email": "alice2@example.com"}
        answer = await host.client.post("/users/me/email", headers=me, json=body)
    else:
        answer = await host.client.request(
            "DELETE", "/users/me", headers=me, json={"current_password": NEW_PASSWORD}
        )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "CURRENT_PASSWORD_INVALID"
    patch = await host.client.patch("/users/me", headers=me, json={"email": "a3@example.com"})
    assert patch.status_code == 400
    assert (await host.client.get("/users/me", headers=me)).json()["email"] == ("alice@example.com")
