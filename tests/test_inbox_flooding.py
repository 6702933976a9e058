"""Inbox flooding: with `prevent_enumeration`, every registration of a taken address
e-mailed its owner; 63 registrations from 3 IPs sent 60 notices."""

from typing import Any

from tests.conftest import PASSWORD, Host
from tests.test_lifecycle import Outbox

PROXY = "127.0.0.1"  # httpx's ASGITransport connects from 127.0.0.1


async def test_notices_to_one_address_are_limited_whatever_the_ips(
    make_host: Any, make_settings: Any
) -> None:
    outbox = Outbox()
    settings = make_settings(prevent_enumeration=True, trusted_proxies=[PROXY])
    h: Host = await make_host(settings=settings, email_sender=outbox)
    await h.kit.users.create(email="owner@example.com", password=PASSWORD)
    answers = []
    for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        for _ in range(21):
            r = await h.client.post(
                "/auth/register",
                json={"email": "Owner@example.com", "password": PASSWORD},
                headers={"X-Forwarded-For": ip},
            )
            answers.append(r.status_code)
    assert answers.count(202) == 60  # 20 per IP, then 429
    assert len(outbox.to("owner@example.com")) == 3  # USERKIT_RATE_LIMIT_REGISTER_NOTICE_ACCOUNT


async def test_the_limit_is_a_setting(make_host: Any, make_settings: Any) -> None:
    outbox = Outbox()
    settings = make_settings(prevent_enumeration=True, rate_limit_register_notice_account="1/60")
    h: Host = await make_host(settings=settings, email_sender=outbox)
    await h.kit.users.create(email="owner@example.com", password=PASSWORD)
    for _ in range(3):
        assert (await h.register("owner@example.com")).status_code == 202
    assert len(outbox.to("owner@example.com")) == 1
    assert (await h.register("newcomer@example.com")).status_code == 202  # not limited
