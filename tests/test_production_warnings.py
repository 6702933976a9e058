"""Unsafe production settings are named in one warning each, at startup; patterned
signing secrets are refused like repetitive ones."""

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from fastapi_userkit import UserKitSettings, include_user_router
from fastapi_userkit.mail import EmailMessage, EmailSender
from tests.conftest import SECRET


class Sink(EmailSender):
    async def send(self, message: EmailMessage) -> None:
        pass


def warnings_for(caplog: pytest.LogCaptureFixture, **kwargs: Any) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="fastapi_userkit"):
        include_user_router(FastAPI(), **kwargs)
    return [r.getMessage() for r in caplog.records if "unsafe for production" in r.getMessage()]


def settings(**values: Any) -> UserKitSettings:
    return UserKitSettings(secret_key=SECRET, **values)


PG = "postgresql+asyncpg://user@db.internal/app"


@pytest.mark.parametrize(
    ("values", "sender", "setting"),
    [
        ({"cookie_transport": True, "cookie_secure": False}, Sink(), "USERKIT_COOKIE_SECURE"),
        ({"frontend_url": "http://app.example.com"}, Sink(), "USERKIT_FRONTEND_URL"),
        ({"database_url": PG}, None, "USERKIT_SMTP_HOST"),
        ({"database_url": PG, "mfa_enabled": True}, Sink(), "USERKIT_WEBAUTHN_RP_ID"),
    ],
)
def test_each_unsafe_setting_is_named_once(
    caplog: pytest.LogCaptureFixture, values: dict[str, Any], sender: Any, setting: str
) -> None:
    found = warnings_for(caplog, settings=settings(**values), email_sender=sender)
    assert len(found) == 1
    assert setting in found[0]


def test_safe_and_development_settings_are_quiet(caplog: pytest.LogCaptureFixture) -> None:
    assert warnings_for(caplog, settings=settings(database_url=PG), email_sender=Sink()) == []
    passkeys = settings(database_url=PG, mfa_enabled=True, webauthn_rp_id="example.com")
    assert warnings_for(caplog, settings=passkeys, email_sender=Sink()) == []
    # a laptop: SQLite, the logging sender, a local frontend over http
    local = settings(frontend_url="http://localhost:5173", cookie_transport=True)
    assert warnings_for(caplog, settings=local) == []
    assert warnings_for(caplog, settings=settings(frontend_url="http://127.0.0.1:3000")) == []
    # cookies off: their Secure flag does not matter
    assert warnings_for(caplog, settings=settings(cookie_secure=False)) == []


@pytest.mark.parametrize(
    "secret",
    ["abcdefgh" * 4, "Xy7!Qp2#" * 5, "0123456789abcdef" * 2 + "0123456789"],
)
def test_patterned_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValidationError, match="too repetitive"):
        UserKitSettings(secret_key=secret)
    with pytest.raises(ValidationError, match="too repetitive"):
        UserKitSettings(secret_key=SECRET, previous_secret_keys=[secret])
