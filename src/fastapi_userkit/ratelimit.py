"""Rate limits: the `RateLimiter` seam and its in-memory implementation.

Counters are fixed windows keyed by strings such as `login:acct-ip:<email>:<ip>`.
`hit` adds one to a counter and says whether it is still within its limit;
`peek` only reads. `MemoryRateLimiter` is per process; `RedisRateLimiter`
(`fastapi_userkit.contrib.redis_ratelimit`, extra `[redis]`) shares the counters
between workers.
"""

import asyncio
import math
import time
from dataclasses import dataclass
from typing import Protocol

from fastapi_userkit.exceptions import UserKitError


class RateLimiterUnavailableError(UserKitError):
    """The shared limiter cannot be reached."""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most *count* events per *seconds*."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Limit":
        """Read `"5/900"` (five per 900 seconds)."""
        count, _, seconds = text.partition("/")
        limit = cls(int(count), int(seconds))
        if limit.count < 1 or limit.seconds < 1:
            raise ValueError("a limit is COUNT/SECONDS with both at least 1")
        return limit

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"


@dataclass(frozen=True, slots=True)
class Usage:
    """A counter's state after a `hit` or `peek`."""

    count: int
    """Events counted in the current window, including this one for `hit`."""
    retry_after: int
    """Seconds until the window ends."""
    allowed: bool
    """Whether *count* is within the limit."""


class RateLimiter(Protocol):
    """Counts events per key in fixed windows."""

    async def hit(self, key: str, limit: Limit) -> Usage:
        """Count one event for *key* and return the counter's state."""
        ...

    async def peek(self, key: str, limit: Limit) -> Usage:
        """Return the counter's state without counting."""
        ...

    async def reset(self, key: str) -> None:
        """Forget *key*'s counter."""
        ...

    async def refund(self, key: str) -> None:
        """Take back one event counted by `hit` (never below zero)."""
        ...

    async def mark(self, key: str, seconds: int) -> None:
        """Remember *key* for *seconds* (e.g. an IP that logged in successfully)."""
        ...

    async def marked(self, key: str) -> bool:
        """Whether *key* is remembered."""
        ...


class MemoryRateLimiter(RateLimiter):
    """Counters in this process's memory: the default for one worker.

    With several workers each has its own counters, so the effective limit is
    multiplied by the number of workers: use `RedisRateLimiter` there.

    Args:
        max_keys: Bound on the number of counters kept; the oldest are dropped
            first, so a flood of distinct keys cannot exhaust memory.
    """

    def __init__(self, *, max_keys: int = 100_000, clock: "Clock | None" = None) -> None:
        self._windows: dict[str, tuple[float, int]] = {}
        self._marks: dict[str, float] = {}
        self._max_keys = max_keys
        self._clock = clock or time.monotonic
        self._lock = asyncio.Lock()

    def _state(self, key: str, limit: Limit, now: float) -> tuple[float, int]:
        start, count = self._windows.get(key, (now, 0))
        if now - start >= limit.seconds:
            start, count = now, 0
        return start, count

    def _usage(self, start: float, count: int, limit: Limit, now: float) -> Usage:
        retry = max(1, math.ceil(start + limit.seconds - now))
        return Usage(count=count, retry_after=retry, allowed=count <= limit.count)

    async def hit(self, key: str, limit: Limit) -> Usage:  # noqa: D102 - see RateLimiter
        async with self._lock:
            now = self._clock()
            start, count = self._state(key, limit, now)
            self._windows.pop(key, None)  # re-insert: dicts keep insertion order
            self._windows[key] = (start, count + 1)
            while len(self._windows) > self._max_keys:
                self._windows.pop(next(iter(self._windows)))
            return self._usage(start, count + 1, limit, now)

    async def peek(self, key: str, limit: Limit) -> Usage:  # noqa: D102
        now = self._clock()
        start, count = self._state(key, limit, now)
        return self._usage(start, count, limit, now)

    async def reset(self, key: str) -> None:  # noqa: D102
        self._windows.pop(key, None)

    async def refund(self, key: str) -> None:  # noqa: D102
        async with self._lock:
            window = self._windows.get(key)
            if window is not None and window[1] > 0:
                self._windows[key] = (window[0], window[1] - 1)

    async def mark(self, key: str, seconds: int) -> None:  # noqa: D102
        async with self._lock:
            self._marks.pop(key, None)
            self._marks[key] = self._clock() + seconds
            while len(self._marks) > self._max_keys:
                self._marks.pop(next(iter(self._marks)))

    async def marked(self, key: str) -> bool:  # noqa: D102
        until = self._marks.get(key)
        return until is not None and until > self._clock()


class Clock(Protocol):
    """A monotonic clock in seconds (tests pass a fake one)."""

    def __call__(self) -> float:
        """Return the current time."""
        ...
