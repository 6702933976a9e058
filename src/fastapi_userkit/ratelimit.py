"""Rate limits: the `RateLimiter` seam and its in-memory implementation.

Counters are fixed windows keyed by strings such as `login:acct-ip:<email>:<ip>`.
`hit` adds one to a counter and says whether it is still within its limit;
`peek` only reads. `MemoryRateLimiter` is per process; `RedisRateLimiter`
(`fastapi_userkit.contrib.redis_ratelimit`, extra `[redis]`) shares the counters
between workers.
"""

import asyncio
import heapq
import math
import time
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from fastapi_userkit.exceptions import RateLimiterUnavailableError

__all__ = [
    "Clock",
    "Limit",
    "MemoryRateLimiter",
    "RateLimiter",
    "RateLimiterUnavailableError",
    "Usage",
]


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


@dataclass(slots=True)
class _Window:
    """One counter of `MemoryRateLimiter`, with what eviction needs to rank it."""

    start: float
    count: int
    limit: Limit
    """The limit of its last `hit`: gives the window's end and whether it is full."""

    def ended(self, now: float) -> bool:
        """Whether the window is over at *now* (it then reads as no counter)."""
        return now - self.start >= self.limit.seconds

    @property
    def ends(self) -> float:
        """When the window is over."""
        return self.start + self.limit.seconds

    @property
    def full(self) -> bool:
        """A live lockout: the next event would be refused."""
        return self.count >= self.limit.count


class MemoryRateLimiter(RateLimiter):
    """Counters in this process's memory: the default for one worker.

    With several workers each has its own counters, so the effective limit is
    multiplied by the number of workers: use `RedisRateLimiter` there.

    Args:
        max_keys: Bound on the number of counters kept, and on the number of marks.
            Past it, the limiter drops down to 90% of it: ended windows first,
            then counters below their limit (least recently counted first), and
            full counters (live lockouts) only last, those ending soonest first.
            So a flood of distinct keys can neither exhaust memory nor lift a lock.
        clock: Monotonic time in seconds; tests pass a fake one.

    Raises:
        ValueError: *max_keys* is below 1.
    """

    def __init__(self, *, max_keys: int = 100_000, clock: "Clock | None" = None) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._windows: dict[str, _Window] = {}
        self._marks: dict[str, float] = {}
        self._max_keys = max_keys
        # Sweeping to below the bound, not to it, spreads the cost of a full
        # scan over the next tenth of the bound's inserts: amortised O(1) a hit.
        self._low_water = max(1, max_keys - max(1, max_keys // 10))
        self._clock = clock or time.monotonic
        self._lock = asyncio.Lock()

    @property
    def size(self) -> int:
        """Number of counters kept now (marks not included); read only."""
        return len(self._windows)

    def _current(self, key: str, limit: Limit, now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is None or now - window.start >= limit.seconds:
            return None
        return window

    def _usage(self, start: float, count: int, limit: Limit, now: float) -> Usage:
        retry = max(1, math.ceil(start + limit.seconds - now))
        return Usage(count=count, retry_after=retry, allowed=count <= limit.count)

    async def hit(self, key: str, limit: Limit) -> Usage:  # noqa: D102 - see RateLimiter
        async with self._lock:
            now = self._clock()
            window = self._current(key, limit, now)
            if window is None:  # none yet, or its window ended: start a new one
                window = _Window(now, 0, limit)
            window.count += 1
            window.limit = limit
            self._windows.pop(key, None)  # re-insert: dict order is "least recently hit"
            self._windows[key] = window
            if len(self._windows) > self._max_keys:
                self._sweep_windows(now)
            return self._usage(window.start, window.count, limit, now)

    def _sweep_windows(self, now: float) -> None:
        """Drop counters down to the low-water mark, losing the least first."""
        windows, excess = self._windows, len(self._windows) - self._low_water
        # An ended window reads as no counter at all: dropping it loses nothing.
        for key in [key for key, window in windows.items() if window.ended(now)]:
            del windows[key]
            excess -= 1
        if excess <= 0:
            return
        # A counter below its limit only lets a few more events through.
        open_keys = [key for key, window in windows.items() if not window.full]
        for key in open_keys[:excess]:
            del windows[key]
        excess -= len(open_keys)
        if excess <= 0:
            return
        # Only live lockouts are left: keep those that would hold the longest.
        for key in heapq.nsmallest(excess, windows, key=lambda key: windows[key].ends):
            del windows[key]

    async def peek(self, key: str, limit: Limit) -> Usage:  # noqa: D102
        now = self._clock()
        window = self._current(key, limit, now)
        if window is None:
            return self._usage(now, 0, limit, now)
        return self._usage(window.start, window.count, limit, now)

    async def reset(self, key: str) -> None:  # noqa: D102
        self._windows.pop(key, None)

    async def refund(self, key: str) -> None:  # noqa: D102
        async with self._lock:
            window = self._windows.get(key)
            if window is None:
                return
            window.count -= 1
            if window.count <= 0:  # an empty counter reads as none: keep no entry
                del self._windows[key]

    async def mark(self, key: str, seconds: int) -> None:  # noqa: D102
        async with self._lock:
            now = self._clock()
            self._marks.pop(key, None)
            if seconds <= 0:  # a mark that ends now is no mark (as in Redis)
                return
            self._marks[key] = now + seconds
            if len(self._marks) > self._max_keys:
                self._sweep_marks(now)

    def _sweep_marks(self, now: float) -> None:
        """Drop ended marks, then the oldest, down to the low-water mark."""
        marks = self._marks
        for key in [key for key, until in marks.items() if until <= now]:
            del marks[key]
        # A mark only relaxes a limit: losing a live one makes the kit stricter.
        excess = len(marks) - self._low_water
        if excess > 0:
            for key in list(islice(marks, excess)):
                del marks[key]

    async def marked(self, key: str) -> bool:  # noqa: D102
        until = self._marks.get(key)
        return until is not None and until > self._clock()


class Clock(Protocol):
    """A monotonic clock in seconds (tests pass a fake one)."""

    def __call__(self) -> float:
        """Return the current time."""
        ...
