"""A headless Chromium driven by Selenium, and servers started as subprocesses on free
loopback ports.

Chromium and its driver come from Debian's `chromium` and `chromium-driver` packages
(`make test-programs` installs them where it can). Without them the browser tests skip;
in CI (`CI=true`) they fail instead.
"""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests._relay import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Seconds a test waits for something to appear in the page.
WAIT = 15.0
START_TIMEOUT = 30.0  # seconds for a server to answer
STOP_TIMEOUT = 10.0  # seconds for a server to exit after SIGTERM, then after SIGKILL
START_ATTEMPTS = 3  # another free port when the one picked was taken meanwhile

_BROWSER = pytest.StashKey[tuple[Any, Path]]()


def _browser_unavailable(reason: str) -> None:
    """Skip where no browser could be installed; fail in CI, where it must be."""
    message = f"no headless Chromium: {reason} (make test-programs installs it as root)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}; CI requires it")
    pytest.skip(message)


@pytest.fixture
def browser(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh headless Chromium, with a profile of its own; it only reaches loopback."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        _browser_unavailable(f"{' and '.join(missing)} not found")

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # Chromium refuses its sandbox to root, and most containers
        "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
        "--window-size=1280,1024",
        "--no-proxy-server",
        # no host name resolves: pages load nothing but what 127.0.0.1 (localhost) serves
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ):
        options.add_argument(argument)
    service = Service(str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    request.node.stash[_BROWSER] = (driver, tmp_path)
    try:
        driver.set_page_load_timeout(WAIT)
        driver.set_script_timeout(WAIT)
        yield driver
    finally:
        driver.quit()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, keep a screenshot and the HTML of the page in the test's tmp_path."""
    report = yield
    if report.when == "call" and report.failed and _BROWSER in item.stash:
        driver, folder = item.stash[_BROWSER]
        try:
            driver.save_screenshot(str(folder / "failure.png"))
            (folder / "failure.html").write_text(driver.page_source, encoding="utf-8")
            saved = f"screenshot and page: {folder / 'failure.png'}, {folder / 'failure.html'}"
        except Exception as exc:  # a crashed browser must not hide the test's own error
            saved = f"no screenshot: {exc!r}"
        report.sections.append(("browser", saved))
    return report


class Server:
    """One server process on a free loopback port, its output kept in a log file."""

    def __init__(
        self,
        name: str,
        command: Callable[[int], list[str]],
        *,
        ready_path: str,
        env: dict[str, str],
        cwd: Path,
        log: Path,
    ) -> None:
        self.name = name
        self.command = command
        self.ready_path = ready_path
        self.env = env
        self.cwd = cwd
        self.log = log
        self.port = 0
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start on a free port and wait until it answers; another port if that one was
        taken between its choice and the bind."""
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
                    self.command(self.port),
                    cwd=self.cwd,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return
            self.stop()
            if "address already in use" not in self.output().lower():
                break
        pytest.fail(f"{self.name} did not start:\n{self.output()}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(trust_env=False, timeout=2) as client:
            for _ in range(int(START_TIMEOUT / 0.05)):
                try:
                    client.get(f"{self.url}{self.ready_path}")
                    return True
                except httpx.TransportError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    return False
                time.sleep(0.05)
        return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start servers for one test; each is stopped by its process id afterwards."""
    servers: list[Server] = []

    def start(
        name: str,
        command: Callable[[int], list[str]],
        *,
        ready_path: str = "/",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Server:
        server = Server(
            name,
            command,
            ready_path=ready_path,
            env=env if env is not None else clean_env(),
            cwd=cwd or tmp_path,
            log=tmp_path / f"{name}.log",
        )
        servers.append(server)
        server.start()
        return server

    yield start
    for server in reversed(servers):
        server.stop()


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any `USERKIT_` variable, plus *values*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}
    env.update(values)
    return env
