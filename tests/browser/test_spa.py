"""examples/spa in a headless Chromium: a page on one origin logs in to the API on
another with the cookie transport, refreshes its session and logs out.

The page (python -m http.server) and the API (uvicorn) listen on two ports of 127.0.0.1:
two origins, so CORS applies, but one host name, so they share cookies.
"""

import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WAIT, Server, clean_env
from tests.conftest import PASSWORD

pytestmark = pytest.mark.single_pass

SPA = Path(__file__).resolve().parents[2] / "examples" / "spa"
SECRET = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"
EMAIL = "spa@example.com"
COOKIES = {"userkit_access", "userkit_refresh", "userkit_csrf"}


@pytest.fixture
def servers(start_server: Callable[..., Server], tmp_path: Path) -> tuple[Server, Server]:
    """The page's static server and the API, each on a free port of 127.0.0.1."""
    site = tmp_path / "site"
    site.mkdir()
    for name in ("index.html", "app.js"):
        shutil.copy(SPA / name, site / name)
    page = start_server(
        "page",
        lambda port: [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(site),
        ],
        ready_path="/index.html",
    )
    api = start_server(
        "api",
        lambda port: [
            sys.executable,
            "-m",
            "uvicorn",
            "api:app",
            "--app-dir",
            str(SPA),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        ready_path="/openapi.json",
        env=clean_env(
            SPA_ORIGINS=page.url,
            USERKIT_SECRET_KEY=SECRET,
            USERKIT_BCRYPT_ROUNDS="4",
            USERKIT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/spa.db",
        ),
    )
    # the page's config.js, pointing at this API
    (site / "config.js").write_text(f'window.SPA_CONFIG = {{ apiBase: "{api.url}" }};\n')
    return page, api


def text_of(driver: Any, element_id: str) -> str:
    """The text element *element_id* shows; empty when there is no such element."""
    elements = driver.find_elements(By.ID, element_id)
    return str(elements[0].text).strip() if elements else ""


def shows(driver: Any, element_id: str, expected: str) -> None:
    """Wait until element *element_id* shows exactly *expected*."""
    WebDriverWait(
        driver, WAIT, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
    ).until(
        lambda d: text_of(d, element_id) == expected,
        f"#{element_id} does not show {expected!r}",
    )


def kit_cookies(driver: Any) -> dict[str, str]:
    """The kit's cookies the browser holds for 127.0.0.1 (any port)."""
    return {c["name"]: c["value"] for c in driver.get_cookies() if c["name"] in COOKIES}


def test_log_in_refresh_and_log_out(browser: Any, servers: tuple[Server, Server]) -> None:
    page, api = servers
    with httpx.Client(trust_env=False, timeout=10) as client:
        registered = client.post(
            f"{api.url}/auth/register", json={"email": EMAIL, "password": PASSWORD}
        )
        assert registered.status_code == 201, registered.text

    browser.get(f"{page.url}/index.html")
    shows(browser, "identity", "Not logged in.")

    # log in through the form
    assert browser.find_element(By.ID, "login-form").is_displayed()
    browser.find_element(By.ID, "email").send_keys(EMAIL)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    shows(browser, "status", "Logged in.")
    shows(browser, "user-email", EMAIL)
    assert not browser.find_element(By.ID, "login-form").is_displayed()
    # the API's cookies, set on 127.0.0.1, are the page's too
    cookies = kit_cookies(browser)
    assert set(cookies) == COOKIES
    # but the page's script sees only the CSRF cookie: the tokens are HttpOnly
    seen = browser.execute_script("return document.cookie")
    assert {c.split("=", 1)[0] for c in seen.split("; ")} == {"userkit_csrf"}

    # refresh: new cookies, same user
    browser.find_element(By.ID, "refresh").click()
    shows(browser, "status", "Session refreshed.")
    shows(browser, "user-email", EMAIL)
    refreshed = kit_cookies(browser)
    assert set(refreshed) == COOKIES
    assert refreshed["userkit_refresh"] != cookies["userkit_refresh"]
    assert refreshed["userkit_csrf"] != cookies["userkit_csrf"]

    # log out
    browser.find_element(By.ID, "logout").click()
    shows(browser, "status", "Logged out.")
    shows(browser, "identity", "Not logged in.")
    assert browser.find_element(By.ID, "login-form").is_displayed()
    assert not browser.find_element(By.ID, "session-actions").is_displayed()
    assert kit_cookies(browser) == {}

    # a reload shows nobody
    browser.refresh()
    shows(browser, "identity", "Not logged in.")
    assert browser.find_elements(By.ID, "user-email") == []
    assert browser.find_element(By.ID, "login-form").is_displayed()

    assert "Traceback" not in api.output()
