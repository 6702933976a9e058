"""The kit's e-mails: links built from settings, messages from templates, sent by
the configured `EmailSender`, after the response.
"""

import logging
from typing import TYPE_CHECKING, Any

from fastapi import BackgroundTasks

from fastapi_userkit.config import UserKitSettings
from fastapi_userkit.mail import EmailMessage, EmailSender
from fastapi_userkit.mail_templates import EmailTemplates

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

logger = logging.getLogger("fastapi_userkit.mail")


class AccountMail:
    """Composes and sends the account e-mails of one kit.

    Args:
        settings: Source of the link base URL, paths and token lifetimes.
        sender: Delivers the messages.
        templates: Writes the messages.
    """

    def __init__(
        self, settings: UserKitSettings, sender: EmailSender, templates: EmailTemplates
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.templates = templates

    def link(self, path: str, token: str) -> str:
        """The link for *token* on the frontend page *path* (never from the request)."""
        return (self.settings.frontend_url or "") + path.format(token=token)

    async def deliver(self, message: EmailMessage) -> None:
        """Send *message*; a failure is logged with its cause, never raised."""
        try:
            await self.sender.send(message)
        except Exception:
            logger.exception("could not send %r to %s", message.subject, message.to)

    def later(self, background: BackgroundTasks, *calls: "Callable[[], Awaitable[None]]") -> None:
        """Run *calls* (mails, hooks) after the response has been sent, in order;
        a failure is logged and the next call still runs.
        """

        async def run() -> None:
            for call in calls:
                try:
                    await call()
                except Exception:
                    logger.exception("a task after the response failed")

        background.add_task(run)

    async def reset_password(self, user: Any, token: str) -> None:
        """The reset link for *user*."""
        s = self.settings
        await self.deliver(
            self.templates.reset_password(
                email=user.email,
                link=self.link(s.reset_password_path, token),
                ttl_minutes=s.reset_password_token_ttl // 60,
            )
        )

    async def verify_email(self, user: Any, token: str) -> None:
        """The verification link for *user*."""
        s = self.settings
        await self.deliver(
            self.templates.verify_email(
                email=user.email,
                link=self.link(s.verify_email_path, token),
                ttl_minutes=s.verify_token_ttl // 60,
            )
        )

    async def confirm_email_change(self, new_email: str, token: str) -> None:
        """The confirmation link, sent to the new address."""
        s = self.settings
        await self.deliver(
            self.templates.confirm_email_change(
                new_email=new_email,
                link=self.link(s.email_change_path, token),
                ttl_minutes=s.email_change_token_ttl // 60,
            )
        )

    async def email_change_notice(self, old_email: str, new_email: str) -> None:
        """The notice to the old address."""
        await self.deliver(
            self.templates.email_change_notice(old_email=old_email, new_email=new_email)
        )

    async def registration_attempt(self, email: str) -> None:
        """The notice to the owner of an address someone tried to register again."""
        base = self.settings.frontend_url
        await self.deliver(
            self.templates.registration_attempt(email=email, login_link=base, reset_link=None)
        )

    async def password_changed(self, email: str) -> None:
        """The notice that the password changed."""
        await self.deliver(self.templates.password_changed(email=email))

    async def account_deleted(self, email: str) -> None:
        """The notice that the account is gone."""
        await self.deliver(self.templates.account_deleted(email=email))
