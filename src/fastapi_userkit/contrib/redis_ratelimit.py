"""Rate limits in Redis, shared by every worker and process (extra `[redis]`).

```python
limiter = RedisRateLimiter("redis://127.0.0.1:6379/0")
limiter = RedisRateLimiter("redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/0")
limiter = RedisRateLimiter("redis+cluster://10.0.0.1:6379,10.0.0.2:6379")
```

Counters are fixed windows, as in `MemoryRateLimiter`: the first `hit` of a window
creates the counter with the window as its time to live; later hits only count.
Keys, all under *prefix*: `c:{key}` (counters) and `m:{key}` (marks); a key longer
than 200 bytes is stored as `c#{sha256}` or `m#{sha256}`, so hostile input cannot
make huge keys. Every call touches one key, and each script is told it in KEYS,
so the same keys serve one node, Sentinel and Redis Cluster.

When Redis cannot be reached the limiter never fails open and never raises: it
counts in the *fallback* limiter (by default a `MemoryRateLimiter`), so limits
still hold per process, logs a warning at most once a minute, and goes back to
Redis as soon as it answers again.
"""

import hashlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from fastapi_userkit.contrib._redis_client import redis_client
from fastapi_userkit.ratelimit import Limit, MemoryRateLimiter, RateLimiter, Usage

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster

__all__ = [
    "RedisRateLimiter",
]

_T = TypeVar("_T")
_log = logging.getLogger("fastapi_userkit.ratelimit")
_MAX_KEY = 200  # bytes of a caller's key stored as is; longer ones are hashed

