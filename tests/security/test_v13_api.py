"""ASVS 4.0.3 V13: API and web service, and V8.2.1 (anti-caching), which concerns the
same answers. The schema-driven fuzzing of V13.2.2 is in test_v13_api_schema.py;
docs/security/asvs.md maps every requirement to its tests.
"""

import pytest

from tests.conftest import PASSWORD, Host

FORM = {"username": "alice@example.com", "password": PASSWORD}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/auth/jwt/login"),
        ("TRACE", "/auth/jwt/login"),
        ("GET", "/auth/jwt/logout"),
        ("DELETE", "/auth/register"),
        ("PUT", "/users/me"),
    ],
)
async def test_v13_2_1_unlisted_methods_are_refused(host: Host, method: str, path: str) -> None:
    answer = await host.client.request(method, path)
    assert answer.status_code == 405
    assert "allow" in answer.headers


async def test_v13_2_5_bodies_of_another_content_type_are_refused(host: Host) -> None:
    body = b'{"email": "alice@example.com", "password": "correct-horse-battery-9"}'
    answer = await host.client.post(
        "/auth/register", content=body, headers={"Content-Type": "text/plain"}
    )
    assert answer.status_code == 422
    assert (await host.kit.users.list()).total == 0
    await host.register()
    login = await host.client.post(
        "/auth/jwt/login", content=body, headers={"Content-Type": "text/plain"}
    )
    assert login.status_code == 415
    assert login.json()["detail"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_v8_2_1_answers_about_accounts_are_never_cached(host: Host) -> None:
    await host.register()
    login = await host.client.post("/auth/jwt/login", data=FORM)
    me = await host.client.get(
        "/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    refused = await host.client.post("/auth/jwt/login", data={**FORM, "password": "wrong-1"})
    for answer in (login, me, refused):
        assert answer.headers["cache-control"] == "no-store"
