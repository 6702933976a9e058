"""A flood of distinct keys cannot lift a lockout of the in-memory limiter.

- `MemoryRateLimiter` stays bounded by dropping expired windows first, then
  counters below their limit (least recently counted first), and live lockouts
  only last (those ending soonest first); marks drop expired ones first.
- Through the HTTP API: a request refused by one counter creates and grows no
  other counter, so floods of fresh addresses neither fill the memory nor evict
  the lockouts, and the same holds with the Redis limiter.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter
from fastapi_userkit.ratelimit import Limit, MemoryRateLimiter
from tests.conftest import PASSWORD, REDIS_URL, Host

PROXY = "127.0.0.1"  # httpx's ASGITransport connects from 127.0.0.1
VICTIM = "alice@example.com"
HOME = "203.0.113.1"  # where the login lockout was reached
ATTACKER = "198.51.100.1"  # where the forgot-password flood comes from


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def is_full(limiter: MemoryRateLimiter, key: str, limit: Limit) -> bool:
    """Whether the next event of *key* would be refused (read only)."""
    return (await limiter.peek(key, limit)).count >= limit.count


@pytest.mark.single_pass
class TestMemoryEviction:
    async def test_a_lockout_survives_a_flood_of_distinct_keys(self) -> None:
        clock = FakeClock()
        limiter = MemoryRateLimiter(clock=clock)  # the default bound: 100,000 keys
        locked, flood = Limit(5, 900), Limit(30, 3600)
        for _ in range(locked.count):
            await limiter.hit("login:acct-ip:victim:203.0.113.1", locked)
        for i in range(200_000):
            await limiter.hit(f"forgot_password:acct:x{i}@example.com", flood)
        assert limiter.size <= 100_000
        still = await limiter.hit("login:acct-ip:victim:203.0.113.1", locked)
        assert not still.allowed
        assert still.count == locked.count + 1  # the counts were kept, not restarted

    async def test_open_counters_go_before_lockouts(self) -> None:
        limiter = MemoryRateLimiter(max_keys=10, clock=FakeClock())
        await limiter.hit("locked", Limit(1, 600))  # the oldest key, and full
        for i in range(50):
            await limiter.hit(f"open{i}", Limit(5, 600))
        assert limiter.size <= 10
        assert await is_full(limiter, "locked", Limit(1, 600))
        # the open counters kept are the ones counted last
        assert (await limiter.peek("open49", Limit(5, 600))).count == 1
        assert (await limiter.peek("open0", Limit(5, 600))).count == 0

    async def test_expired_windows_go_first(self) -> None:
        clock = FakeClock()
        limiter = MemoryRateLimiter(max_keys=10, clock=clock)
        for i in range(5):  # older than the short windows, and still running
            await limiter.hit(f"open{i}", Limit(5, 600))
        for i in range(5):
            await limiter.hit(f"short{i}", Limit(5, 10))
        clock.now += 20  # the short windows have ended
        await limiter.hit("new", Limit(5, 600))
        assert limiter.size == 6  # only the five ended windows were dropped
        for i in range(5):
            assert (await limiter.peek(f"open{i}", Limit(5, 600))).count == 1

    async def test_lockouts_ending_soonest_go_first(self) -> None:
        limiter = MemoryRateLimiter(max_keys=10, clock=FakeClock())
        # inserted from the one ending last to the one ending first
        for i in reversed(range(11)):
            await limiter.hit(f"locked{i}", Limit(1, 100 + i))
        for i in range(2):
            assert not await is_full(limiter, f"locked{i}", Limit(1, 100 + i))
        for i in range(2, 11):
            assert await is_full(limiter, f"locked{i}", Limit(1, 100 + i))
        assert limiter.size == 9  # swept below the bound, not just to it

    async def test_only_lockouts_still_stay_bounded(self) -> None:
        limiter = MemoryRateLimiter(max_keys=100, clock=FakeClock())
        for i in range(1_000):
            await limiter.hit(f"k{i}", Limit(1, 60))
        assert 90 <= limiter.size <= 100

    async def test_a_counter_refunded_to_zero_is_forgotten(self) -> None:
        limiter = MemoryRateLimiter(clock=FakeClock())
        await limiter.hit("a", Limit(3, 60))
        await limiter.hit("b", Limit(3, 60))
        await limiter.hit("b", Limit(3, 60))
        await limiter.refund("a")
        await limiter.refund("b")
        await limiter.refund("never counted")
        assert limiter.size == 1
        assert (await limiter.peek("b", Limit(3, 60))).count == 1

    async def test_marks_drop_expired_ones_first(self) -> None:
        clock = FakeClock()
        limiter = MemoryRateLimiter(max_keys=3, clock=clock)
        await limiter.mark("home", 1000)  # the oldest mark, still valid
        await limiter.mark("short0", 10)
        await limiter.mark("short1", 10)
        clock.now += 20
        await limiter.mark("new0", 1000)
        await limiter.mark("new1", 1000)
        assert await limiter.marked("home")
        assert await limiter.marked("new0")
        assert await limiter.marked("new1")

    async def test_marks_stay_bounded(self) -> None:
        limiter = MemoryRateLimiter(max_keys=10, clock=FakeClock())
        for i in range(100):
            await limiter.mark(f"m{i}", 1000)
        assert await limiter.marked("m99")
        assert sum([await limiter.marked(f"m{i}") for i in range(100)]) <= 10

    def test_max_keys_must_be_positive(self) -> None:
        with pytest.raises(ValueError, match="max_keys"):
            MemoryRateLimiter(max_keys=0)


# --------------------------------------------------------------------------------------
# Through the HTTP API
# --------------------------------------------------------------------------------------


def from_ip(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


async def login(h: Host, email: str, password: str, ip: str = HOME) -> httpx.Response:
    return await h.client.post(
        "/auth/jwt/login", data={"username": email, "password": password}, headers=from_ip(ip)
    )


async def forgot(h: Host, email: str, ip: str = ATTACKER) -> httpx.Response:
    return await h.client.post("/auth/forgot-password", json={"email": email}, headers=from_ip(ip))


@pytest.fixture
def limited(make_host: Any, make_settings: Any) -> Any:
    """Make a host behind a trusted proxy, counting in *limiter*."""

    async def make(limiter: Any, **limits: Any) -> Host:
        settings = make_settings(trusted_proxies=[PROXY], **limits)
        return await make_host(settings=settings, rate_limiter=limiter)  # type: ignore[no-any-return]

    return make


VICTIM_LIMITS = {
    "rate_limit_login_account_ip": "3/600",
    "rate_limit_forgot_password_account": "2/3600",
}


async def lock_the_victim(h: Host) -> None:
    """Lock the victim's login from HOME (3/600) and its forgot-password cap (2/3600)."""
    assert (await h.register()).status_code == 201
    for _ in range(3):
        assert (await login(h, VICTIM, "wrong pass")).status_code == 400
    assert (await login(h, VICTIM, PASSWORD)).status_code == 429
    assert [(await forgot(h, VICTIM)).status_code for _ in range(3)] == [202, 202, 429]