# One step, atomic across processes. A counter without a time to live (left by
# something else) gets one, so no counter can block a key forever.
_REFUND = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return 0
"""

_HIT = """
local count = redis.call('INCR', KEYS[1])
local left = redis.call('PTTL', KEYS[1])
if count == 1 or left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  left = tonumber(ARGV[1])
end
return {count, left}
"""

# The count and its time to live, read in one step.
_PEEK = """
local count = redis.call('GET', KEYS[1])
if not count then return {} end
return {count, redis.call('PTTL', KEYS[1])}
"""


def _usage(count: int, left_ms: int, limit: Limit) -> Usage:
    retry = max(1, math.ceil(left_ms / 1000))
    return Usage(count=count, retry_after=retry, allowed=count <= limit.count)


class RedisRateLimiter(RateLimiter):
    """Rate limits in Redis, with the semantics of `MemoryRateLimiter`.

    Args:
        url: Redis URL: `redis://127.0.0.1:6379/0` (one node),
            `redis+sentinel://host:26379[,host:26379...]/<service_name>[/<db>]` or
            `redis+cluster://host:6379[,host:6379...]`; the limiter makes the client.
        client: An existing `redis.asyncio.Redis` (a Sentinel's `master_for()` is
            one) or `redis.asyncio.RedisCluster` instead of *url*; left open by `aclose()`.
        prefix: Prefix of every key the limiter writes.
        fallback: Limiter used while Redis is unreachable; by default a
            `MemoryRateLimiter`, made when first needed.

    Raises:
        ImportError: the `redis` package is not installed.
        ConfigurationError: not exactly one of *url* and *client* was given, or the
            URL cannot be understood.

    A Redis error (connection refused, timeout, a read-only replica, out of memory,
    no reachable Sentinel, master or Cluster node)
    never reaches the caller: the call is answered by *fallback* instead, and Redis
    is tried again at most every `retry_interval` seconds.
    """

    retry_interval: float = 5.0
    """Seconds between attempts to reach Redis again while it is down."""
    warn_interval: float = 60.0
    """Least seconds between two warnings about Redis being unreachable."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: "Redis | RedisCluster | None" = None,
        prefix: str = "userkit:rl:",
        fallback: RateLimiter | None = None,
    ) -> None:
        self._connection = redis_client("RedisRateLimiter", url, client)
        self._errors = self._connection.errors
        self.client: Redis | RedisCluster = self._connection.client
        self.prefix = prefix
        self._fallback = fallback
        self._hit = self.client.register_script(_HIT)
        self._peek = self.client.register_script(_PEEK)
        self._refund = self.client.register_script(_REFUND)
        self._down = False
        self._retry_at = 0.0
        self._warned_at: float | None = None

    def __repr__(self) -> str:
        return f"RedisRateLimiter(prefix={self.prefix!r})"

    async def aclose(self) -> None:
        """Close the client if the limiter created it (from *url*)."""
        if self._connection.owned:
            await self.client.aclose()
            await self._connection.aclose()

    def _key(self, kind: str, key: str) -> str:
        try:
            if len(key.encode()) <= _MAX_KEY:
                return f"{self.prefix}{kind}:{key}"
        except UnicodeEncodeError:  # lone surrogates (JSON allows "\ud800"): hash them
            pass
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{self.prefix}{kind}#{digest}"

    def _local(self) -> RateLimiter:
        if self._fallback is None:
            self._fallback = MemoryRateLimiter()
        return self._fallback

    async def _either(
        self,
        shared: Callable[[], Awaitable[_T]],
        local: Callable[[RateLimiter], Awaitable[_T]],
    ) -> _T:
        """Run *shared* on Redis; if Redis is down, run *local* on the fallback."""
        now = time.monotonic()
        if self._down:
            if now < self._retry_at:
                return await local(self._local())
            self._retry_at = now + self.retry_interval  # one probe at a time
        try:
            result = await shared()
        except self._errors as exc:
            self._failed(exc)
            return await local(self._local())
        if self._down:
            self._down = False
            _log.info("Redis rate limiter reachable again; using shared limits")
        return result

    def _failed(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._down = True
        self._retry_at = now + self.retry_interval
        if self._warned_at is None or now - self._warned_at >= self.warn_interval:
            self._warned_at = now
            _log.warning("Redis rate limiter unreachable; using per-process limits: %r", exc)

    async def hit(self, key: str, limit: Limit) -> Usage:  # noqa: D102 - see RateLimiter
        async def shared() -> Usage:
            window_ms = limit.seconds * 1000
            count, left = await self._hit(keys=[self._key("c", key)], args=[window_ms])
            return _usage(int(count), int(left), limit)

        return await self._either(shared, lambda local: local.hit(key, limit))

    async def peek(self, key: str, limit: Limit) -> Usage:  # noqa: D102
        async def shared() -> Usage:
            # One script rather than a MULTI: a Cluster client may not run transactions.
            reply = await self._peek(keys=[self._key("c", key)])
            if not reply:
                return Usage(count=0, retry_after=1, allowed=True)
            return _usage(int(reply[0]), int(reply[1]), limit)

        return await self._either(shared, lambda local: local.peek(key, limit))

    async def reset(self, key: str) -> None:  # noqa: D102
        if self._fallback is not None:  # stale per-process counts must not linger either
            await self._fallback.reset(key)

        async def shared() -> None:
            await self.client.delete(self._key("c", key))

        await self._either(shared, lambda local: local.reset(key))

    async def refund(self, key: str) -> None:  # noqa: D102
        async def shared() -> None:
            await self._refund(keys=[self._key("c", key)])

        await self._either(shared, lambda local: local.refund(key))

    async def mark(self, key: str, seconds: int) -> None:  # noqa: D102
        async def shared() -> None:
            name = self._key("m", key)
            if seconds > 0:
                await self.client.set(name, "1", ex=seconds)
            else:  # as in memory: a mark that ends now is no mark
                await self.client.delete(name)

        await self._either(shared, lambda local: local.mark(key, seconds))

    async def marked(self, key: str) -> bool:  # noqa: D102
        async def shared() -> bool:
            return bool(await self.client.exists(self._key("m", key)))

        return await self._either(shared, lambda local: local.marked(key))
