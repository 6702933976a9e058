"""`UserKitHooks`: override the events you care about.

Method names and arguments follow fastapi-users' `UserManager`, so hooks move
over unchanged. The `on_after_*` hooks run after the change is committed (or,
when the host owns the session, after it is flushed into the host's
transaction). They cannot undo it: an exception they raise is logged with its
traceback on the `fastapi_userkit.hooks` logger, and the response is sent as if
the hook had succeeded. `on_before_*` hooks run before anything is written and
can abort the operation by raising.
"""

import logging
from collections.abc import Awaitable
from typing import Any

from fastapi import Request, Response

from fastapi_userkit.events import SecurityEvent

__all__ = [
    "UserKitHooks",
    "run_after_hook",
]

logger = logging.getLogger("fastapi_userkit.hooks")


class UserKitHooks:
    """Event hooks with no-op defaults; subclass and override what you need.

    Example:
        ```python
        class Hooks(UserKitHooks):
            async def on_after_register(self, user, request=None):
                await welcome_mail(user.email)

        include_user_router(app, hooks=Hooks())
        ```
    """

    async def on_after_register(self, user: Any, request: Request | None = None) -> None:
        """A user was created (by `POST /auth/register` or `kit.users.create()`)."""

    async def on_after_login(
        self, user: Any, request: Request | None = None, response: Response | None = None
    ) -> None:
        """A user logged in; *response* is the login response about to be sent."""

    async def on_login_failed(self, email: str, request: Request | None = None) -> None:
        """A login failed (unknown e-mail, wrong password or inactive user); *email*
        is what was typed, which may name no account.
        """

    async def on_lockout(self, key: str, request: Request | None = None) -> None:
        """A rate-limit counter just filled: *key* names it, e.g.
        `login:acct-ip:<email>:<ip>` or `register:ip:<ip>`.
        """

    async def on_after_forgot_password(
        self, user: Any, token: str, request: Request | None = None
    ) -> None:
        """A reset token was made for an active user. Runs after the response is
        sent, beside the kit's own e-mail, so the answer takes the same time for
        every address.
        """

    async def on_after_reset_password(self, user: Any, request: Request | None = None) -> None:
        """A user set a new password with a reset token; every session has ended."""

    async def on_after_request_verify(
        self, user: Any, token: str, request: Request | None = None
    ) -> None:
        """A verification token was made. Runs after the response is sent."""

    async def on_after_verify(self, user: Any, request: Request | None = None) -> None:
        """A user verified their e-mail address."""

    async def on_before_delete(self, user: Any, request: Request | None = None) -> None:
        """A user is about to be deleted. Runs before anything is written: raise
        (e.g. an `HTTPException`) to abort, and nothing is deleted.
        """

    async def on_after_delete(self, user: Any, request: Request | None = None) -> None:
        """A user was deleted (committed); *user* is the detached row."""

    async def on_after_logout(self, user: Any, request: Request | None = None) -> None:
        """A user ended a session (bearer or cookie logout, `DELETE /auth/sessions/{id}`)
        or all of them (`/logout-all`).
        """

    async def on_refresh_token_reuse(self, user: Any, request: Request | None = None) -> None:
        """A spent refresh token of *user* was presented again, so it may have been
        stolen; its session has been revoked. *user* is `None` if the account is gone.
        """

    async def on_after_password_change(self, user: Any, request: Request | None = None) -> None:
        """A user changed their password; their other sessions have ended."""

    async def on_after_mfa_enabled(self, user: Any, request: Request | None = None) -> None:
        """A user confirmed an authenticator app: their logins now take a code."""

    async def on_after_mfa_disabled(self, user: Any, request: Request | None = None) -> None:
        """A user's second factors were removed (by the user, or reset by an admin
        or the `userkit` command): their logins take a password alone again.
        """

    async def on_after_update(
        self, user: Any, update_dict: dict[str, Any], request: Request | None = None
    ) -> None:
        """A user sent `PATCH /users/me`; *update_dict* holds the fields they sent
        (never a password: a new one shows as `password_changed: True`).
        """

    async def on_security_event(self, event: SecurityEvent, request: Request | None = None) -> None:
        """A security decision was made (a login, a lockout, a logout, a change of
        credentials, an administrative change: the table in "Security events").

        Runs after the change is committed, once per event, beside the record on the
        `fastapi_userkit.security` logger; *event* holds identifiers only. Use it to
        feed an audit trail or an alerting system; keep it quick, as it runs before
        the response (a slow sink belongs in a queue).
        """

    async def validate_password(self, password: str, email: str | None) -> list[str]:
        """Return the reasons to refuse a new *password* (empty to accept it).

        Runs with the password policy's rules, at registration, reset and change,
        and its reasons are listed with theirs. Use it for a check the kit cannot
        make, e.g. a breached-password service (send only a hash prefix, as with
        Have I Been Pwned's range API). *email* is the account's address, when
        known. An exception fails the request rather than letting the password in.
        """
        return []


async def run_after_hook(name: str, call: Awaitable[None]) -> None:
    """Await an after-commit hook; log its failure instead of breaking the response."""
    try:
        await call
    except Exception:
        logger.exception("hook %s failed; the change it follows was kept", name)
