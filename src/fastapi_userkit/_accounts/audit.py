"""Recording security events from the account operations."""

from typing import Any

from fastapi_userkit._accounts.context import Origin
from fastapi_userkit.events import Outcome, SecurityEvent, SecurityEventName, log_security_event
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


async def record(
    hooks: UserKitHooks,
    origin: Origin,
    event: SecurityEventName,
    outcome: Outcome,
    *,
    user: Any = None,
    user_id: str | None = None,
    session_id: str | None = None,
    actor: Any = None,
    reason: str | None = None,
) -> None:
    """Log one security event and hand it to `on_security_event`; the account is
    *user*, or the id *user_id* when no user object is at hand.
    """
    happened = SecurityEvent(
        event=event,
        outcome=outcome,
        user_id=user_id if user is None else str(user.id),
        client_ip=origin.ip,
        session_id=session_id,
        actor_id=None if actor is None else str(actor.id),
        reason=reason,
    )
    log_security_event(happened)
    await run_after_hook("on_security_event", hooks.on_security_event(happened, origin.request))
