"""`RedisRateLimiter` against the local Redis: fixed windows, atomic counting, parity
with `MemoryRateLimiter`, and per-process limits (never fail open) while Redis is down.
Windows are shortened with PEXPIRE rather than waited out.
"""

import asyncio
import logging
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as redis

from fastapi_userkit import ConfigurationError
from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter
from fastapi_userkit.ratelimit import Limit, MemoryRateLimiter, RateLimiter, Usage
from tests._relay import Relay
from tests.conftest import REDIS_URL

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
LOGGER = "fastapi_userkit.ratelimit"
UNREACHABLE = "Redis rate limiter unreachable; using per-process limits"


@pytest.fixture
async def client(redis_prefix: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def limiter(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[RedisRateLimiter]:
    caplog.set_level(logging.INFO, logger=LOGGER)
    limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
    yield limiter
    await limiter.aclose()
    # every call above went to Redis: none was quietly answered by the fallback
    assert [r.getMessage() for r in caplog.get_records("call") if r.name == LOGGER] == []


async def keys(client: redis.Redis, prefix: str) -> list[str]:
    return sorted([k.removeprefix(prefix) async for k in client.scan_iter(match=f"{prefix}*")])


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING
    ]


class TestCounting:
    async def test_counts_in_redis(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        limit = Limit(2, 60)
        usages = [await limiter.hit("login:ip:1.2.3.4", limit) for _ in range(3)]
        assert usages == [
            Usage(1, 60, True),
            Usage(2, 60, True),
            Usage(3, 60, False),
        ]
        assert await keys(client, redis_prefix) == ["c:login:ip:1.2.3.4"]
        assert await client.get(f"{redis_prefix}c:login:ip:1.2.3.4") == "3"
        assert 59_000 < await client.pttl(f"{redis_prefix}c:login:ip:1.2.3.4") <= 60_000
        assert (await limiter.hit("other", limit)).count == 1  # keys are independent

    async def test_the_window_is_fixed_not_sliding(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        limit, name = Limit(2, 60), f"{redis_prefix}c:k"
        await limiter.hit("k", limit)
        await client.pexpire(name, 1500)
        assert await limiter.hit("k", limit) == Usage(2, 2, True)  # ceil(1.5 s)
        assert await client.pttl(name) <= 1500  # a hit does not extend the window
        await client.pexpire(name, 1)
        await asyncio.sleep(0.02)
        assert await limiter.hit("k", limit) == Usage(1, 60, True)  # a new window

    async def test_retry_after_rounds_up_and_is_at_least_one(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        limit, name = Limit(1, 900), f"{redis_prefix}c:k"
        assert await limiter.hit("k", limit) == Usage(1, 900, True)
        await client.pexpire(name, 2500)
        assert await limiter.hit("k", limit) == Usage(2, 3, False)
        await client.pexpire(name, 400)
        assert await limiter.peek("k", limit) == Usage(2, 1, False)

    async def test_a_counter_without_expiry_gets_one(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        await client.set(f"{redis_prefix}c:k", "7")  # e.g. left by an older version
        assert await limiter.hit("k", Limit(5, 30)) == Usage(8, 30, False)
        assert 0 < await client.pttl(f"{redis_prefix}c:k") <= 30_000

    async def test_peek_does_not_count(self, limiter: RedisRateLimiter) -> None:
        limit = Limit(1, 60)
        assert await limiter.peek("k", limit) == Usage(0, 1, True)
        assert await limiter.peek("k", limit) == Usage(0, 1, True)
        await limiter.hit("k", limit)
        for _ in range(3):
            assert await limiter.peek("k", limit) == Usage(1, 60, True)
        assert await limiter.hit("k", limit) == Usage(2, 60, False)
        assert await limiter.peek("k", limit) == Usage(2, 60, False)

    async def test_reset(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        limit = Limit(1, 60)
        await limiter.hit("k", limit)
        await limiter.hit("k", limit)
        await limiter.hit("other", limit)
        await limiter.reset("k")
        await limiter.reset("missing")
        assert await keys(client, redis_prefix) == ["c:other"]
        assert await limiter.hit("k", limit) == Usage(1, 60, True)
        assert (await limiter.peek("other", limit)).count == 1

    async def test_concurrent_hits_count_exactly(self, redis_prefix: str) -> None:
        """50 hits at once from two limiters (as from two processes): counts 1..50, once each."""
        limiters = [RedisRateLimiter(REDIS_URL, prefix=redis_prefix) for _ in range(2)]
        try:
            limit = Limit(10, 60)
            usages = await asyncio.gather(*(limiters[i % 2].hit("k", limit) for i in range(50)))
            assert sorted(u.count for u in usages) == list(range(1, 51))
            assert [u.allowed for u in sorted(usages, key=lambda u: u.count)] == (
                [True] * 10 + [False] * 40
            )
            assert (await limiters[0].peek("k", limit)).count == 50
        finally:
            for limiter in limiters:
                await limiter.aclose()


class TestMarks:
    async def test_mark_and_expiry(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        assert not await limiter.marked("ok:1.2.3.4")
        await limiter.mark("ok:1.2.3.4", 600)
        assert await limiter.marked("ok:1.2.3.4")
        assert not await limiter.marked("ok:5.6.7.8")
        assert 595 <= await client.ttl(f"{redis_prefix}m:ok:1.2.3.4") <= 600
        await client.pexpire(f"{redis_prefix}m:ok:1.2.3.4", 1)
        await asyncio.sleep(0.02)
        assert not await limiter.marked("ok:1.2.3.4")

    async def test_a_mark_that_ends_now_is_no_mark(self, limiter: RedisRateLimiter) -> None:
        await limiter.mark("k", 60)
        await limiter.mark("k", 0)
        assert not await limiter.marked("k")

    async def test_marks_and_counters_do_not_collide(self, limiter: RedisRateLimiter) -> None:
        await limiter.mark("k", 60)
        assert await limiter.peek("k", Limit(1, 60)) == Usage(0, 1, True)
        assert (await limiter.hit("k", Limit(1, 60))).count == 1
        assert await limiter.marked("k")
        await limiter.reset("k")
        assert await limiter.marked("k")


class TestKeys:
    async def test_long_keys_are_hashed(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        limit = Limit(5, 60)
        long_a, long_b = "login:" + "a" * 10_000, "login:" + "a" * 9_999 + "b"
        assert (await limiter.hit(long_a, limit)).count == 1
        assert (await limiter.hit(long_a, limit)).count == 2
        assert (await limiter.hit(long_b, limit)).count == 1  # still told apart
        await limiter.mark(long_a, 60)
        assert await limiter.marked(long_a)
        assert not await limiter.marked(long_b)
        edge = "e" * 200  # 200 bytes: kept as is
        await limiter.hit(edge, limit)
        stored = await keys(client, redis_prefix)
        assert len(stored) == 4
        assert f"c:{edge}" in stored
        hashed = [k for k in stored if k != f"c:{edge}"]
        assert all(k[1] == "#" and len(k) == 2 + 64 for k in hashed), hashed
        assert sorted(k[0] for k in hashed) == ["c", "c", "m"]

    async def test_multibyte_and_surrogate_keys(
        self, limiter: RedisRateLimiter, client: redis.Redis, redis_prefix: str
    ) -> None:
        limit = Limit(5, 60)
        wide = "é" * 150  # 150 characters, 300 bytes: hashed
        assert (await limiter.hit(wide, limit)).count == 1
        lone = "login:\ud800"  # a lone surrogate, as JSON can carry: not encodable as is
        assert (await limiter.hit(lone, limit)).count == 1
        assert (await limiter.hit(lone, limit)).count == 2
        assert all(k.startswith("c#") for k in await keys(client, redis_prefix))


async def scenario(limiter: RateLimiter) -> list[Any]:
    """One sequence of calls; what each returned."""
    limit, small = Limit(3, 60), Limit(1, 120)
    record: list[Any] = []
    for key in ["a", "b", "a", "a", "a", "b"]:
        record.append(await limiter.hit(key, limit))
    record.append(await limiter.peek("a", limit))
    record.append(await limiter.hit("s", small))
    record.append(await limiter.hit("s", small))
    record.append(await limiter.peek("s", small))
    await limiter.reset("a")
    record.append((await limiter.peek("a", limit)).count)
    record.append(await limiter.hit("a", limit))
    record.append(await limiter.marked("m"))
    await limiter.mark("m", 30)
    record.append(await limiter.marked("m"))
    await limiter.mark("m", 0)
    record.append(await limiter.marked("m"))
    record.append(await limiter.hit("x" * 500, limit))
    record.append(await limiter.hit("x" * 500, limit))
    return record


async def test_same_results_as_the_memory_limiter(limiter: RedisRateLimiter) -> None:
    expected = await scenario(MemoryRateLimiter())
    assert await scenario(limiter) == expected
    assert [u.allowed for u in expected[:6]] == [True, True, True, True, False, True]


async def test_is_a_rate_limiter() -> None:
    assert RateLimiter in RedisRateLimiter.__mro__


class TestUnavailable:
    """No Redis answers: limits still hold, per process, with no exception. No Redis needed."""

    async def test_limits_via_the_fallback_and_warns_once(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger=LOGGER)
        limiter = RedisRateLimiter(CLOSED_PORT_URL)
        limiter.retry_interval = 0  # try Redis on every call
        try:
            usages = [await limiter.hit("login:k", Limit(2, 60)) for _ in range(3)]
            assert [u.allowed for u in usages] == [True, True, False]
            assert [u.count for u in usages] == [1, 2, 3]
            assert await limiter.peek("login:k", Limit(2, 60)) == Usage(3, 60, False)
            await limiter.reset("login:k")
            assert (await limiter.hit("login:k", Limit(2, 60))).count == 1
            await limiter.mark("ok", 60)
            assert await limiter.marked("ok")
            assert not await limiter.marked("other")
        finally:
            await limiter.aclose()
        found = warnings(caplog)
        assert len(found) == 1, found
        assert found[0].startswith(UNREACHABLE)

    async def test_warns_again_after_the_interval(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.WARNING, logger=LOGGER)
        limiter = RedisRateLimiter(CLOSED_PORT_URL)
        limiter.retry_interval = limiter.warn_interval = 0
        try:
            for _ in range(3):
                await limiter.hit("k", Limit(2, 60))
        finally:
            await limiter.aclose()
        assert len(warnings(caplog)) == 3

    async def test_a_given_fallback_is_used(self) -> None:
        fallback = MemoryRateLimiter()
        limiter = RedisRateLimiter(CLOSED_PORT_URL, fallback=fallback)
        try:
            await limiter.hit("k", Limit(2, 60))
            await limiter.hit("k", Limit(2, 60))  # while Redis is skipped, too
        finally:
            await limiter.aclose()
        assert (await fallback.peek("k", Limit(2, 60))).count == 2

    async def test_a_silent_server_times_out_to_the_fallback(self) -> None:
        with socket.socket() as silent:  # accepts connections (backlog), never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            port = silent.getsockname()[1]
            limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0?socket_timeout=0.2")
            try:
                async with asyncio.timeout(10):
                    assert (await limiter.hit("k", Limit(1, 60))).allowed
                    assert not (await limiter.hit("k", Limit(1, 60))).allowed
            finally:
                await limiter.aclose()


class Proxy(Relay):
    """A relay to the test Redis on 127.0.0.1 that can be stopped and started."""

    def __init__(self, port: int) -> None:
        target = urlsplit(REDIS_URL)
        super().__init__((target.hostname or "127.0.0.1", target.port or 6379))
        self.port = port
        userinfo, at, _ = target.netloc.rpartition("@")
        self.url = target._replace(netloc=f"{userinfo}{at}127.0.0.1:{port}").geturl()


async def test_back_to_redis_when_it_answers_again(
    redis_prefix: str, client: redis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = Proxy(port)  # not started: connections are refused
    limiter = RedisRateLimiter(proxy.url, prefix=redis_prefix)
    limiter.retry_interval = 0
    limit = Limit(5, 60)
    try:
        assert (await limiter.hit("k", limit)).count == 1  # per process
        assert await keys(client, redis_prefix) == []
        await proxy.start()
        assert (await limiter.hit("k", limit)).count == 1  # Redis: a fresh counter
        assert (await limiter.hit("k", limit)).count == 2
        assert await client.get(f"{redis_prefix}c:k") == "2"
        await proxy.stop()
        assert (await limiter.hit("k", limit)).count == 2  # per process again
    finally:
        await limiter.aclose()
        await proxy.stop()
    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(messages) == 2, messages  # the second outage is within the warning interval
    assert messages[0].startswith(UNREACHABLE)
    assert messages[1] == "Redis rate limiter reachable again; using shared limits"


class TestConstruction:
    def test_exactly_one_of_url_and_client(self) -> None:
        with pytest.raises(ConfigurationError):
            RedisRateLimiter()
        with pytest.raises(ConfigurationError):
            RedisRateLimiter(REDIS_URL, client=redis.Redis())

    def test_missing_redis_gives_an_install_hint(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "redis", None)
        monkeypatch.setitem(sys.modules, "redis.asyncio", None)
        with pytest.raises(ImportError, match=r'pip install "fastapi-userkit\[redis\]"'):
            RedisRateLimiter(REDIS_URL)

    def test_importing_it_never_imports_redis(self) -> None:
        code = (
            "import sys, fastapi_userkit.contrib.redis_ratelimit; "
            "assert 'redis' not in sys.modules, sorted(sys.modules)"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # noqa: S603

    async def test_a_given_client_is_left_open(self, redis_prefix: str) -> None:
        client = redis.Redis.from_url(REDIS_URL)  # bytes replies, not decoded
        limiter = RedisRateLimiter(client=client, prefix=redis_prefix)
        assert repr(limiter) == f"RedisRateLimiter(prefix={redis_prefix!r})"
        assert await limiter.hit("k", Limit(1, 60)) == Usage(1, 60, True)
        assert await limiter.peek("k", Limit(1, 60)) == Usage(1, 60, True)
        await limiter.mark("m", 60)
        assert await limiter.marked("m")
        await limiter.aclose()
        assert await client.ping()
        await client.aclose()

    async def test_aclose_closes_its_own_client(
        self, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        limiter = RedisRateLimiter(REDIS_URL, prefix=redis_prefix)
        await limiter.hit("k", Limit(1, 60))
        closed: list[bool] = []
        close = limiter.client.aclose

        async def spy() -> None:
            closed.append(True)
            await close()

        monkeypatch.setattr(limiter.client, "aclose", spy)
        await limiter.aclose()
        assert closed == [True]
