"""Where the kit applies its rate limits, and the lockout rules for logins.

Logins: failures are counted per client IP, per account and IP, and per account.
A request is refused (429) before its password is checked when a counter is
full, so the answer is the same for unknown and existing accounts and costs no
hash. A success clears the account-and-IP counter (not the IP counter) and
marks the IP as trusted for the account: the per-account counter then no longer
applies to it, so failures from elsewhere cannot lock the owner out of the
networks they use. Counters are fixed windows, so every lock ends by itself.

Counters are counted in order, the client IP's first, and a request stops at the
first counter that refuses it: it creates and grows no other counter (those
counted before are taken back, those after are only read for `Retry-After`).
So requests refused by a full IP counter cost no memory, and a flood of fresh
addresses cannot push other counters, such as lockouts, out of the limiter.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._email import canonical_email
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    RateLimiterUnavailableError,
    TooManyRequestsError,
    UnavailableError,
    UserKitError,
)
from fastapi_userkit.hooks import UserKitHooks, run_after_hook
from fastapi_userkit.ratelimit import Limit, RateLimiter, Usage

logger = logging.getLogger("fastapi_userkit.ratelimit")


class Throttle:
    """Applies the kit's limits with its `RateLimiter`.

    Requests without a client address (`kit.users`, scripts) are never limited.

    Args:
        limiter: Where counters live.
        limits: Each limit by name: `login_ip`, `login_account_ip`, `login_account`,
            `register_ip`, `forgot_password_account`, `forgot_password_ip`,
            `verify_account`, `verify_ip` and `register_notice_account` (the settings
            `rate_limit_<name>`).
        hooks: For `on_lockout`.
        enabled: `False` turns every limit off.
        trust_seconds: How long a successful login exempts its IP from the
            per-account login limit (0: never).
    """

    def __init__(
        self,
        limiter: RateLimiter,
        limits: dict[str, Limit],
        hooks: UserKitHooks,
        *,
        enabled: bool = True,
        trust_seconds: int = 0,
    ) -> None:
        self.enabled = enabled
        self.limiter = limiter
        self.hooks = hooks
        self.trust_seconds = trust_seconds
        self.limits = limits

    async def _call(self, method: str, *args: Any) -> Any:
        try:
            return await getattr(self.limiter, method)(*args)
        except RateLimiterUnavailableError:
            logger.error("rate limiter unavailable: refusing rather than not limiting")
            raise

    def _login_keys(self, ip: str, email: str) -> list[tuple[str, Limit]]:
        account = canonical_email(email)[:320]
        return [
            (f"login:ip:{ip}", self.limits["login_ip"]),
            (f"login:acct-ip:{account}:{ip}", self.limits["login_account_ip"]),
            (f"login:acct:{account}", self.limits["login_account"]),
        ]

    def _trust_key(self, ip: str, email: str) -> str:
        return f"login:ok:{canonical_email(email)[:320]}:{ip}"

    async def reserve_login(self, origin: Origin, email: str) -> list[str]:
        """Count this attempt on every login counter *before* its password is checked,
        so parallel guesses cannot slip past a limit.

        Returns:
            The keys counted, to hand to `login_failed` or `login_succeeded`.

        Raises:
            TooManyRequestsError: a counter is full; nothing stays counted.
        """
        if not self.enabled or origin.ip is None:
            return []
        keys = self._login_keys(origin.ip, email)
        if await self._call("marked", self._trust_key(origin.ip, email)):
            keys = keys[:2]  # the owner's known network: no per-account lock
        counted, refused = await self._count_in_order(keys)
        if refused is None:
            return counted
        for key in counted:  # a refused attempt checked no password: not a guess
            await self._call("refund", key)
        raise TooManyRequestsError(await self._longest_wait(refused, keys[len(counted) :]))

    async def login_failed(self, origin: Origin, email: str, counted: list[str]) -> None:
        """Keep the failed attempt counted; call `on_lockout` for each counter it filled."""
        if not counted or origin.ip is None:
            return
        for key, limit in self._login_keys(origin.ip, email):
            if key not in counted:
                continue
            usage: Usage = await self._call("peek", key, limit)
            if usage.count == limit.count:
                await self._locked_out(key, origin)

    async def _locked_out(self, key: str, origin: Origin) -> None:
        """Report that the counter *key* just filled: `on_lockout` and the event,
        which names the limit, not the address in the key.
        """
        await run_after_hook("on_lockout", self.hooks.on_lockout(key, origin.request))
        limit = ":".join(key.split(":", 2)[:2])
        await record(self.hooks, origin, SecurityEventName.LOCKOUT, "failure", reason=limit)

    async def login_succeeded(self, origin: Origin, email: str, counted: list[str]) -> None:
        """Take the attempt back, clear the account-and-IP counter (the IP counter
        keeps its failures) and trust this IP for the account.
        """
        if not self.enabled or origin.ip is None:
            return
        account_ip, _ = self._login_keys(origin.ip, email)[1]
        for key in counted:
            await self._call("reset" if key == account_ip else "refund", key)
        if self.trust_seconds:
            await self._call("mark", self._trust_key(origin.ip, email), self.trust_seconds)

    async def count(self, origin: Origin, action: str, email: str | None = None) -> list[str]:
        """Count one *action* (`register`, `forgot_password`, `verify`) per IP and,
        with *email*, per account.

        Returns:
            The keys counted, for `unless_answered`.

        Raises:
            TooManyRequestsError: a limit is passed.
        """
        if not self.enabled or origin.ip is None:
            return []
        keys = [(f"{action}:ip:{origin.ip}", self.limits[f"{action}_ip"])]
        if email is not None:
            account = canonical_email(email)[:320]
            keys.append((f"{action}:acct:{account}", self.limits[f"{action}_account"]))
        counted, refused = await self._count_in_order(keys)
        if refused is None:
            return counted
        # The full counter keeps counting refused requests, so that only the
        # first one refused in its window reaches `on_lockout`.
        key, limit = keys[len(counted) - 1]
        if refused.count == limit.count + 1:
            await self._locked_out(key, origin)
        for earlier in counted[:-1]:  # refused: it must not use up the IP's allowance
            await self._call("refund", earlier)
        raise TooManyRequestsError(await self._longest_wait(refused, keys[len(counted) :]))

    @asynccontextmanager
    async def unless_answered(self, counted: list[str]) -> AsyncIterator[None]:
        """Keep the attempt counted on *counted* only if the block answers it: an
        outage (a database error, an unreachable store) gives it back, so that a
        client retrying during an outage, as `Retry-After` invites, is not locked out.
        An answer such as wrong credentials, a taken address or a bad token is a
        real attempt and stays counted.
        """
        try:
            yield
        except UserKitError as error:
            if isinstance(error, UnavailableError):
                await self._release(counted)
            raise
        except BaseException:
            await self._release(counted)
            raise

    async def reserve_ip(self, origin: Origin) -> list[str]:
        """Count a login that names no account before it is checked (a passkey
        login) on the client IP's login counter alone.

        Raises:
            TooManyRequestsError: the counter is full; nothing stays counted.
        """
        if not self.enabled or origin.ip is None:
            return []
        keys = [(f"login:ip:{origin.ip}", self.limits["login_ip"])]
        counted, refused = await self._count_in_order(keys)
        if refused is None:
            return counted
        await self._release(counted)  # refused unchecked: not a guess
        raise TooManyRequestsError(refused.retry_after)

    async def give_back(self, counted: list[str]) -> None:
        """Take back an attempt that was no guess, without trusting its IP: a right
        password whose login still waits for its second factor.
        """
        await self._release(counted)

    async def _release(self, counted: list[str]) -> None:
        for key in counted:
            try:
                await self._call("refund", key)
            except UserKitError:  # the limiter failed too: the error in flight matters more
                logger.warning("could not give back a counted attempt on %s", key)

    async def allow_notice(self, action: str, email: str) -> bool:
        """Count one unsolicited notice of *action* (`register`) to *email*; return
        whether it may be sent. Past the limit the notice is dropped silently, so
        nobody can flood an inbox through the kit, whatever their number of IPs.
        """
        if not self.enabled:
            return True
        key = f"{action}_notice:acct:{canonical_email(email)[:320]}"
        usage: Usage = await self._call("hit", key, self.limits[f"{action}_notice_account"])
        return usage.allowed

    async def _count_in_order(
        self, keys: list[tuple[str, Limit]]
    ) -> tuple[list[str], Usage | None]:
        """Hit *keys* in order and stop at the first that refuses.

        Returns:
            The keys hit (the refusing one last) and the refusing counter's usage,
            or None when every counter allowed the request.
        """
        counted: list[str] = []
        for key, limit in keys:
            usage: Usage = await self._call("hit", key, limit)
            counted.append(key)
            if not usage.allowed:
                return counted, usage
        return counted, None

    async def _longest_wait(self, refused: Usage, unread: list[tuple[str, Limit]]) -> int:
        """`Retry-After` of a refusal: the longest wait of the refusing counter and
        of the *unread* counters that are full too, read without counting.
        """
        wait = refused.retry_after
        for key, limit in unread:
            usage: Usage = await self._call("peek", key, limit)
            if usage.count >= limit.count:  # a hit would have been refused as well
                wait = max(wait, usage.retry_after)
        return wait
