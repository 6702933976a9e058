"""The frontend functions of the guides (docs_src/frontend/*.js), run in a headless
Chromium against a real app: forgot and reset a password, verify an address, change it,
delete the account.

The app runs in this process (uvicorn in a thread), so the test reads the e-mails it
sends; the page and the API share an origin, as the guides assume.
"""

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from fastapi_userkit import UserKitSettings, include_user_router
from tests.browser.conftest import WAIT
from tests.conftest import PASSWORD, SECRET
from tests.security._mail import Outbox

pytestmark = pytest.mark.single_pass

FRONTEND = Path(__file__).resolve().parents[2] / "docs_src" / "frontend"
SCRIPTS = ("reset_password", "verify_email", "change_email", "delete_account")
NEW_PASSWORD = "another-horse-battery-7"
PAGE = "<!doctype html><title>guides</title>" + "".join(
    f'<script src="/js/{name}.js"></script>' for name in SCRIPTS
)


class Site:
    def __init__(self, base: str, outbox: Outbox) -> None:
        self.base, self.outbox = base, outbox

    def token(self, kind: str, to: str = "alice@example.com") -> str:
        """The token of the newest link to *kind* (`reset`, `verify`, `confirm`) sent to
        *to*, waiting for it: mail leaves after the response, in no set order.
        """
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            for message in reversed(self.outbox.messages):
                found = re.search(r"token=([A-Za-z0-9_.-]+)", message.text)
                if found and message.to == to and kind in message.text.split("token=")[0]:
                    return found.group(1)
            time.sleep(0.05)
        raise AssertionError(f"no {kind} link to {to}: {self.outbox.messages}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    port, outbox = _free_port(), Outbox()
    base = f"http://127.0.0.1:{port}"
    app = FastAPI()
    settings = UserKitSettings(
        secret_key=SECRET,
        bcrypt_rounds=4,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/guides.db",
        frontend_url=base,
        rate_limit_enabled=False,
    )
    include_user_router(app, settings=settings, email_sender=outbox)
    app.mount("/js", StaticFiles(directory=FRONTEND), name="js")

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the app did not start"
    try:
        yield Site(base, outbox)
    finally:
        server.should_exit = True
        thread.join(WAIT)


def _run(browser: Any, call: str) -> Any:
    """Await the JavaScript expression *call* in the page and return its value."""
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"Promise.resolve().then(() => {call})"
        ".then(done, (error) => done({thrown: String(error)}));"
    )


def _login(site: Site, password: str) -> str:
    form = {"username": "alice@example.com", "password": password}
    answer = httpx.post(f"{site.base}/auth/jwt/login", data=form)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_the_guides_frontend_functions_work_in_a_browser(browser: Any, site: Site) -> None:
    body = {"email": "alice@example.com", "password": PASSWORD}
    assert httpx.post(f"{site.base}/auth/register", json=body).status_code == 201
    browser.get(f"{site.base}/page")

    # Reset a forgotten password (docs/how-to/reset-password.md).
    assert _run(browser, 'forgotPassword("alice@example.com")') == {"ok": True}
    token = site.token("reset")
    weak = _run(browser, f'resetPassword("{token}", "password")')
    assert weak["ok"] is False and weak["reasons"]
    assert _run(browser, f'resetPassword("{token}", "{NEW_PASSWORD}")') == {"ok": True}
    spent = _run(browser, f'resetPassword("{token}", "yet-another-horse-4")')
    assert spent == {"ok": False, "expired": True}

    # Verify the address (docs/how-to/verify-email.md), on the page the link opens.
    assert _run(browser, 'requestVerification("alice@example.com")') is True
    browser.get(f"{site.base}/page?token={site.token('verify')}")
    assert _run(browser, "verify()") == "verified"
    assert _run(browser, "verify()") == "verified"  # already verified: still fine

    # Change the address (docs/how-to/change-email.md).
    access = _login(site, NEW_PASSWORD)
    wrong = _run(browser, f'requestEmailChange("{access}", "nope-nope-nope", "a2@example.com")')
    assert wrong == {"ok": False, "status": 400, "code": "CURRENT_PASSWORD_INVALID"}
    change = f'requestEmailChange("{access}", "{NEW_PASSWORD}", "alice2@example.com")'
    assert _run(browser, change) == {"ok": True}
    link = site.token("confirm", to="alice2@example.com")
    browser.get(f"{site.base}/page?token={link}")
    confirmed = _run(browser, "confirmEmailChange()")
    assert confirmed["ok"] is True and confirmed["user"]["email"] == "alice2@example.com"
    assert _run(browser, "confirmEmailChange()")["ok"] is False  # used once

    # Delete the account (docs/how-to/delete-account.md).
    form = {"username": "alice2@example.com", "password": NEW_PASSWORD}
    access = httpx.post(f"{site.base}/auth/jwt/login", data=form).json()["access_token"]
    assert _run(browser, f'deleteAccount("{access}", "wrong-password-9")') is False
    assert _run(browser, f'deleteAccount("{access}", "{NEW_PASSWORD}")') is True
    assert httpx.post(f"{site.base}/auth/jwt/login", data=form).status_code == 400
