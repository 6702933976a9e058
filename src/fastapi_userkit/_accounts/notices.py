"""The kit's e-mails: links built from configured values (never from a request),
messages from templates, delivered by the configured `EmailSender`.

`AccountMail` only writes and sends; when a message goes out (after the response)
is the operation's business, through `Origin.later`.
"""

import logging
from dataclasses import dataclass
from typing import Any

from fastapi_userkit.mail import EmailMessage, EmailSender
from fastapi_userkit.mail_templates import EmailTemplates

logger = logging.getLogger("fastapi_userkit.mail")


@dataclass(frozen=True, slots=True)
class Link:
    """Where an e-mailed token leads: a frontend path with `{token}`, and how long
    the token lives (told to the reader in minutes).
    """

    path: str
    ttl: int


class AccountMail:
    """Composes and sends the account e-mails of one kit.

    Args:
        sender: Delivers the messages.
        templates: Writes the messages.
        frontend_url: Base URL of the pages the links open (`""` for relative links).
        reset: The reset page and the reset token's lifetime.
        verify: The verification page and the verification token's lifetime.
        email_change: The confirmation page and the e-mail-change token's lifetime.
    """

    def __init__(
        self,
        sender: EmailSender,
        templates: EmailTemplates,
        *,
        frontend_url: str,
        reset: Link,
        verify: Link,
        email_change: Link,
    ) -> None:
        self.sender = sender
        self.templates = templates
        self.frontend_url = frontend_url
        self.reset = reset
        self.verify = verify
        self.email_change = email_change

    def link(self, link: Link, token: str) -> str:
        """The URL of *link* for *token* (never built from the request)."""
        return self.frontend_url + link.path.format(token=token)

    async def deliver(self, message: EmailMessage) -> None:
        """Send *message*; a failure is logged with its cause, never raised."""
        try:
            await self.sender.send(message)
        except Exception:
            logger.exception("could not send %r to %s", message.subject, message.to)

    async def reset_password(self, user: Any, token: str) -> None:
        """The reset link for *user*."""
        await self.deliver(
            self.templates.reset_password(
                email=user.email,
                link=self.link(self.reset, token),
                ttl_minutes=self.reset.ttl // 60,
            )
        )

    async def verify_email(self, user: Any, token: str) -> None:
        """The verification link for *user*."""
        await self.deliver(
            self.templates.verify_email(
                email=user.email,
                link=self.link(self.verify, token),
                ttl_minutes=self.verify.ttl // 60,
            )
        )

    async def confirm_email_change(self, new_email: str, token: str) -> None:
        """The confirmation link, sent to the new address."""
        await self.deliver(
            self.templates.confirm_email_change(
                new_email=new_email,
                link=self.link(self.email_change, token),
                ttl_minutes=self.email_change.ttl // 60,
            )
        )

    async def email_change_notice(self, old_email: str, new_email: str) -> None:
        """The notice to the old address."""
        await self.deliver(
            self.templates.email_change_notice(old_email=old_email, new_email=new_email)
        )

    async def registration_attempt(self, email: str) -> None:
        """The notice to the owner of an address someone tried to register again."""
        await self.deliver(
            self.templates.registration_attempt(
                email=email, login_link=self.frontend_url or None, reset_link=None
            )
        )

    async def password_changed(self, email: str) -> None:
        """The notice that the password changed."""
        await self.deliver(self.templates.password_changed(email=email))

    async def account_deleted(self, email: str) -> None:
        """The notice that the account is gone."""
        await self.deliver(self.templates.account_deleted(email=email))

    async def second_factor_added(self, email: str) -> None:
        """The notice that a second factor was added to the account."""
        await self.deliver(self.templates.second_factor_added(email=email))

    async def second_factor_removed(self, email: str) -> None:
        """The notice that the account's second factors were removed."""
        await self.deliver(self.templates.second_factor_removed(email=email))

    async def recovery_code_used(self, email: str, left: int) -> None:
        """The notice that a recovery code was used to log in."""
        await self.deliver(self.templates.recovery_code_used(email=email, left=left))