async def assert_the_victim_is_still_locked(h: Host) -> None:
    locked = await login(h, VICTIM, PASSWORD)  # even the right password
    assert locked.status_code == 429
    assert 0 < int(locked.headers["retry-after"]) <= 600
    capped = await forgot(h, VICTIM, ip="192.0.2.200")  # a fresh IP: the address is capped
    assert capped.status_code == 429


class TestFloodThroughHttp:
    async def test_a_forgot_password_flood_from_one_ip_lifts_no_lock(self, limited: Any) -> None:
        limiter = MemoryRateLimiter(max_keys=20)
        h: Host = await limited(limiter, **VICTIM_LIMITS)
        await lock_the_victim(h)
        codes = [(await forgot(h, f"flood{i}@example.com")).status_code for i in range(300)]
        assert set(codes) == {202, 429}  # the per-IP limit (30/3600) refused most of them
        assert codes[-100:] == [429] * 100
        assert limiter.size <= 20
        await assert_the_victim_is_still_locked(h)

    async def test_a_flood_from_many_ips_lifts_no_lock(self, limited: Any) -> None:
        limiter = MemoryRateLimiter(max_keys=20)
        h: Host = await limited(limiter, **VICTIM_LIMITS)
        await lock_the_victim(h)
        for i in range(100):  # every request accepted: two fresh counters each
            ip = f"10.0.{i // 250}.{i % 250 + 1}"
            assert (await forgot(h, f"flood{i}@example.com", ip=ip)).status_code == 202
        assert limiter.size <= 20
        await assert_the_victim_is_still_locked(h)


