"""Wording of the kit's e-mails; subclass `EmailTemplates` to change it.

Each method returns an `EmailMessage` with a plain-text body, in which links
appear in full, and an HTML alternative in which every inserted value is
HTML-escaped.
"""

import html
from collections.abc import Sequence
from typing import NamedTuple

from fastapi_userkit.mail import EmailMessage

__all__ = [
    "EmailTemplates",
    "Link",
    "Part",
]


class Link(NamedTuple):
    """A link in a message body: shown in full in the text, as an anchor in HTML."""

    url: str
    """The absolute URL."""


Part = str | Link
"""A piece of a message body: a paragraph of plain text, or a link."""


def _duration(minutes: int) -> str:
    for unit, size in (("day", 1440), ("hour", 60)):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


class EmailTemplates:
    """The e-mails the kit sends, one method each; override any of them.

    Example:
        ```python
        class Templates(EmailTemplates):
            app_name = "Acme"

            def password_changed(self, *, email):
                return EmailMessage(to=email, subject="Acme: new password", text="...")

        include_user_router(app, email_templates=Templates())
        ```
    """

    app_name: str = "our service"
    """Name of the product, used in subjects and bodies."""

    def render(self, *, to: str, subject: str, parts: Sequence[Part]) -> EmailMessage:
        """Build a message from paragraphs (`str`) and links, as text and HTML.

        Args:
            to: Recipient address.
            subject: Subject line; CR, LF and NUL are refused.
            parts: Paragraphs of plain text, and links made with `link()`.
        """
        text = "\n\n".join(part.url if isinstance(part, Link) else part for part in parts)
        blocks = []
        for part in parts:
            if isinstance(part, Link):
                url = html.escape(part.url)
                blocks.append(f'<p><a href="{url}">{url}</a></p>')
            else:
                blocks.append(f"<p>{html.escape(part)}</p>")
        body = "\n".join(blocks)
        markup = f"<!DOCTYPE html>\n<html>\n<body>\n{body}\n</body>\n</html>\n"
        return EmailMessage(to=to, subject=subject, text=text + "\n", html=markup)

    @staticmethod
    def link(url: str) -> Link:
        """Mark *url* as a link for `render()`."""
        return Link(url)

    def reset_password(self, *, email: str, link: str, ttl_minutes: int) -> EmailMessage:
        """Link to choose a new password, sent after a forgot-password request."""
        return self.render(
            to=email,
            subject=f"Reset your password for {self.app_name}",
            parts=[
                f"Someone asked to reset the password of the account {email} "
                f"at {self.app_name}. To choose a new password, open this link:",
                self.link(link),
                f"The link expires in {_duration(ttl_minutes)}. If you did not ask for "
                "this, ignore this e-mail: your password stays as it is.",
            ],
        )

    def verify_email(self, *, email: str, link: str, ttl_minutes: int) -> EmailMessage:
        """Link that proves the user owns the address of their account."""
        return self.render(
            to=email,
            subject=f"Verify your e-mail address for {self.app_name}",
            parts=[
                f"To confirm that {email} is your address at {self.app_name}, open this link:",
                self.link(link),
                f"The link expires in {_duration(ttl_minutes)}. If you did not create "
                "an account, ignore this e-mail.",
            ],
        )

    def confirm_email_change(self, *, new_email: str, link: str, ttl_minutes: int) -> EmailMessage:
        """Link that confirms a change of address, sent to the new address."""
        return self.render(
            to=new_email,
            subject=f"Confirm your new e-mail address for {self.app_name}",
            parts=[
                f"Someone asked to use {new_email} as the address of their account "
                f"at {self.app_name}. To confirm the change, open this link:",
                self.link(link),
                f"The link expires in {_duration(ttl_minutes)}. If you did not ask for "
                "this, ignore this e-mail: nothing changes.",
            ],
        )

    def email_change_notice(self, *, old_email: str, new_email: str) -> EmailMessage:
        """Warning sent to the old address when a change of address is asked for."""
        return self.render(
            to=old_email,
            subject=f"The e-mail address of your account at {self.app_name} is changing",
            parts=[
                f"Someone asked to change the e-mail address of your account at "
                f"{self.app_name} from {old_email} to {new_email}.",
                "If this was you, there is nothing to do. If it was not you, reset "
                "your password now and check your account: someone else may be able "
                "to sign in to it.",
            ],
        )

    def registration_attempt(
        self, *, email: str, login_link: str | None, reset_link: str | None
    ) -> EmailMessage:
        """Notice that someone tried to register with an address that has an account."""
        parts: list[Part] = [
            f"Someone tried to create an account at {self.app_name} with {email}, "
            "but this address already has one. Nothing was changed.",
        ]
        if login_link is not None:
            parts += ["If this was you, you can sign in here:", self.link(login_link)]
        if reset_link is not None:
            parts += ["If you forgot your password, reset it here:", self.link(reset_link)]
        parts.append("If it was not you, you can ignore this e-mail.")
        return self.render(
            to=email,
            subject=f"Sign-up attempt with your e-mail address at {self.app_name}",
            parts=parts,
        )

    def password_changed(self, *, email: str) -> EmailMessage:
        """Notice that the password of an account was changed or reset."""
        return self.render(
            to=email,
            subject=f"Your password for {self.app_name} was changed",
            parts=[
                f"The password of the account {email} at {self.app_name} was just changed.",
                "If this was you, there is nothing to do. If it was not you, reset "
                "your password now and check your account.",
            ],
        )

    def account_deleted(self, *, email: str) -> EmailMessage:
        """Notice that an account was deleted."""
        return self.render(
            to=email,
            subject=f"Your account at {self.app_name} was deleted",
            parts=[
                f"The account {email} at {self.app_name} has been deleted.",
                "If you did not ask for this, contact us.",
            ],
        )

    def second_factor_added(self, *, email: str) -> EmailMessage:
        """Notice that a second factor (an authenticator app, a passkey) was added."""
        return self.render(
            to=email,
            subject=f"A second factor was added to your account at {self.app_name}",
            parts=[
                f"A second factor (an authenticator app or a passkey) was just added to the "
                f"account {email} at {self.app_name}: logging in now takes it.",
                "If this was not you, reset your password now and contact us.",
            ],
        )

    def second_factor_removed(self, *, email: str) -> EmailMessage:
        """Notice that a second factor of an account was removed."""
        return self.render(
            to=email,
            subject=f"A second factor of your account at {self.app_name} was removed",
            parts=[
                f"A second factor (an authenticator app, a passkey, or all of them with "
                f"the recovery codes) of the account {email} at {self.app_name} was just "
                "removed.",
                "If this was not you, reset your password now and contact us.",
            ],
        )

    def recovery_code_used(self, *, email: str, left: int) -> EmailMessage:
        """Notice that a recovery code was used to log in."""
        return self.render(
            to=email,
            subject=f"A recovery code was used for your account at {self.app_name}",
            parts=[
                f"A recovery code of the account {email} at {self.app_name} was just used "
                f"to log in. {left} unused code{'s' if left != 1 else ''} left.",
                "If this was not you, reset your password now and contact us.",
            ],
        )
