"""Rate limits shared through Redis.

- Two uvicorn processes of the kit (`tests._two_process_app`) count in one
  `RedisRateLimiter`: failures on either process fill the same counters, and a
  lockout reached on one holds on the other.
- The HTTP-level limits of `test_ratelimit.py`, with the kit counting in Redis.
- A kit whose Redis cannot be reached still limits (per process) and never answers 500.
"""

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter
from tests.conftest import PASSWORD, POSTGRES_URL, REDIS_URL, Host, _service_unavailable
from tests.test_two_processes import SECRET_KEY, Server, _free_ports

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

PROXY = "127.0.0.1"  # httpx's ASGITransport connects from 127.0.0.1
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
LOGGER = "fastapi_userkit.ratelimit"
UNREACHABLE = "Redis rate limiter unreachable; using per-process limits"
TOO_MANY = {"detail": "TOO_MANY_REQUESTS"}
BAD_CREDENTIALS = {  # the token endpoint's RFC 6749 refusal, with the kit's code
    "error": "invalid_grant",
    "error_description": "LOGIN_BAD_CREDENTIALS",
    "detail": "LOGIN_BAD_CREDENTIALS",
}
TWO_PROCESS_TIMEOUT = 120.0  # seconds for the whole two-process test


def from_ip(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


def retry_after(response: httpx.Response) -> int:
    return int(response.headers["retry-after"])


async def login(h: Host, email: str, password: str, ip: str = "203.0.113.1") -> httpx.Response:
    return await h.client.post(
        "/auth/jwt/login", data={"username": email, "password": password}, headers=from_ip(ip)
    )


@pytest.fixture
async def redis_client(redis_prefix: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


# --------------------------------------------------------------------------------------
# Two uvicorn processes, one PostgreSQL schema, one Redis for sessions and rate limits
# --------------------------------------------------------------------------------------


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL schema, dropped after the test."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    schema = f"userkit_rl2p_{secrets.token_hex(6)}"
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any connection failure means "not reachable"
        await admin.dispose()
        _service_unavailable("PostgreSQL", exc)
    yield schema
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


class Process:
    """Calls to one uvicorn process."""

    def __init__(self, http: httpx.AsyncClient, server: Server) -> None:
        self.http = http
        self.url = server.base_url

    async def login(self, email: str, password: str) -> httpx.Response:
        data = {"username": email, "password": password}
        return await self.http.post(f"{self.url}/auth/jwt/login", data=data)

    async def register(self, email: str) -> httpx.Response:
        body = {"email": email, "password": PASSWORD}
        return await self.http.post(f"{self.url}/auth/register", json=body)


def answer(response: httpx.Response) -> tuple[int, Any]:
    return response.status_code, response.json()


async def test_two_processes_share_the_limits(
    pg_schema: str, redis_prefix: str, redis_client: redis.Redis
) -> None:
    rl_prefix = f"{redis_prefix}rl:"  # under the test's prefix: cleaned up with it
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("USERKIT_", "TWO_PROCESS_"))  # no limit from outside
    }
    env |= {
        "USERKIT_SECRET_KEY": SECRET_KEY,
        "USERKIT_BCRYPT_ROUNDS": "4",
        "USERKIT_CREATE_TABLES": "true",
        "USERKIT_RATE_LIMIT_LOGIN_ACCOUNT_IP": "3/600",
        "USERKIT_RATE_LIMIT_REGISTER_IP": "4/3600",
        "TWO_PROCESS_POSTGRES_URL": POSTGRES_URL,
        "TWO_PROCESS_SCHEMA": pg_schema,
        "TWO_PROCESS_REDIS_URL": REDIS_URL,
        "TWO_PROCESS_REDIS_PREFIX": redis_prefix,
        "TWO_PROCESS_RATELIMIT_PREFIX": rl_prefix,
    }
    servers = [Server(name, port, env) for name, port in zip("AB", _free_ports(2), strict=True)]
    try:
        async with asyncio.timeout(TWO_PROCESS_TIMEOUT), httpx.AsyncClient(timeout=10) as http:
            # one after the other: both would create the users table at startup
            pids = []
            for server in servers:
                await server.start()
                pids.append(await server.wait_ready(http))
            assert pids[0] != pids[1]
            a, b = Process(http, servers[0]), Process(http, servers[1])

            # registrations per IP (4 an hour), counted over both processes
            users = ["alice", "bob", "carol", "dave"]
            for process, user in zip([a, b, a, b], users, strict=True):
                response = await process.register(f"{user}@example.com")
                assert response.status_code == 201, response.text
            for process in (a, b):
                refused = await process.register("erin@example.com")
                assert answer(refused) == (429, TOO_MANY)
                assert 3500 <= retry_after(refused) <= 3600

            # three failures for one account spread over A and B lock it on both,
            # even for the right password
            alice = [
                answer(await process.login("alice@example.com", "wrong pass"))
                for process in (a, b, a)
            ]
            assert alice == [(400, BAD_CREDENTIALS)] * 3
            for process in (b, a):
                locked = await process.login("alice@example.com", PASSWORD)
                alice.append(answer(locked))
                assert 540 <= retry_after(locked) <= 600, locked.headers
            assert alice[3:] == [(429, TOO_MANY)] * 2

            # an unknown account gets exactly the same answers
            ghost = [
                answer(await process.login("ghost@example.com", "wrong pass"))
                for process in (b, a, b)
            ]
            for process in (a, b):
                ghost.append(answer(await process.login("ghost@example.com", PASSWORD)))
            assert ghost == alice

            # a lockout reached entirely on A holds on B; other accounts are not locked
            for _ in range(3):
                assert (await a.login("bob@example.com", "wrong pass")).status_code == 400
            assert answer(await b.login("bob@example.com", PASSWORD)) == (429, TOO_MANY)
            assert (await b.login("carol@example.com", PASSWORD)).status_code == 200

            # a success on B clears the account-and-IP counter filled on A
            for _ in range(2):
                assert (await a.login("dave@example.com", "wrong pass")).status_code == 400
            assert (await b.login("dave@example.com", PASSWORD)).status_code == 200
            for _ in range(3):  # per-process counters would refuse the second of these
                assert (await a.login("dave@example.com", "wrong pass")).status_code == 400
            assert answer(await b.login("dave@example.com", PASSWORD)) == (429, TOO_MANY)

        # the counters are in the shared Redis, under the limiter's prefix
        ip = "127.0.0.1"
        assert await redis_client.get(f"{rl_prefix}c:register:ip:{ip}") == "6"
        assert await redis_client.get(f"{rl_prefix}c:login:acct-ip:alice@example.com:{ip}") == "3"
        assert await redis_client.get(f"{rl_prefix}c:login:acct-ip:ghost@example.com:{ip}") == "3"
        assert await redis_client.get(f"{rl_prefix}c:login:ip:{ip}") == str(3 + 3 + 3 + 5)
        assert 0 < await redis_client.pttl(f"{rl_prefix}c:login:ip:{ip}") <= 900_000
        assert await redis_client.exists(f"{rl_prefix}m:login:ok:carol@example.com:{ip}") == 1
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
    for server in servers:
        assert "Traceback" not in server.output, server.output
        assert "unreachable" not in server.output, server.output


