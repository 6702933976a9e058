"""Rate limits and lockout through the HTTP API (memory limiter), and client IPs."""

from typing import Any

import httpx
import pytest
from starlette.requests import Request

from fastapi_userkit import UserKitHooks
from fastapi_userkit._client_ip import client_ip, parse_networks
from fastapi_userkit.ratelimit import Limit, MemoryRateLimiter, RateLimiterUnavailableError, Usage
from tests.conftest import PASSWORD, Host

PROXY = "127.0.0.1"  # httpx's ASGITransport connects from 127.0.0.1


def from_ip(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def login(h: Host, email: str, password: str, ip: str = "203.0.113.1") -> httpx.Response:
    return await h.client.post(
        "/auth/jwt/login", data={"username": email, "password": password}, headers=from_ip(ip)
    )


@pytest.fixture
def limited(make_host: Any, make_settings: Any) -> Any:
    async def make(**limits: Any) -> Host:
        settings = make_settings(trusted_proxies=[PROXY], **limits)
        return await make_host(settings=settings)  # type: ignore[no-any-return]

    return make


class TestLoginLockout:
    async def test_account_and_ip_limit(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_login_account_ip="3/600")
        await h.register()
        for _ in range(3):
            assert (await login(h, "alice@example.com", "wrong pass")).status_code == 400
        locked = await login(h, "alice@example.com", PASSWORD)  # even the right password
        assert locked.status_code == 429
        assert locked.json() == {"detail": "TOO_MANY_REQUESTS"}
        assert 0 < int(locked.headers["retry-after"]) <= 600
        # another IP is not affected by this counter
        assert (await login(h, "alice@example.com", PASSWORD, ip="198.51.100.7")).status_code == 200

    async def test_parallel_guesses_cannot_slip_past(self, limited: Any) -> None:
        import asyncio

        h: Host = await limited(rate_limit_login_account_ip="3/600")
        await h.register()
        answers = await asyncio.gather(
            *(login(h, "alice@example.com", f"guess {i}") for i in range(20))
        )
        codes = sorted(r.status_code for r in answers)
        assert codes.count(400) <= 3
        assert codes.count(429) >= 17

    async def test_same_answer_for_unknown_accounts(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_login_account_ip="2/600")
        await h.register()
        answers = []
        for email in ("alice@example.com", "ghost@example.com"):
            for _ in range(3):
                r = await login(h, email, "wrong pass")
                answers.append((r.status_code, r.json()))
        assert answers[:3] == answers[3:]
        assert answers[2] == (429, {"detail": "TOO_MANY_REQUESTS"})

    async def test_success_resets_account_ip_but_not_ip_counter(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_login_account_ip="3/600", rate_limit_login_ip="4/600")
        await h.register()
        await h.register("bob@example.com")
        for _ in range(2):
            await login(h, "alice@example.com", "wrong pass")
        assert (await login(h, "alice@example.com", PASSWORD)).status_code == 200
        for _ in range(2):  # the account+IP counter was cleared: two more are fine
            assert (await login(h, "alice@example.com", "wrong pass")).status_code == 400
        # but the IP has now failed 4 times: every account is refused from it
        assert (await login(h, "bob@example.com", PASSWORD)).status_code == 429

    async def test_owner_keeps_access_from_known_ip(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_login_account="3/3600")
        await h.register()
        home = "192.0.2.10"
        assert (await login(h, "alice@example.com", PASSWORD, ip=home)).status_code == 200
        for i in range(3):  # a distributed attack from three other addresses
            await login(h, "alice@example.com", "wrong pass", ip=f"198.51.100.{i}")
        blocked = await login(h, "alice@example.com", PASSWORD, ip="198.51.100.99")
        assert blocked.status_code == 429
        assert (await login(h, "alice@example.com", PASSWORD, ip=home)).status_code == 200

    async def test_spoofed_header_without_trusted_proxy(
        self, make_host: Any, make_settings: Any
    ) -> None:
        h: Host = await make_host(settings=make_settings(rate_limit_login_account_ip="2/600"))
        await h.register()
        for i in range(2):
            await login(h, "alice@example.com", "wrong pass", ip=f"10.0.0.{i}")
        r = await login(h, "alice@example.com", PASSWORD, ip="10.9.9.9")
        assert r.status_code == 429  # the header was ignored: all came from 127.0.0.1

    async def test_lockout_hook_and_cookie_login(self, make_host: Any, make_settings: Any) -> None:
        keys: list[str] = []

        class Hooks(UserKitHooks):
            async def on_lockout(self, key, request=None):  # type: ignore[no-untyped-def]
                keys.append(key)

        h: Host = await make_host(
            settings=make_settings(
                rate_limit_login_account_ip="2/600", cookie_transport=True, cookie_secure=False
            ),
            hooks=Hooks(),
        )
        await h.register()
        for _ in range(2):
            await h.client.post(
                "/auth/cookie/login", data={"username": "ALICE@example.com", "password": "nope"}
            )
        assert keys == ["login:acct-ip:alice@example.com:127.0.0.1"]
        r = await h.client.post(
            "/auth/cookie/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert r.status_code == 429

    async def test_disabled(self, make_host: Any, make_settings: Any) -> None:
        h: Host = await make_host(
            settings=make_settings(rate_limit_enabled=False, rate_limit_login_account_ip="1/600")
        )
        await h.register()
        for _ in range(3):
            await login(h, "alice@example.com", "wrong pass")
        assert (await login(h, "alice@example.com", PASSWORD)).status_code == 200


class TestOtherLimits:
    async def test_registrations_per_ip(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_register_ip="2/3600")
        for i in range(2):
            r = await h.client.post(
                "/auth/register",
                headers=from_ip("192.0.2.1"),
                json={"email": f"u{i}@example.com", "password": PASSWORD},
            )
            assert r.status_code == 201
        r = await h.client.post(
            "/auth/register",
            headers=from_ip("192.0.2.1"),
            json={"email": "u9@example.com", "password": PASSWORD},
        )
        assert r.status_code == 429
        r = await h.client.post(
            "/auth/register",
            headers=from_ip("192.0.2.2"),
            json={"email": "u9@example.com", "password": PASSWORD},
        )
        assert r.status_code == 201

    @pytest.mark.parametrize(
        ("path", "setting"),
        [
            ("/auth/forgot-password", "rate_limit_forgot_password_account"),
            ("/auth/request-verify-token", "rate_limit_verify_account"),
        ],
    )
    async def test_per_account_requests(self, limited: Any, path: str, setting: str) -> None:
        h: Host = await limited(**{setting: "2/3600"})
        await h.register()
        answers = {}
        for email in ("alice@example.com", "ghost@example.com"):
            codes = []
            for i in range(3):
                r = await h.client.post(
                    path, json={"email": email}, headers=from_ip(f"192.0.2.{i}")
                )
                codes.append(r.status_code)
            answers[email] = codes
        assert answers == {
            "alice@example.com": [202, 202, 429],
            "ghost@example.com": [202, 202, 429],
        }

    async def test_per_ip_requests(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_forgot_password_ip="2/3600")
        codes = [
            (
                await h.client.post(
                    "/auth/forgot-password",
                    json={"email": f"x{i}@example.com"},
                    headers=from_ip("192.0.2.50"),
                )
            ).status_code
            for i in range(3)
        ]
        assert codes == [202, 202, 429]


class TestFaults:
    async def test_unavailable_limiter_is_503_not_500(self, make_host: Any) -> None:
        class Down(MemoryRateLimiter):
            async def peek(self, key: str, limit: Limit) -> Usage:
                raise RateLimiterUnavailableError("down")

            async def hit(self, key: str, limit: Limit) -> Usage:
                raise RateLimiterUnavailableError("down")

        h: Host = await make_host(rate_limiter=Down())
        r = await h.client.post(
            "/auth/jwt/login", data={"username": "a@example.com", "password": "x"}
        )
        assert r.status_code == 503
        assert r.json() == {"detail": "RATE_LIMITER_UNAVAILABLE"}
        r = await h.register()
        assert r.status_code == 503

    async def test_memory_limiter_bounds_its_keys(self) -> None:
        limiter = MemoryRateLimiter(max_keys=10)
        for i in range(100):
            await limiter.hit(f"k{i}", Limit(5, 60))
        assert 9 <= limiter.size <= 10  # swept to 90% each time the bound is passed

    async def test_windows_end(self) -> None:
        now = [1000.0]
        limiter = MemoryRateLimiter(clock=lambda: now[0])
        limit = Limit(2, 60)
        assert [(await limiter.hit("k", limit)).allowed for _ in range(3)] == [True, True, False]
        assert (await limiter.peek("k", limit)).retry_after == 60
        now[0] += 61
        assert (await limiter.hit("k", limit)).allowed

    @pytest.mark.parametrize("text", ["5", "0/10", "5/0", "a/b", "-1/5", ""])
    def test_bad_limit_settings(self, text: str, make_settings: Any) -> None:
        from pydantic import ValidationError

        with pytest.raises(ValidationError, match="COUNT/SECONDS"):
            make_settings(rate_limit_login_ip=text)


def _request(peer: str, headers: dict[str, str]) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": (peer, 1234),
    }
    return Request(scope)


class TestClientIp:
    trusted = parse_networks(["10.0.0.0/8", "::1"])

    @pytest.mark.parametrize(
        ("peer", "headers", "expected"),
        [
            ("203.0.113.5", {}, "203.0.113.5"),
            ("203.0.113.5", {"X-Forwarded-For": "1.2.3.4"}, "203.0.113.5"),
            ("10.0.0.1", {"X-Forwarded-For": "1.2.3.4"}, "1.2.3.4"),
            ("10.0.0.1", {"X-Forwarded-For": "6.6.6.6, 1.2.3.4, 10.0.0.2"}, "1.2.3.4"),
            ("10.0.0.1", {"X-Forwarded-For": "garbage, 1.2.3.4"}, "1.2.3.4"),
            ("10.0.0.1", {"X-Forwarded-For": "1.2.3.4, garbage"}, "10.0.0.1"),
            (
                "10.0.0.1",
                {"Forwarded": 'for=192.0.2.60;proto=http, for="[2001:db8::1]:4711"'},
                "2001:db8::1",
            ),
            ("10.0.0.1", {"Forwarded": "for=192.0.2.60:8080"}, "192.0.2.60"),
            ("::1", {"X-Forwarded-For": "2001:db8::7"}, "2001:db8::7"),
            ("10.0.0.1", {"X-Forwarded-For": "10.0.0.3"}, "10.0.0.3"),
            ("testclient", {"X-Forwarded-For": "1.2.3.4"}, "testclient"),
        ],
    )
    def test_resolution(self, peer: str, headers: dict[str, str], expected: str) -> None:
        assert client_ip(_request(peer, headers), self.trusted) == expected

    def test_bad_proxy_setting(self, make_settings: Any) -> None:
        from pydantic import ValidationError

        with pytest.raises(ValidationError):
            make_settings(trusted_proxies=["not-a-network"])


async def test_current_password_guesses_are_limited(limited: Any) -> None:
    h: Host = await limited(rate_limit_login_account_ip="3/600")
    headers = await h.headers()
    headers.update(from_ip("203.0.113.9"))
    body = {"current_password": "guess", "new_password": "a brand new password"}
    codes = [
        (await h.client.post("/users/me/password", headers=headers, json=body)).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]
    r = await h.client.request(
        "DELETE", "/users/me", headers=headers, json={"current_password": PASSWORD}
    )
    assert r.status_code == 429  # the same counters guard every current-password check
