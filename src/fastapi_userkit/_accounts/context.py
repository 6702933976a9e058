"""Who asks for an account operation, and where its work after the response goes.

Every operation of the accounts layer takes an `Origin`. From HTTP it carries the
request (handed to hooks), the client's address (for rate limits and the session
list) and the response's background tasks; from `kit.users` it carries none of
these, and its deferred work runs when the call returns.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from starlette.requests import Request

logger = logging.getLogger("fastapi_userkit.mail")

Call = Callable[[], Awaitable[None]]
"""A piece of work to run later: an e-mail to send, a hook to run."""


class Later(Protocol):
    """Where an operation puts the work that must not delay its answer."""

    def add(self, *calls: Call) -> None:
        """Run *calls* later, in order; a failure is logged and the next still runs."""
        ...


async def run_in_order(calls: tuple[Call, ...]) -> None:
    """Await each of *calls*; log a failure and go on with the next one."""
    for call in calls:
        try:
            await call()
        except Exception:
            logger.exception("a task after the response failed")


class Deferred(Later):
    """Work collected during a call outside a request, run by `run()` at its end."""

    def __init__(self) -> None:
        self._calls: list[Call] = []

    def add(self, *calls: Call) -> None:
        self._calls.extend(calls)

    async def run(self) -> None:
        """Run everything collected so far, then forget it."""
        calls, self._calls = tuple(self._calls), []
        await run_in_order(calls)


@dataclass(frozen=True, slots=True)
class Origin:
    """The caller of one operation.

    Attributes:
        later: Where work after the answer goes (e-mails, some hooks).
        request: The HTTP request, handed to hooks; `None` outside a request.
        ip: The client's address, as the trusted proxies tell it; `None` outside a
            request, which also means "no rate limits".
        user_agent: The client's `User-Agent`, shown in the session list.
    """

    later: Later = field(default_factory=Deferred)
    request: Request | None = None
    ip: str | None = None
    user_agent: str | None = None