# --------------------------------------------------------------------------------------
# The HTTP-level limits, in-process, with the kit counting in Redis
# --------------------------------------------------------------------------------------


def limiter_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    records = caplog.get_records("setup") + caplog.get_records("call")
    return [r.getMessage() for r in records if r.name == LOGGER]


@pytest.fixture
def limited(
    make_host: Any, make_settings: Any, redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> Iterator[Any]:
    """Make a host behind a trusted proxy whose kit counts in the local Redis."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    async def make(*, prefix: str = redis_prefix, **limits: Any) -> Host:
        settings = make_settings(trusted_proxies=[PROXY], **limits)
        limiter = RedisRateLimiter(REDIS_URL, prefix=prefix)
        return await make_host(rate_limiter=limiter, settings=settings)  # type: ignore[no-any-return]

    yield make
    # every limiter call went to Redis: none was quietly answered by the fallback
    assert limiter_messages(caplog) == []


class TestLoginLockoutOnRedis:
    async def test_account_and_ip_limit(
        self, limited: Any, redis_client: redis.Redis, redis_prefix: str
    ) -> None:
        h: Host = await limited(rate_limit_login_account_ip="3/600")
        await h.register()
        for _ in range(3):
            assert (await login(h, "alice@example.com", "wrong pass")).status_code == 400
        locked = await login(h, "alice@example.com", PASSWORD)  # even the right password
        assert locked.status_code == 429
        assert locked.json() == TOO_MANY
        assert 590 <= retry_after(locked) <= 600
        key = f"{redis_prefix}c:login:acct-ip:alice@example.com:203.0.113.1"
        assert await redis_client.get(key) == "3"  # a refused attempt is not counted
        assert 0 < await redis_client.pttl(key) <= 600_000
        # another IP is not affected by this counter
        assert (await login(h, "alice@example.com", PASSWORD, ip="198.51.100.7")).status_code == 200

    async def test_same_answer_for_unknown_accounts(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_login_account_ip="2/600")
        await h.register()
        answers = []
        for email in ("alice@example.com", "ghost@example.com"):
            for password in ("wrong pass", "wrong pass", PASSWORD):
                r = await login(h, email, password)
                answers.append((r.status_code, r.json(), "retry-after" in r.headers))
        assert answers[:3] == answers[3:]
        assert answers[1] == (400, BAD_CREDENTIALS, False)
        assert answers[2] == (429, TOO_MANY, True)

    async def test_success_resets_account_ip_but_not_ip_counter(
        self, limited: Any, redis_client: redis.Redis, redis_prefix: str
    ) -> None:
        h: Host = await limited(rate_limit_login_account_ip="3/600", rate_limit_login_ip="4/600")
        await h.register()
        await h.register("bob@example.com")
        for _ in range(2):
            await login(h, "alice@example.com", "wrong pass")
        assert (await login(h, "alice@example.com", PASSWORD)).status_code == 200
        assert not await redis_client.exists(
            f"{redis_prefix}c:login:acct-ip:alice@example.com:203.0.113.1"
        )
        for _ in range(2):  # the account+IP counter was cleared: two more are fine
            assert (await login(h, "alice@example.com", "wrong pass")).status_code == 400
        # but the IP has now failed 4 times: every account is refused from it
        assert (await login(h, "bob@example.com", PASSWORD)).status_code == 429
        assert (await login(h, "bob@example.com", PASSWORD, ip="192.0.2.77")).status_code == 200

    async def test_owner_keeps_access_from_known_ip(
        self, limited: Any, redis_client: redis.Redis, redis_prefix: str
    ) -> None:
        h: Host = await limited(rate_limit_login_account="3/3600")
        await h.register()
        home = "192.0.2.10"
        assert (await login(h, "alice@example.com", PASSWORD, ip=home)).status_code == 200
        mark = f"{redis_prefix}m:login:ok:alice@example.com:{home}"
        assert 29 * 86_400 < await redis_client.ttl(mark) <= 30 * 86_400
        for i in range(3):  # a distributed attack from three other addresses
            await login(h, "alice@example.com", "wrong pass", ip=f"198.51.100.{i}")
        blocked = await login(h, "alice@example.com", PASSWORD, ip="198.51.100.99")
        assert blocked.status_code == 429
        assert (await login(h, "alice@example.com", PASSWORD, ip=home)).status_code == 200

    async def test_two_kits_on_one_prefix_share_the_lockout(
        self, limited: Any, redis_prefix: str
    ) -> None:
        """Like two workers: a lockout made through one kit holds in the other;
        a kit counting under another prefix has counters of its own.
        """
        first: Host = await limited(rate_limit_login_account_ip="2/600")
        second: Host = await limited(rate_limit_login_account_ip="2/600")
        apart: Host = await limited(
            prefix=f"{redis_prefix}apart:", rate_limit_login_account_ip="2/600"
        )
        await first.register()  # the kits share the SQLite database as well
        assert (await login(first, "alice@example.com", "wrong pass")).status_code == 400
        assert (await login(second, "alice@example.com", "wrong pass")).status_code == 400
        for h in (first, second):
            assert (await login(h, "alice@example.com", PASSWORD)).status_code == 429
        assert (await login(apart, "alice@example.com", PASSWORD)).status_code == 200


class TestOtherLimitsOnRedis:
    async def test_registrations_per_ip(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_register_ip="2/3600")

        async def register(email: str, ip: str) -> httpx.Response:
            body = {"email": email, "password": PASSWORD}
            return await h.client.post("/auth/register", headers=from_ip(ip), json=body)

        for i in range(2):
            assert (await register(f"u{i}@example.com", "192.0.2.1")).status_code == 201
        refused = await register("u9@example.com", "192.0.2.1")
        assert refused.status_code == 429
        assert 3590 <= retry_after(refused) <= 3600
        assert (await register("u9@example.com", "192.0.2.2")).status_code == 201

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
            for i in range(3):  # from three addresses: the account is what is counted
                r = await h.client.post(
                    path, json={"email": email}, headers=from_ip(f"192.0.2.{i}")
                )
                codes.append(r.status_code)
            answers[email] = codes
        assert answers == {
            "alice@example.com": [202, 202, 429],
            "ghost@example.com": [202, 202, 429],
        }

    async def test_per_account_requests_ignore_case(self, limited: Any) -> None:
        h: Host = await limited(rate_limit_forgot_password_account="2/3600")
        codes = [
            (
                await h.client.post(
                    "/auth/forgot-password", json={"email": email}, headers=from_ip("192.0.2.9")
                )
            ).status_code
            for email in ("alice@example.com", "ALICE@Example.com", "Alice@EXAMPLE.COM")
        ]
        assert codes == [202, 202, 429]

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


# --------------------------------------------------------------------------------------
# Redis unreachable: per-process limits, never a 500 (no Redis needed)
# --------------------------------------------------------------------------------------


class TestRedisUnreachable:
    @pytest.mark.parametrize("retry_interval", [5.0, 0.0], ids=["backing-off", "every-call"])
    async def test_still_limits_and_never_500(
        self,
        make_host: Any,
        make_settings: Any,
        caplog: pytest.LogCaptureFixture,
        retry_interval: float,
    ) -> None:
        caplog.set_level(logging.INFO, logger=LOGGER)
        limiter = RedisRateLimiter(CLOSED_PORT_URL)
        limiter.retry_interval = retry_interval  # 0: Redis is tried (and fails) every call
        settings = make_settings(
            rate_limit_login_account_ip="3/600",
            rate_limit_register_ip="3/3600",
            rate_limit_forgot_password_account="2/3600",
        )
        h: Host = await make_host(rate_limiter=limiter, settings=settings)
        responses: list[httpx.Response] = []

        async def call(method: str, path: str, **kwargs: Any) -> httpx.Response:
            response = await h.client.request(method, path, **kwargs)
            responses.append(response)
            return response

        async def try_login(email: str, password: str) -> httpx.Response:
            return await call(
                "POST", "/auth/jwt/login", data={"username": email, "password": password}
            )

        async with asyncio.timeout(60):  # a refused connection fails fast
            for email in ("alice@example.com", "bob@example.com"):
                body = {"email": email, "password": PASSWORD}
                assert (await call("POST", "/auth/register", json=body)).status_code == 201

            alice = [answer(await try_login("alice@example.com", "wrong pass")) for _ in range(3)]
            locked = await try_login("alice@example.com", PASSWORD)  # the right password
            alice.append(answer(locked))
            assert alice == [(400, BAD_CREDENTIALS)] * 3 + [(429, TOO_MANY)]
            assert 590 <= retry_after(locked) <= 600
            ghost = [answer(await try_login("ghost@example.com", "wrong pass")) for _ in range(4)]
            assert ghost == alice  # unknown accounts: the same answers

            # a success is still remembered and clears the account+IP counter
            assert (await try_login("bob@example.com", "wrong pass")).status_code == 400
            tokens = await try_login("bob@example.com", PASSWORD)
            assert tokens.status_code == 200
            for _ in range(3):
                assert (await try_login("bob@example.com", "wrong pass")).status_code == 400
            assert (await try_login("bob@example.com", PASSWORD)).status_code == 429
            bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
            assert (await call("GET", "/users/me", headers=bearer)).status_code == 200

            body = {"email": "carol@example.com", "password": PASSWORD}
            assert (await call("POST", "/auth/register", json=body)).status_code == 201
            refused = await call("POST", "/auth/register", json=body | {"email": "d@example.com"})
            assert refused.status_code == 429
            assert "retry-after" in refused.headers

            forgot = [
                (
                    await call("POST", "/auth/forgot-password", json={"email": "bob@example.com"})
                ).status_code
                for _ in range(3)
            ]
            assert forgot == [202, 202, 429]

        assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
        messages = limiter_messages(caplog)
        assert len(messages) == 1, messages  # warned once (at most once a minute)
        assert messages[0].startswith(UNREACHABLE)
