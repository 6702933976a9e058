"""Warnings about settings that are fine on a laptop and unsafe in production.

`warn_unsafe` runs once per mounted kit, when `include_user_router()` builds it, and
logs one warning per problem, naming the setting to change. It never refuses to
start: each of these is a legitimate choice in development.
"""

import logging
from ipaddress import ip_address
from urllib.parse import urlsplit

from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.mail import EmailSender, LoggingEmailSender

logger = logging.getLogger("fastapi_userkit")

_LOCAL_HOSTS = frozenset({"localhost", "localhost.localdomain"})


def _is_local(host: str) -> bool:
    if host in _LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def unsafe_settings(
    settings: UserKitSettings, *, dialect: str | None, sender: EmailSender
) -> list[str]:
    """Return one sentence per unsafe choice in *settings* (empty when none).

    Args:
        settings: The kit's settings.
        dialect: The database's SQL dialect (`sqlite`, `postgresql`, ...), if known.
        sender: The e-mail sender the kit will use.
    """
    problems = []
    if settings.cookie_transport and not settings.cookie_secure:
        problems.append(
            "USERKIT_COOKIE_SECURE=false: the session cookies are sent over plain http and "
            "lose their __Host- prefix; keep it true outside local development."
        )
    url = settings.frontend_url
    if url is not None and url.startswith("http://"):
        host = urlsplit(url).hostname or ""
        if not _is_local(host):
            problems.append(
                f"USERKIT_FRONTEND_URL is http://{host}: reset and verification links would "
                "carry their tokens unencrypted; use https://."
            )
    if isinstance(sender, LoggingEmailSender) and dialect != "sqlite":
        problems.append(
            "no mail server is configured (USERKIT_SMTP_HOST) and no email_sender= was "
            "given: reset and verification links are written to the log instead of being "
            "sent, and anyone who reads the log can use them."
        )
    if settings.mfa_enabled and settings.webauthn_rp_id is None and dialect != "sqlite":
        problems.append(
            "USERKIT_WEBAUTHN_RP_ID is not set: passkeys take the site from each request's "
            "Host header, which a proxy in front of the app may set to another name; set "
            "it (and USERKIT_WEBAUTHN_ORIGINS) to your domain."
        )
    return problems


def warn_unsafe(settings: UserKitSettings, *, dialect: str | None, sender: EmailSender) -> None:
    """Log each problem `unsafe_settings` finds, once."""
    for problem in unsafe_settings(settings, dialect=dialect, sender=sender):
        logger.warning("unsafe for production: %s", problem)
