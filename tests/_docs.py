"""Helpers for the tests of the documentation: its pages, its code blocks, and the
files under docs_src/ that the pages include."""

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DOCS_SRC = ROOT / "docs_src"
VENV_BIN = Path(sys.executable).parent

#: Pages left out of the snippet rules: the security model and the ASVS pages.
EXCLUDED_PAGES = {DOCS / "explanation" / "security.md"}
EXCLUDED_DIRS = {DOCS / "security"}

#: A `--8<-- "path"` or `--8<-- "path:section"` line of pymdownx.snippets.
INCLUDE = re.compile(r'^[ \t]*--8<--[ \t]+"(?P<path>[^":]+)(?::(?P<section>[a-z][-_0-9a-z]*))?"$')


def pages() -> list[Path]:
    """README.md and the documentation pages the snippet rules apply to."""
    found = [ROOT / "README.md"]
    for page in sorted(DOCS.rglob("*.md")):
        if page in EXCLUDED_PAGES or any(d in page.parents for d in EXCLUDED_DIRS):
            continue
        found.append(page)
    return found


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page."""

    page: Path
    line: int
    language: str
    body: str  # dedented

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    re.S | re.M,
)


def blocks(page: Path, language: str | None = None) -> list[Block]:
    """The fenced code blocks of *page* (of *language* only, when given), in order."""
    text = page.read_text("utf-8")
    found = []
    for match in _FENCE.finditer(text):
        if language is not None and match["lang"] != language:
            continue
        line = text.count("\n", 0, match.start()) + 1
        found.append(Block(page, line, match["lang"], textwrap.dedent(match["body"])))
    return found


def block(page: Path, language: str, *containing: str) -> Block:
    """The one block of *language* on *page* whose text holds every string of *containing*."""
    matching = [b for b in blocks(page, language) if all(c in b.body for c in containing)]
    assert len(matching) == 1, (
        f"{page.name}: {len(matching)} ```{language} blocks hold {containing}"
    )
    return matching[0]


def block_exactly(page: Path, language: str, body: str) -> Block:
    """The block of *language* on *page* that holds *body* and nothing else."""
    matching = [b for b in blocks(page, language) if b.body == body]
    assert matching, f"{page.name}: no ```{language} block is {body!r}"
    return matching[0]


def includes(body: str) -> list[tuple[str, str | None]]:
    """The (path, section) of every include line of a block."""
    return [(m["path"], m["section"]) for line in body.splitlines() if (m := INCLUDE.match(line))]


def sql_statements(path: Path) -> list[str]:
    """The statements of a .sql file of docs_src, without its comment lines."""
    lines = [line for line in path.read_text("utf-8").splitlines() if not line.startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# --- docs_src modules -----------------------------------------------------------------


def purge(prefix: str = "myapp") -> None:
    """Forget the modules of the package *prefix*: each docs_src folder has its own `myapp`."""
    for name in [n for n in sys.modules if n == prefix or n.startswith(f"{prefix}.")]:
        del sys.modules[name]


@contextmanager
def importable(folder: Path) -> Iterator[None]:
    """Make the modules of *folder* (its `myapp` package) importable, then forget them."""
    purge()
    sys.path.insert(0, str(folder))
    importlib.invalidate_caches()
    bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ there
    try:
        yield
    finally:
        sys.dont_write_bytecode = bytecode
        sys.path.remove(str(folder))
        purge()


def load(path: Path, replace: dict[str, str] | None = None) -> ModuleType:
    """Execute the docs_src file *path* as a fresh module, as `python path` would import it.

    *replace* swaps strings of its source first, for placeholders such as a database server
    that does not exist here. The folder of the file, and the one above it, are on
    `sys.path` meanwhile, so that `from myapp.main import kit` finds the page's `myapp`.
    """
    source = path.read_text("utf-8")
    for old, new in (replace or {}).items():
        assert old in source, f"{old!r} not in {path}"
        source = source.replace(old, new)
    name = f"docs_snippet_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_loader(name, loader=None, origin=str(path))
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    sys.modules[name] = module
    folders = [path.parent, path.parent.parent]
    try:
        for folder in folders:
            sys.path.insert(0, str(folder))
        importlib.invalidate_caches()
        exec(compile(source, str(path), "exec"), module.__dict__)  # noqa: S102 - our own docs
    finally:
        for folder in folders:
            sys.path.remove(str(folder))
        del sys.modules[name]
    return module


@asynccontextmanager
async def serve(
    app: FastAPI, base_url: str = "http://testserver"
) -> AsyncIterator[httpx.AsyncClient]:
    """The app started (its lifespan runs) and a client talking to it in-process."""
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url=base_url
        ) as client,
    ):
        yield client


async def register_and_login(
    client: httpx.AsyncClient,
    email: str = "alice@example.com",
    password: str = PASSWORD,
) -> dict[str, str]:
    """Register *email* and return the `Authorization` header of a login."""
    response = await client.post("/auth/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    return await login(client, email, password)


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# --- shell snippets -------------------------------------------------------------------


def shell_env(**extra: str) -> dict[str, str]:
    """The environment of a reader's shell: this virtualenv first on PATH, no USERKIT_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("USERKIT_", "UVICORN_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(VENV_BIN.parent)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


def bash(
    script: str, cwd: Path, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run *script* with bash -e, as a reader pastes it into a terminal."""
    return subprocess.run(  # noqa: S603 - our own documentation's commands
        ["bash", "-e", "-o", "pipefail", "-c", script],  # noqa: S607 - bash from PATH
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def exported(script: str, cwd: Path, env: dict[str, str]) -> dict[str, str]:
    """The USERKIT_* variables that *script*, a block of `export` lines, sets."""
    result = bash(f"{script}\nenv -0", cwd, env)
    assert result.returncode == 0, result.stderr
    pairs = (item.partition("=") for item in result.stdout.split("\0") if item)
    return {name: value for name, _, value in pairs if name.startswith("USERKIT_")}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """A command that serves HTTP on 127.0.0.1:*port*, started by bash like a reader does."""

    def __init__(self, command: str, cwd: Path, env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own documentation's command
            ["bash", "-c", command],  # noqa: S607 - bash from PATH
            cwd=cwd,
            env={**env, "UVICORN_PORT": str(port)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.output = ""

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while True:
                try:
                    client.get("/openapi.json")
                    return
                except httpx.TransportError:
                    if self.process.poll() is not None:
                        raise AssertionError(f"server exited: {self.stop()}") from None
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)

    def stop(self) -> str:
        """Stop the server like Ctrl-C; return everything it printed."""
        if self.process.poll() is None:  # Ctrl-C reaches the whole process group
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        if not self.log.closed:
            self.log.seek(0)
            self.output = self.log.read().decode()
            self.log.close()
        return self.output

    def __enter__(self) -> "Server":
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