# --------------------------------------------------------------------------------------
# Refused requests create no counters, with either limiter
# --------------------------------------------------------------------------------------

KeyCount = Callable[[], Awaitable[int]]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.single_pass)])
def redis_or_memory(request: pytest.FixtureRequest) -> str | None:
    """The Redis key prefix of this test, or None to count in memory."""
    # a plain fixture: async ones can only be requested by name outside the event loop
    return request.getfixturevalue("redis_prefix") if request.param == "redis" else None


@pytest.fixture
async def counted_limiter(redis_or_memory: str | None) -> AsyncIterator[tuple[Any, KeyCount]]:
    """A limiter and a way to count the counters it stores."""
    prefix = redis_or_memory
    if prefix is None:
        memory = MemoryRateLimiter()

        async def memory_keys() -> int:
            return memory.size

        yield memory, memory_keys
        return
    shared = RedisRateLimiter(REDIS_URL, prefix=prefix)
    client = redis.Redis.from_url(REDIS_URL)

    async def redis_keys() -> int:
        return len([key async for key in client.scan_iter(match=f"{prefix}c*")])

    yield shared, redis_keys
    await client.aclose()
    await shared.aclose()


class TestRefusedRequestsCreateNoCounters:
    async def test_forgot_password_once_the_ip_is_full(
        self, limited: Any, counted_limiter: tuple[Any, KeyCount]
    ) -> None:
        limiter, stored = counted_limiter
        h: Host = await limited(limiter, rate_limit_forgot_password_ip="2/3600")
        for i in range(2):
            assert (await forgot(h, f"first{i}@example.com")).status_code == 202
        before = await stored()
        for i in range(20):
            refused = await forgot(h, f"fresh{i}@example.com")
            assert refused.status_code == 429
            assert 0 < int(refused.headers["retry-after"]) <= 3600
        assert await stored() == before

    async def test_logins_once_the_ip_is_full(
        self, limited: Any, counted_limiter: tuple[Any, KeyCount]
    ) -> None:
        limiter, stored = counted_limiter
        h: Host = await limited(limiter, rate_limit_login_ip="2/600")
        for i in range(2):
            assert (await login(h, f"first{i}@example.com", "wrong pass")).status_code == 400
        before = await stored()
        for i in range(20):
            refused = await login(h, f"fresh{i}@example.com", "wrong pass")
            assert refused.status_code == 429
            assert 0 < int(refused.headers["retry-after"]) <= 600
        assert await stored() == before


class TestRefusedForTheAccount:
    async def test_fresh_ips_leave_no_counter(self, limited: Any) -> None:
        """A request refused by the address's counter takes back its IP count: a
        counter refunded to zero is dropped.
        """
        limiter = MemoryRateLimiter()
        h: Host = await limited(limiter, rate_limit_forgot_password_account="2/3600")
        assert [(await forgot(h, VICTIM)).status_code for _ in range(2)] == [202, 202]
        before = limiter.size
        for i in range(20):
            assert (await forgot(h, VICTIM, ip=f"192.0.2.{i + 1}")).status_code == 429
        assert limiter.size == before

    async def test_the_ip_keeps_its_count(self, limited: Any) -> None:
        limiter = MemoryRateLimiter()
        h: Host = await limited(limiter, rate_limit_forgot_password_account="2/3600")
        for _ in range(5):
            await forgot(h, VICTIM)
        ip_count = await limiter.peek(f"forgot_password:ip:{ATTACKER}", Limit(30, 3600))
        assert ip_count.count == 2  # the three refused requests were not counted
        # the refusing counter still counts them: `on_lockout` runs once per window
        account = await limiter.peek(f"forgot_password:acct:{VICTIM}", Limit(2, 3600))
        assert account.count == 5
