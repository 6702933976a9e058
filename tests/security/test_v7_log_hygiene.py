"""ASVS 4.0.3 V7.1.1 and V7.1.2: no password, token, secret or password hash reaches a
log record, at any level, in any account flow, whether it succeeds or is refused.

Mail goes to an outbox here: the development `LoggingEmailSender` logs the links it
would send, by design and with a warning at startup.
"""

import logging
from typing import Any

import pytest

from tests.conftest import PASSWORD, SECRET, Host
from tests.security._mail import Outbox

NEW_PASSWORD = "another-horse-battery-7"
RESET_PASSWORD = "a-third-horse-battery-5"
WRONG_PASSWORD = "not-the-password-at-all-3"


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


async def test_v7_1_1_no_secret_in_any_log_record(
    make_host: Any, make_settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    outbox = Outbox()
    h: Host = await make_host(
        settings=make_settings(frontend_url="https://app.example"), email_sender=outbox
    )
    c = h.client
    secrets: set[str] = {SECRET, PASSWORD, NEW_PASSWORD, RESET_PASSWORD, WRONG_PASSWORD}

    async def remember_hashes() -> None:
        page = await h.kit.users.list(limit=100)
        secrets.update(user.hashed_password for user in page.items)

    assert (await h.register()).status_code == 201
    await h.register()  # taken
    await remember_hashes()
    form = {"username": "alice@example.com", "password": PASSWORD}
    tokens = (await c.post("/auth/jwt/login", data=form)).json()
    secrets.update((tokens["access_token"], tokens["refresh_token"]))
    await c.post("/auth/jwt/login", data=form | {"password": WRONG_PASSWORD})
    me = {"Authorization": f"Bearer {tokens['access_token']}"}
    await c.get("/users/me", headers=me)
    await c.get("/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}x"})
    await c.post(
        "/users/me/password",
        headers=me,
        json={"current_password": WRONG_PASSWORD, "new_password": NEW_PASSWORD},
    )
    await c.post(
        "/users/me/password",
        headers=me,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    await remember_hashes()
    refreshed = await c.post("/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]})
    if refreshed.status_code == 200:
        secrets.update((refreshed.json()["access_token"], refreshed.json()["refresh_token"]))
    await c.post("/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]})  # reuse
    await c.post("/auth/request-verify-token", json={"email": "alice@example.com"})
    await c.post("/auth/forgot-password", json={"email": "alice@example.com"})
    secrets.update(outbox.tokens())
    assert outbox.tokens(), [m.text for m in outbox.messages]
    for token in outbox.tokens():
        await c.post("/auth/verify", json={"token": token})
        await c.post("/auth/reset-password", json={"token": token, "password": RESET_PASSWORD})
        await c.post("/auth/reset-password", json={"token": token, "password": RESET_PASSWORD})
    await remember_hashes()
    await c.post(
        "/auth/register",
        json={"email": "bob@example.com", "password": PASSWORD, "is_superuser": "x"},
    )

    assert len(caplog.records) > 0
    leaks = [
        (record.name, record.levelname, secret[:12])
        for record in caplog.records
        for secret in secrets
        if secret and secret in _record_text(record)
    ]
    assert leaks == [], sorted({(name, level) for name, level, _ in leaks})
