"""Passkeys in a real browser: headless Chromium with a virtual authenticator (the
DevTools WebAuthn domain) registers a passkey through the browser's own WebAuthn API,
then uses it as the second step of a password login and for a passwordless login,
with the functions the guide shows (docs_src/frontend/passkeys.js).

The page is served from `http://localhost:<port>`: WebAuthn needs a secure context
and a domain for the relying party id, and `localhost` is both.
"""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Server, clean_env
from tests.conftest import PASSWORD

pytestmark = pytest.mark.single_pass

HERE = Path(__file__).resolve().parent
SECRET = "9c4e7a1f3b8d2e6c0a5f9b3d7e1c4a8f2b6d0e9c3a7f1b5d8e2c6a0f4b9d3e7c"
EMAIL = "passkey@example.com"


@pytest.fixture
def passkey_app(start_server: Callable[..., Server], tmp_path: Path) -> Server:
    return start_server(
        "passkeys",
        lambda port: [
            sys.executable,
            "-m",
            "uvicorn",
            "main:app",
            "--app-dir",
            str(HERE / "passkey_app"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        ready_path="/openapi.json",
        env=clean_env(
            USERKIT_SECRET_KEY=SECRET,
            USERKIT_BCRYPT_ROUNDS="4",
            USERKIT_MFA_ENABLED="true",
            USERKIT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/passkeys.db",
        ),
    )


def call(browser: Any, script: str, *args: Any) -> Any:
    """Run `await <script>` in the page and return its result (or raise its error)."""
    outcome = browser.execute_async_script(
        f"""
        const done = arguments[arguments.length - 1];
        ({script})(...Array.from(arguments).slice(0, -1))
          .then(value => done({{value}}), error => done({{error: String(error)}}));
        """,
        *args,
    )
    assert "error" not in outcome, outcome["error"]
    return outcome["value"]


def test_a_virtual_passkey_registers_and_logs_in(browser: Any, passkey_app: Server) -> None:
    browser.execute_cdp_cmd("WebAuthn.enable", {"enableUI": False})
    authenticator = browser.execute_cdp_cmd(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )["authenticatorId"]
    page = passkey_app.url.replace("127.0.0.1", "localhost") + "/passkeys.html"
    browser.get(page)

    registered = call(
        browser,
        "async (email, password) => (await fetch('/auth/register', {method: 'POST', "
        "headers: {'Content-Type': 'application/json'}, body: JSON.stringify({email, password})}"
        ")).status",
        EMAIL,
        PASSWORD,
    )
    assert registered == 201
    log_in = "(email, password) => postJSON('/auth/jwt/login', {email, password})"
    login = call(browser, log_in, EMAIL, PASSWORD)
    assert login["status"] == 200, login
    added = call(browser, "addPasskey", login["body"]["access_token"], "Chromium")
    assert added["status"] == 201, added
    assert added["body"]["passkey"]["name"] == "Chromium"
    assert len(added["body"]["recovery_codes"]) == 10
    credentials = browser.execute_cdp_cmd(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator}
    )["credentials"]
    assert len(credentials) == 1 and credentials[0]["isResidentCredential"]

    # the password alone is not enough any more: the passkey is the second step
    step = call(browser, log_in, EMAIL, PASSWORD)
    assert (step["status"], step["body"]["detail"]) == (403, "LOGIN_MFA_REQUIRED")
    assert "passkey" in step["body"]["methods"]
    second = call(browser, "finishLoginWithPasskey", step["body"]["mfa_token"])
    assert second["status"] == 200, second
    assert second["body"]["refresh_token"]

    # and the passkey alone logs in, without the password
    passwordless = call(browser, "logInWithPasskey")
    assert passwordless["status"] == 200, passwordless
    me = call(
        browser,
        "async token => (await fetch('/users/me', {headers: {Authorization: `Bearer ${token}`}}))"
        ".json()",
        passwordless["body"]["access_token"],
    )
    assert me["email"] == EMAIL
    counted = browser.execute_cdp_cmd(
        "WebAuthn.getCredentials", {"authenticatorId": authenticator}
    )["credentials"][0]["signCount"]
    assert counted >= 2
