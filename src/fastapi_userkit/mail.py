"""Outgoing e-mail: the message value object, the sender seam and two senders.

`EmailSender` is the seam: anything with `async def send(message)` will do.
`LoggingEmailSender` is the default and writes every message to the log, so a
development setup shows the links it would have mailed. `SMTPEmailSender`
delivers through an SMTP server with the standard library, in a worker thread,
so the event loop never waits on the network.

```python
sender = SMTPEmailSender(host="smtp.example.com", from_address="no-reply@example.com")
await sender.send(EmailMessage(to="ada@example.com", subject="Hello", text="Hi!"))
```
"""

import email.message
import email.utils
import logging
import smtplib
from dataclasses import dataclass
from ssl import SSLContext, create_default_context
from typing import Protocol

import anyio
import anyio.to_thread

from fastapi_userkit.exceptions import MailDeliveryError

__all__ = [
    "EmailMessage",
    "EmailSender",
    "LoggingEmailSender",
    "MailDeliveryError",
    "SMTPEmailSender",
]

logger = logging.getLogger("fastapi_userkit.mail")

_HEADER_BREAKERS = ("\r", "\n", "\0")


def _check_header(name: str, value: str | None) -> None:
    if value is not None and any(char in value for char in _HEADER_BREAKERS):
        raise ValueError(f"{name} must not contain CR, LF or NUL characters")


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One e-mail to one recipient, as the templates produce it and senders take it.

    Header fields are checked when the message is built: a CR, LF or NUL in
    `to`, `to_name` or `subject` raises `ValueError`, so a value taken from a
    request can never add headers or recipients.

    Raises:
        ValueError: A header field contains CR, LF or NUL, or `to` is empty.
    """

    to: str
    """Recipient address, e.g. `ada@example.com`."""

    subject: str
    """Subject line."""

    text: str
    """Plain-text body; every link appears in it in full."""

    html: str | None = None
    """Optional HTML alternative of the same content."""

    to_name: str | None = None
    """Optional display name of the recipient."""

    def __post_init__(self) -> None:
        if not self.to.strip():
            raise ValueError("to must be a non-empty e-mail address")
        _check_header("to", self.to)
        _check_header("to_name", self.to_name)
        _check_header("subject", self.subject)


def _recipient(message: EmailMessage) -> str:
    if message.to_name:
        return email.utils.formataddr((message.to_name, message.to))
    return message.to


class EmailSender(Protocol):
    """Delivers e-mails. Implement it to use an HTTP mail API or a queue."""

    async def send(self, message: EmailMessage) -> None:
        """Deliver *message*, or raise when it cannot be handed over."""
        ...


class LoggingEmailSender(EmailSender):
    """The default sender: logs each message instead of sending it.

    Every message goes to the `fastapi_userkit.mail` logger at WARNING level, so
    it shows even when logging is not configured, with its recipient, subject
    and full text body (links included). Nothing is dropped silently. Because
    the log then holds working reset and verification links, use it only in
    development: set `USERKIT_SMTP_HOST` or pass another sender in production.
    """

    async def send(self, message: EmailMessage) -> None:
        """Log *message* at WARNING level."""
        logger.warning(
            "E-mail logged, not sent: no mail server is configured "
            "(set USERKIT_SMTP_HOST to send by SMTP).\nTo: %s\nSubject: %s\n\n%s",
            _recipient(message),
            message.subject,
            message.text,
        )


class SMTPEmailSender(EmailSender):
    """Sends mail through an SMTP server, verifying its TLS certificate.

    The standard library's `smtplib` runs in a worker thread, at most
    *concurrency* connections at once, one connection per message.

    Args:
        host: SMTP server name.
        port: SMTP port: 587 for STARTTLS, 465 for implicit TLS, 25 for plain.
        username: Login name; when set, the sender logs in before sending.
        password: Password of *username*. Never shown by `repr()` or in errors.
        starttls: Upgrade the connection with STARTTLS, and fail if the server
            does not offer it. Exclusive with *ssl*.
        ssl: Use implicit TLS from the first byte (SMTPS). Exclusive with *starttls*.
        from_address: Sender address, e.g. `no-reply@example.com`.
        from_name: Optional display name of the sender.
        timeout: Seconds each network operation may take.
        concurrency: Most messages sent at the same time.
        ssl_context: TLS settings; by default `ssl.create_default_context()`,
            which checks the certificate and host name.

    Raises:
        ValueError: Both *starttls* and *ssl* are set, an address or name holds
            CR, LF or NUL, or a number is out of range.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int = 587,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        ssl: bool = False,
        from_address: str,
        from_name: str | None = None,
        timeout: float = 10.0,
        concurrency: int = 4,
        ssl_context: SSLContext | None = None,
    ) -> None:
        if starttls and ssl:
            raise ValueError("starttls and ssl are exclusive: use STARTTLS or implicit TLS")
        if not host:
            raise ValueError("host must not be empty")
        if not 0 < port < 65_536:
            raise ValueError("port must be between 1 and 65535")
        if timeout <= 0 or concurrency < 1:
            raise ValueError("timeout must be positive and concurrency at least 1")
        if not from_address.strip():
            raise ValueError("from_address must not be empty")
        _check_header("from_address", from_address)
        _check_header("from_name", from_name)
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.starttls = starttls
        self.ssl = ssl
        self.from_address = from_address
        self.from_name = from_name
        self.timeout = timeout
        self.concurrency = concurrency
        self._ssl_context = ssl_context
        self._limiter: anyio.CapacityLimiter | None = None

    def __repr__(self) -> str:
        password = None if self._password is None else "**********"
        return (
            f"{type(self).__name__}(host={self.host!r}, port={self.port!r}, "
            f"username={self.username!r}, password={password!r}, "
            f"starttls={self.starttls!r}, ssl={self.ssl!r}, from_address={self.from_address!r})"
        )

    def build(self, message: EmailMessage) -> email.message.EmailMessage:
        """Return the MIME message for *message*: text, plus an HTML alternative if any."""
        mime = email.message.EmailMessage()
        if self.from_name:
            mime["From"] = email.utils.formataddr((self.from_name, self.from_address))
        else:
            mime["From"] = self.from_address
        mime["To"] = _recipient(message)
        mime["Subject"] = message.subject
        mime["Date"] = email.utils.formatdate(usegmt=True)
        # An explicit domain: the default asks DNS for this host's FQDN.
        domain = self.from_address.rpartition("@")[2] or "localhost"
        mime["Message-ID"] = email.utils.make_msgid(domain=domain)
        mime.set_content(message.text)
        if message.html is not None:
            mime.add_alternative(message.html, subtype="html")
        return mime

    async def send(self, message: EmailMessage) -> None:
        """Send *message* from a worker thread.

        Raises:
            MailDeliveryError: The server was unreachable, refused the TLS
                handshake, the login or the message.
        """
        mime = self.build(message)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        await anyio.to_thread.run_sync(self._deliver, mime, limiter=self._limiter)

    def _context(self) -> SSLContext:
        if self._ssl_context is None:
            self._ssl_context = create_default_context()
        return self._ssl_context

    def _deliver(self, mime: email.message.EmailMessage) -> None:
        where = f"{self.host}:{self.port}"
        try:
            client: smtplib.SMTP
            if self.ssl:
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self._context()
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.starttls:
                    client.starttls(context=self._context())
                if self.username is not None:
                    client.login(self.username, self._password or "")
                client.send_message(mime)
        except UnicodeError:
            # The exception object would carry the whole string, password included.
            raise MailDeliveryError(
                f"could not send e-mail via {where}: the login or an address holds "
                "characters this server connection cannot encode"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            detail = f"{type(exc).__name__}: {exc}"
            if self._password:
                detail = detail.replace(self._password, "**********")
            raise MailDeliveryError(f"could not send e-mail via {where}: {detail}") from exc
