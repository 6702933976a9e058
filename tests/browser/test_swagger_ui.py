"""The demo app's Swagger UI at /docs, clicked through in a headless Chromium: register,
authorize with the OAuth2 password flow, then call `GET /users/me`.

The demo serves Swagger UI's files itself and the browser resolves no host name, so the
page works with nothing but loopback.
"""

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import WAIT, Server, clean_env
from tests.conftest import PASSWORD

pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parents[2]
SECRET = "5d41402abc4b2a76b9719d911017c592ae2f8b1e0c9d6a4f3b7e8d2c1a0f9e8d"
EMAIL = "swagger@example.com"


@pytest.fixture
def demo(start_server: Callable[..., Server], tmp_path: Path) -> Server:
    """The demo app on uvicorn, on a fresh SQLite file."""
    return start_server(
        "demo",
        lambda port: [
            sys.executable,
            "-m",
            "uvicorn",
            "main:app",
            "--app-dir",
            str(ROOT / "examples" / "demo"),
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
            USERKIT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/demo.db",
        ),
    )


#: A part of the page, found again at each look: Swagger UI re-renders freely.
Root = Callable[[], Any]


def wait(driver: Any) -> WebDriverWait[Any]:
    return WebDriverWait(
        driver, WAIT, poll_frequency=0.05, ignored_exceptions=[StaleElementReferenceException]
    )


def find_visible(root: Root, css: str) -> WebElement | None:
    for element in root().find_elements(By.CSS_SELECTOR, css):
        if element.is_displayed():
            return element  # type: ignore[no-any-return]
    return None


def shown(driver: Any, root: Root, css: str) -> WebElement:
    """The first displayed element matching *css* in *root*, once there is one."""
    element: WebElement = wait(driver).until(
        lambda _: find_visible(root, css) or False, f"no visible {css!r}"
    )
    return element


def press(driver: Any, root: Root, css: str) -> None:
    """Click the button *css* in *root* once it is displayed, enabled and not covered."""

    def attempt(_: Any) -> bool:
        button = find_visible(root, css)
        if button is None or not button.is_enabled():
            return False
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        try:
            button.click()
        except (ElementClickInterceptedException, ElementNotInteractableException):
            return False
        return True

    wait(driver).until(attempt, f"cannot press {css!r}")


def operation(driver: Any, method: str, path: str) -> Root:
    """The block of operation *method* *path*, found by its method class and path text
    (Swagger UI's element ids depend on operation ids and tags)."""
    xpath = (
        f"//div[contains(concat(' ', normalize-space(@class), ' '), ' opblock-{method} ')]"
        "[.//*[contains(concat(' ', normalize-space(@class), ' '), ' opblock-summary-path ')]"
        f"[@data-path='{path}' or normalize-space(.)='{path}']]"
    )
    wait(driver).until(
        ec.visibility_of_element_located((By.XPATH, xpath)), f"no {method} {path} in the page"
    )
    return lambda: driver.find_element(By.XPATH, xpath)


def execute(driver: Any, method: str, path: str, body: str | None = None) -> tuple[str, str]:
    """Open the operation, press *Try it out*, type *body*, press *Execute*; return the
    status and the response body the page shows."""
    block = operation(driver, method, path)
    if "is-open" not in (block().get_attribute("class") or "").split():
        press(driver, block, ".opblock-summary-control")
    press(driver, block, "button.try-out__btn")
    if body is not None:
        editor = shown(driver, block, "textarea.body-param__text")
        editor.send_keys(Keys.CONTROL, "a")
        editor.send_keys(Keys.DELETE)
        editor.send_keys(body)

        def typed(_: Any) -> bool:
            value = shown(driver, block, "textarea.body-param__text").get_attribute("value")
            return bool(value) and json.loads(value) == json.loads(body)

        wait(driver).until(typed, "the request body was not typed in")
    press(driver, block, "button.execute")

    def response(_: Any) -> tuple[str, str] | bool:
        status = find_visible(block, ".live-responses-table .response .response-col_status")
        content = find_visible(block, ".live-responses-table .response-col_description pre")
        if status is None or content is None or not status.text.strip().isdigit():
            return False
        return status.text.strip(), content.text

    answer: tuple[str, str] = wait(driver).until(response, f"no response to {method} {path}")
    return answer


def whole_page(driver: Any) -> Root:
    return lambda: driver


def authorize_dialog(driver: Any) -> Root:
    return lambda: driver.find_element(By.CSS_SELECTOR, ".modal-ux")


def test_register_authorize_and_read_me(browser: Any, demo: Server) -> None:
    browser.get(f"{demo.url}/docs")
    page, dialog = whole_page(browser), authorize_dialog(browser)

    # register
    body = json.dumps({"email": EMAIL, "password": PASSWORD})
    status, shown_body = execute(browser, "post", "/auth/register", body)
    assert status == "201", shown_body
    assert json.loads(shown_body)["email"] == EMAIL

    # Authorize: the OAuth2 password flow of the Authorize dialog
    press(browser, page, ".auth-wrapper button.authorize")
    # the scopes the routes require are offered (the admin routes': users:admin)
    wait(browser).until(lambda _: "users:admin" in dialog().text, "the dialog offers no scopes")
    shown(browser, dialog, "input[data-name='username']").send_keys(EMAIL)
    shown(browser, dialog, "input[data-name='password']").send_keys(PASSWORD)
    press(browser, dialog, ".auth-btn-wrapper button.authorize")
    # once authorized, the dialog offers to log out
    wait(browser).until(
        lambda _: any(
            b.text.strip() == "Logout" for b in dialog().find_elements(By.TAG_NAME, "button")
        ),
        "the dialog does not show the flow as authorized",
    )
    press(browser, dialog, ".auth-btn-wrapper button.btn-done")
    wait(browser).until(
        ec.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")), "dialog still open"
    )
    shown(browser, page, ".auth-wrapper button.authorize.locked")

    # the token is sent with GET /users/me
    status, shown_body = execute(browser, "get", "/users/me")
    assert status == "200", shown_body
    assert json.loads(shown_body)["email"] == EMAIL
    me = operation(browser, "get", "/users/me")
    assert "Authorization: Bearer " in shown(browser, me, ".curl-command").text
    assert EMAIL in shown(browser, me, ".live-responses-table").text
    assert "Traceback" not in demo.output()
