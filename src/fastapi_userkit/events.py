"""Security events: one structured log record per security decision.

Every login (success and failure), lockout, refresh-token reuse, logout, password
and address change, reset, verification, deletion and administrative change emits
one `SecurityEvent`: a record on the `fastapi_userkit.security` logger (INFO for a
success, WARNING for a failure) whose fields are set as attributes of the log
record under the names of `SecurityEvent.fields()`, and a call of the hook
`UserKitHooks.on_security_event`. Events carry identifiers only: never a password,
a token, a hash or an e-mail address.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

__all__ = [
    "Outcome",
    "SecurityEvent",
    "SecurityEventName",
    "log_security_event",
]

logger = logging.getLogger("fastapi_userkit.security")

Outcome = Literal["success", "failure"]
"""Whether the action an event reports was allowed (`success`) or refused (`failure`)."""


class SecurityEventName(StrEnum):
    """The stable names of security events (the `event` field)."""

    REGISTER = "register"
    LOGIN = "login"
    LOCKOUT = "lockout"
    REAUTHENTICATION = "reauthentication"
    REFRESH_TOKEN_REUSE = "refresh_token_reuse"  # noqa: S105 (a name, not a secret)
    LOGOUT = "logout"
    SESSION_REVOKE = "session_revoke"
    LOGOUT_ALL = "logout_all"
    PASSWORD_CHANGE = "password_change"  # noqa: S105 (a name, not a secret)
    PASSWORD_RESET_REQUEST = "password_reset_request"  # noqa: S105 (a name, not a secret)
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, not a secret)
    EMAIL_CHANGE_REQUEST = "email_change_request"
    EMAIL_CHANGE = "email_change"
    VERIFICATION_REQUEST = "verification_request"
    VERIFICATION = "verification"
    ACCOUNT_DELETE = "account_delete"
    ADMIN_UPDATE = "admin_update"
    ACCESS_DENIED = "access_denied"
    ROLE_CREATE = "role_create"
    ROLE_UPDATE = "role_update"
    ROLE_DELETE = "role_delete"
    ROLE_GRANT = "role_grant"
    ROLE_REVOKE = "role_revoke"
    MFA_CHALLENGE = "mfa_challenge"
    MFA_ENABLE = "mfa_enable"
    MFA_DISABLE = "mfa_disable"
    RECOVERY_CODES = "recovery_codes"


@dataclass(frozen=True, slots=True)
class SecurityEvent:
    """One security decision.

    Attributes:
        event: What happened (`SecurityEventName`).
        outcome: `success` or `failure`.
        user_id: The account concerned, when one is known (`None` for a login with
            an unknown address, or a lockout, which counts addresses, not accounts).
        client_ip: The client's address as the trusted proxies tell it; `None`
            outside an HTTP request (`kit.users`, the CLI).
        session_id: The login session concerned (opened, used or ended), if any.
        actor_id: Who acted on the account when it is not its owner: the superuser
            of an administrative change.
        reason: Why a failure failed (`invalid_credentials`, `unverified`,
            `rate_limited`, `wrong_password`, `bad_token`), which limit a lockout
            filled (`login:acct-ip`, ...), or the fields an administrative change
            set (`is_active,password`). Never a value.
        at: When, in UTC.
    """

    event: SecurityEventName
    outcome: Outcome
    user_id: str | None = None
    client_ip: str | None = None
    session_id: str | None = None
    actor_id: str | None = None
    reason: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def fields(self) -> dict[str, str | None]:
        """The event as flat string fields, as set on the log record."""
        return {
            "event": self.event.value,
            "outcome": self.outcome,
            "user_id": self.user_id,
            "client_ip": self.client_ip,
            "session_id": self.session_id,
            "actor_id": self.actor_id,
            "reason": self.reason,
            "event_at": self.at.isoformat(),
        }


def log_security_event(event: SecurityEvent) -> None:
    """Write *event* to the `fastapi_userkit.security` logger."""
    level = logging.INFO if event.outcome == "success" else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    fields = event.fields()
    described = " ".join(
        f"{name}={value}" for name, value in fields.items() if value is not None and name != "event"
    )
    logger.log(level, "security event %s %s", event.event.value, described, extra=fields)
