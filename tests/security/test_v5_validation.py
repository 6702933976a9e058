"""ASVS 4.0.3 V5: validation, sanitization and encoding. The whole HTTP surface is also
fuzzed against its schema (test_v13_api_schema.py); docs/security/asvs.md maps every
requirement to its tests.
"""

from typing import Any

import pytest

from tests.conftest import PASSWORD, Host
from tests.security._mail import Outbox


@pytest.mark.parametrize(
    "email",
    ["not-an-address", "alice@", "@example.com", "alice@example..com", "a\x00@example.com", ""],
)
async def test_v5_1_3_malformed_addresses_are_refused(host: Host, email: str) -> None:
    answer = await host.register(email)
    assert answer.status_code == 422
    assert (await host.kit.users.list()).total == 0


@pytest.mark.parametrize(
    "body",
    [
        {"email": "alice@example.com", "password": 12345678901},
        {"email": ["alice@example.com"], "password": PASSWORD},
        {"email": {"$ne": None}, "password": PASSWORD},
        {"email": "alice@example.com"},
        [],
        "alice@example.com",
    ],
    ids=["int-password", "list-email", "operator-email", "no-password", "array", "string"],
)
async def test_v5_1_4_structured_data_is_strongly_typed(host: Host, body: Any) -> None:
    answer = await host.client.post("/auth/register", json=body)
    assert answer.status_code == 422
    assert PASSWORD not in answer.text


@pytest.mark.parametrize("flag", ["true", 1, "yes", "on"])
async def test_v5_1_4_booleans_are_strict(host: Host, flag: Any) -> None:
    await host.register()
    root = await host.kit.users.create(
        email="root@example.com", password=PASSWORD, is_superuser=True
    )
    admin = {"Authorization": f"Bearer {await host.login('root@example.com')}"}
    alice = await host.kit.users.get_by_email("alice@example.com")
    answer = await host.client.patch(
        f"/users/{alice.id}", headers=admin, json={"is_superuser": flag}
    )
    assert answer.status_code == 422
    assert not (await host.kit.users.get(alice.id)).is_superuser
    assert root.is_superuser


async def test_v5_1_5_links_in_e_mails_ignore_the_request_host(
    make_host: Any, make_settings: Any
) -> None:
    outbox = Outbox()
    h: Host = await make_host(
        settings=make_settings(frontend_url="https://app.example"), email_sender=outbox
    )
    await h.register()
    await h.client.post(
        "/auth/forgot-password",
        json={"email": "alice@example.com"},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    (mail,) = outbox.messages
    assert "https://app.example/" in mail.text
    assert "evil.example" not in mail.text and "evil.example" not in (mail.html or "")


async def test_v5_2_1_html_mail_escapes_what_users_typed(
    make_host: Any, make_settings: Any
) -> None:
    outbox = Outbox()
    h: Host = await make_host(
        settings=make_settings(frontend_url="https://app.example"), email_sender=outbox
    )
    me = await h.headers()
    markup = await h.client.post(
        "/users/me/email",
        headers=me,
        json={"current_password": PASSWORD, "new_email": "<b>x</b>@example.com"},
    )
    assert markup.status_code == 422  # not an address
    new = "o'brien&co@example.com"  # a valid address with HTML's special characters
    change = {"current_password": PASSWORD, "new_email": new}
    assert (await h.client.post("/users/me/email", headers=me, json=change)).status_code == 202
    html = "".join(m.html or "" for m in outbox.messages)
    assert "o&#x27;brien&amp;co@example.com" in html
    assert new not in html


@pytest.mark.parametrize("probe", ["%", "_", "!", "' OR '1'='1", "a%", "\\"])
async def test_v5_3_4_search_is_parameterised_and_literal(host: Host, probe: str) -> None:
    for name in ("alice", "bob", "carol"):
        await host.register(f"{name}@example.com")
    await host.kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
    admin = {"Authorization": f"Bearer {await host.login('root@example.com')}"}
    answer = await host.client.get("/users", headers=admin, params={"q": probe})
    assert answer.status_code == 200
    assert answer.json()["total"] == 0  # wildcards and quotes match themselves only
    everyone = await host.client.get("/users", headers=admin, params={"q": "example"})
    assert everyone.json()["total"] == 4


async def test_v5_3_4_injection_in_login_is_just_a_wrong_address(host: Host) -> None:
    await host.register()
    for username in ("' OR '1'='1' --", "alice@example.com' --", "alice@example.com\x00"):
        answer = await host.client.post(
            "/auth/jwt/login", data={"username": username, "password": "x' OR '1'='1"}
        )
        assert answer.status_code in (400, 422)
    assert (await host.kit.users.list()).total == 1


async def test_v5_5_oversized_and_deeply_nested_bodies_are_refused(host: Host) -> None:
    huge = await host.client.post(
        "/auth/register",
        content=b'{"email": "' + b"a" * 200_000 + b'@example.com", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["detail"] == "REQUEST_TOO_LARGE"
    nested = await host.client.post(
        "/auth/register",
        content=b"[" * 20_000 + b"]" * 20_000,
        headers={"Content-Type": "application/json"},
    )
    assert nested.status_code == 422
    assert nested.json()["detail"][0]["type"] == "json_invalid"
