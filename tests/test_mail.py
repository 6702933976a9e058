"""The e-mail layer against a real SMTP server (aiosmtpd) on 127.0.0.1."""

import asyncio
import datetime
import email
import email.policy
import ipaddress
import logging
import socket
import ssl
from collections.abc import Callable, Iterator
from email.message import EmailMessage as MIMEMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fastapi_userkit.exceptions import UserKitError
from fastapi_userkit.mail import (
    EmailMessage,
    LoggingEmailSender,
    MailDeliveryError,
    SMTPEmailSender,
)
from fastapi_userkit.mail_templates import EmailTemplates

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

HOST = "127.0.0.1"
USER, PASSWORD = "mailer", "s3cret-Pa55word"
LINK = "https://app.example.com/reset?token=abc.def&x=<1>"


# --- a real SMTP server -------------------------------------------------------


class Sink:
    """aiosmtpd handler that keeps every message, optionally after a delay."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.delay = 0.0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        if self.delay:
            await asyncio.sleep(self.delay)
        self.envelopes.append(envelope)
        return "250 OK"

    def received(self) -> MIMEMessage:
        assert len(self.envelopes) == 1
        content = self.envelopes[0].content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, MIMEMessage)
        return parsed


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # False: the server answers 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., tuple[Sink, int]]]:
    controllers: list[Controller] = []

    def start(**kwargs: Any) -> tuple[Sink, int]:
        sink, port = Sink(), free_port()
        controller = Controller(sink, hostname=HOST, port=port, ready_timeout=5, **kwargs)
        controller.start()
        controllers.append(controller)
        return sink, port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1: (server context, client context)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "userkit test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


def sender(port: int, **overrides: Any) -> SMTPEmailSender:
    options: dict[str, Any] = {
        "host": HOST,
        "port": port,
        "starttls": False,
        "from_address": "kit@example.com",
        "from_name": "Kit Ä",
        "timeout": 5.0,
    }
    options.update(overrides)
    return SMTPEmailSender(**options)


def hello(to: str = "ada@example.com") -> EmailMessage:
    return EmailMessage(to=to, subject="Hello", text=f"Open {LINK}\n", to_name="Ada L.")


# --- EmailMessage -------------------------------------------------------------


@pytest.mark.parametrize("field", ["to", "to_name", "subject"])
@pytest.mark.parametrize("char", ["\r", "\n", "\0"], ids=["CR", "LF", "NUL"])
def test_message_refuses_header_injection(field: str, char: str) -> None:
    values = {"to": "ada@example.com", "subject": "Hi", "text": "body", "to_name": "Ada"}
    values[field] += f"{char}Bcc: eve@example.com"
    with pytest.raises(ValueError, match=field):
        EmailMessage(**values)


@pytest.mark.parametrize("to", ["", "   "])
def test_message_refuses_empty_recipient(to: str) -> None:
    with pytest.raises(ValueError, match="to"):
        EmailMessage(to=to, subject="Hi", text="body")


def test_message_keeps_line_breaks_in_bodies() -> None:
    message = EmailMessage(to="a@example.com", subject="Hi", text="a\r\nb", html="<p>\n</p>")
    assert message.text == "a\r\nb"


# --- LoggingEmailSender -------------------------------------------------------


async def test_logging_sender_logs_the_whole_message(caplog: pytest.LogCaptureFixture) -> None:
    await LoggingEmailSender().send(hello())
    (record,) = [r for r in caplog.records if r.name == "fastapi_userkit.mail"]
    assert record.levelno == logging.WARNING
    text = record.getMessage()
    first_line = text.splitlines()[0]
    assert "logged, not sent" in first_line
    assert "USERKIT_SMTP_HOST" in first_line
    assert "ada@example.com" in text
    assert "Subject: Hello" in text
    assert LINK in text


# --- SMTPEmailSender: configuration -------------------------------------------


def test_starttls_and_ssl_are_exclusive() -> None:
    with pytest.raises(ValueError, match="exclusive"):
        SMTPEmailSender(host=HOST, starttls=True, ssl=True, from_address="kit@example.com")


@pytest.mark.parametrize("field", ["from_address", "from_name"])
def test_sender_addresses_refuse_line_breaks(field: str) -> None:
    values = {"from_address": "kit@example.com", "from_name": "Kit"}
    values[field] += "\r\nBcc: eve@example.com"
    with pytest.raises(ValueError, match=field):
        SMTPEmailSender(host=HOST, **values)


def test_repr_masks_password() -> None:
    smtp = SMTPEmailSender(
        host=HOST, username=USER, password=PASSWORD, from_address="kit@example.com"
    )
    assert PASSWORD not in repr(smtp)
    assert "**********" in repr(smtp)
    assert smtp._limiter is None  # created on first send, inside the event loop


def test_mail_delivery_error_is_a_userkit_error() -> None:
    assert issubclass(MailDeliveryError, UserKitError)


# --- SMTPEmailSender: delivery ------------------------------------------------


async def test_plain_smtp_delivers_text_html_and_headers(
    smtp_server: Callable[..., tuple[Sink, int]],
) -> None:
    sink, port = smtp_server()
    message = EmailTemplates().reset_password(email="ada@example.com", link=LINK, ttl_minutes=60)

    await sender(port).send(message)

    received = sink.received()
    assert sink.envelopes[0].rcpt_tos == ["ada@example.com"]
    assert sink.envelopes[0].mail_from == "kit@example.com"
    assert received["From"].addresses[0].display_name == "Kit Ä"
    assert received["From"].addresses[0].addr_spec == "kit@example.com"
    assert received["To"] == "ada@example.com"
    assert received["Subject"] == message.subject
    assert received["Message-ID"].endswith("@example.com>")
    assert received["Date"]
    plain = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert LINK in plain.get_content()
    assert "x=&lt;1&gt;" in html.get_content()


async def test_plain_smtp_without_html_and_with_recipient_name(
    smtp_server: Callable[..., tuple[Sink, int]],
) -> None:
    sink, port = smtp_server()
    await sender(port, from_name=None).send(hello())
    received = sink.received()
    assert received["From"] == "kit@example.com"
    assert received["To"].addresses[0].display_name == "Ada L."
    assert received.get_body(("html",)) is None
    assert not received.is_multipart()


async def test_login_with_right_password(smtp_server: Callable[..., tuple[Sink, int]]) -> None:
    sink, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    await sender(port, username=USER, password=PASSWORD).send(hello())
    assert sink.received()["Subject"] == "Hello"


async def test_login_with_wrong_password(smtp_server: Callable[..., tuple[Sink, int]]) -> None:
    sink, port = smtp_server(authenticator=authenticator, auth_require_tls=False)
    wrong = "wrong-Pa55word-xyz"
    with pytest.raises(MailDeliveryError) as caught:
        await sender(port, username=USER, password=wrong).send(hello())
    assert "SMTPAuthenticationError" in str(caught.value)
    assert wrong not in str(caught.value)
    assert wrong not in repr(caught.value)
    assert sink.envelopes == []


async def test_starttls_with_login(
    smtp_server: Callable[..., tuple[Sink, int]],
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls
    sink, port = smtp_server(
        tls_context=server_ctx, require_starttls=True, authenticator=authenticator
    )
    smtp = sender(port, starttls=True, ssl_context=client_ctx, username=USER, password=PASSWORD)
    await smtp.send(hello())
    assert sink.received()["Subject"] == "Hello"


async def test_starttls_verifies_the_certificate_by_default(
    smtp_server: Callable[..., tuple[Sink, int]],
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    sink, port = smtp_server(tls_context=tls[0], require_starttls=True)
    with pytest.raises(MailDeliveryError, match="SSLCertVerificationError"):
        await sender(port, starttls=True).send(hello())
    assert sink.envelopes == []


async def test_starttls_never_falls_back_to_plain(
    smtp_server: Callable[..., tuple[Sink, int]],
) -> None:
    sink, port = smtp_server()  # offers no STARTTLS
    with pytest.raises(MailDeliveryError, match="STARTTLS"):
        await sender(port, starttls=True, username=USER, password=PASSWORD).send(hello())
    assert sink.envelopes == []


async def test_implicit_tls(
    smtp_server: Callable[..., tuple[Sink, int]],
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_ctx, client_ctx = tls
    sink, port = smtp_server(ssl_context=server_ctx)
    await sender(port, ssl=True, ssl_context=client_ctx).send(hello())
    assert sink.received()["Subject"] == "Hello"


async def test_server_down() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(MailDeliveryError, match=f"{HOST}:{port}"):
        await sender(port, password=PASSWORD, username=USER).send(hello())


async def test_sending_does_not_block_the_event_loop(
    smtp_server: Callable[..., tuple[Sink, int]],
) -> None:
    sink, port = smtp_server()
    sink.delay = 0.5
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        async with asyncio.timeout(5):
            await sender(port).send(hello())
    finally:
        task.cancel()
    assert len(sink.envelopes) == 1
    assert ticks >= 10  # about 50 expected; a blocked loop would give 0


# --- templates ----------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>@x.com"
TEMPLATES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("reset_password", {"email": HOSTILE, "link": LINK, "ttl_minutes": 60}, [LINK]),
    ("verify_email", {"email": HOSTILE, "link": LINK, "ttl_minutes": 1440}, [LINK]),
    ("confirm_email_change", {"new_email": HOSTILE, "link": LINK, "ttl_minutes": 30}, [LINK]),
    ("email_change_notice", {"old_email": HOSTILE, "new_email": "b<b>@x.com"}, []),
    (
        "registration_attempt",
        {"email": HOSTILE, "login_link": LINK, "reset_link": LINK + "&r=1"},
        [LINK, LINK + "&r=1"],
    ),
    ("registration_attempt", {"email": HOSTILE, "login_link": None, "reset_link": None}, []),
    ("password_changed", {"email": HOSTILE}, []),
    ("account_deleted", {"email": HOSTILE}, []),
]


class Acme(EmailTemplates):
    app_name = "Acme <Corp>"


@pytest.mark.parametrize(("name", "kwargs", "links"), TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_template(name: str, kwargs: dict[str, Any], links: list[str]) -> None:
    message: EmailMessage = getattr(Acme(), name)(**kwargs)
    assert message.to == HOSTILE
    assert message.subject
    assert not any(char in message.subject for char in "\r\n\0")
    assert "Acme <Corp>" in message.subject
    assert message.html is not None
    assert "<script>" not in message.html
    assert "&lt;script&gt;" in message.html
    assert "Acme &lt;Corp&gt;" in message.html
    assert "<b>" not in message.html
    for link in links:
        assert link in message.text
        assert f'href="{link.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")}"' in (
            message.html
        )


def test_template_durations() -> None:
    templates = EmailTemplates()
    assert (
        "60 minutes"
        not in templates.reset_password(email="a@x.com", link=LINK, ttl_minutes=60).text
    )
    assert "1 hour." in templates.reset_password(email="a@x.com", link=LINK, ttl_minutes=60).text
    assert "2 days" in templates.verify_email(email="a@x.com", link=LINK, ttl_minutes=2880).text
    assert "1 minute." in templates.verify_email(email="a@x.com", link=LINK, ttl_minutes=1).text
    assert "our service" in templates.account_deleted(email="a@x.com").subject


def test_template_app_name_cannot_inject_headers() -> None:
    class Bad(EmailTemplates):
        app_name = "x\r\nBcc: eve@example.com"

    with pytest.raises(ValueError, match="subject"):
        Bad().password_changed(email="a@x.com")


async def test_kit_sends_reset_mail_through_smtp_settings(
    smtp_server: Callable[..., tuple[Sink, int]], make_host: Any, make_settings: Any
) -> None:
    """End to end: USERKIT_SMTP_* settings, forgot-password, a real SMTP server."""
    sink, port = smtp_server()
    settings = make_settings(
        smtp_host=HOST,
        smtp_port=port,
        smtp_starttls=False,
        mail_from="accounts@example.com",
        mail_from_name="Example Accounts",
        frontend_url="https://app.example.com",
    )
    host = await make_host(settings=settings)
    await host.register("reader@example.com")
    response = await host.client.post("/auth/forgot-password", json={"email": "reader@example.com"})
    assert response.status_code == 202
    for _ in range(100):  # delivery runs after the response; bounded wait
        if sink.envelopes:
            break
        await asyncio.sleep(0.05)
    message = sink.received()
    assert message["To"] == "reader@example.com"
    assert "accounts@example.com" in message["From"]
    body = message.get_body(("plain",))
    assert body is not None
    assert "https://app.example.com/reset-password?token=" in body.get_content()
