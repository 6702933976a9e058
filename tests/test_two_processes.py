"""Two uvicorn processes share one PostgreSQL database and one Redis session store,
or one SQLite file: whatever one process does to a session, the other sees at once.
"""

import asyncio
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, POSTGRES_URL, REDIS_URL, _service_unavailable

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "7ceb00ced5a1d667a4925e8ff5746883294166e536c74f63b0cde6bb2461efde"
START_TIMEOUT = 30.0  # seconds for one process to answer
STOP_TIMEOUT = 15.0


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL schema, dropped after the test."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    schema = f"userkit_2p_{secrets.token_hex(6)}"
    admin = create_async_engine(POSTGRES_URL)
    try:
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # any connection failure means "not reachable"
        await admin.dispose()
        _service_unavailable("PostgreSQL", exc)
    yield schema
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await admin.dispose()


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


class Server:
    """One uvicorn process running the app factory *app*."""

    app = "tests._two_process_app:create_app"

    def __init__(self, name: str, port: int, env: dict[str, str]) -> None:
        self.name = name
        self.base_url = self.url = f"http://127.0.0.1:{port}"
        self.port = port
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.output = ""

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            cwd=ROOT,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

    async def wait_ready(self, client: httpx.AsyncClient) -> int:
        """Poll `/pid` until the process answers; return its pid."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        for _ in range(int(START_TIMEOUT / 0.05)):
            try:
                response = await client.get(f"{self.base_url}/pid", timeout=2)
                return int(response.json())
            except httpx.TransportError:
                pass
            if self.process.returncode is not None or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        await self.stop()
        pytest.fail(f"{self.name} did not start:\n{self.output}")

    async def stop(self) -> None:
        """SIGTERM (graceful shutdown), then SIGKILL after STOP_TIMEOUT; keep the output."""
        process = self.process
        if process is None:
            return
        self.process = None
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            out, _ = await asyncio.wait_for(process.communicate(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            out, _ = await asyncio.wait_for(process.communicate(), STOP_TIMEOUT)
        self.output += out.decode(errors="replace") if out else ""


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Client:
    """Calls to one server."""

    def __init__(self, http: httpx.AsyncClient, server: Server) -> None:
        self.http = http
        self.url = server.base_url

    async def login(self, email: str) -> dict[str, Any]:
        data = {"username": email, "password": PASSWORD}
        response = await self.http.post(f"{self.url}/auth/jwt/login", data=data)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def me(self, tokens: dict[str, Any]) -> int:
        response = await self.http.get(
            f"{self.url}/users/me", headers=bearer(tokens["access_token"])
        )
        return response.status_code

    async def refresh(self, tokens: dict[str, Any]) -> httpx.Response:
        body = {"refresh_token": tokens["refresh_token"]}
        return await self.http.post(f"{self.url}/auth/jwt/refresh", json=body)

    async def post(self, path: str, tokens: dict[str, Any]) -> int:
        response = await self.http.post(f"{self.url}{path}", headers=bearer(tokens["access_token"]))
        return response.status_code


async def test_two_processes_share_users_and_sessions(pg_schema: str, redis_prefix: str) -> None:
    await _share_users_and_sessions(
        {
            "TWO_PROCESS_POSTGRES_URL": POSTGRES_URL,
            "TWO_PROCESS_SCHEMA": pg_schema,
            "TWO_PROCESS_REDIS_URL": REDIS_URL,
            "TWO_PROCESS_REDIS_PREFIX": redis_prefix,
        }
    )


async def test_two_processes_share_one_sqlite_file(tmp_path: Path) -> None:
    """Each process reads the token's session outside its ORM session (SQLite's read
    thread): a logout or a rotation by one is seen by the other's next request.
    """
    await _share_users_and_sessions(
        {"TWO_PROCESS_SQLITE_URL": f"sqlite+aiosqlite:///{tmp_path}/shared.db"}
    )


async def _share_users_and_sessions(app_env: dict[str, str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("USERKIT_", "TWO_PROCESS_"))}
    env |= {
        "USERKIT_SECRET_KEY": SECRET_KEY,
        "USERKIT_BCRYPT_ROUNDS": "4",
        "USERKIT_CREATE_TABLES": "true",
    } | app_env
    servers = [Server(name, port, env) for name, port in zip("AB", _free_ports(2), strict=True)]
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            # one after the other: both would create the users table at startup
            pids = []
            for server in servers:
                await server.start()
                pids.append(await server.wait_ready(http))
            assert pids[0] != pids[1]
            a, b = Client(http, servers[0]), Client(http, servers[1])

            register = {"email": "alice@example.com", "password": PASSWORD}
            response = await http.post(f"{a.url}/auth/register", json=register)
            assert response.status_code == 201, response.text
            from_b = await b.login("alice@example.com")  # registered on A, logs in on B
            assert await a.me(from_b) == 200

            from_a = await a.login("alice@example.com")
            assert await b.me(from_a) == 200  # issued by A, accepted by B
            rotated = await b.refresh(from_a)  # rotated on B
            assert rotated.status_code == 200, rotated.text
            assert await a.me(rotated.json()) == 200

            # logout on A ends the session on B at once
            doomed = await a.login("alice@example.com")
            assert await b.me(doomed) == 200
            assert await a.post("/auth/jwt/logout", doomed) == 204
            assert await b.me(doomed) == 401
            assert (await b.refresh(doomed)).json() == {"detail": "REFRESH_TOKEN_INVALID"}

            # the same refresh token sent to both processes at once: one rotation at most
            raced = await a.login("alice@example.com")
            clients = [a, b] * 5
            responses = await asyncio.gather(*(c.refresh(raced) for c in clients))
            statuses = [r.status_code for r in responses]
            assert statuses.count(200) <= 1, statuses
            assert set(statuses) <= {200, 401}, statuses
            assert await a.me(raced) == 401  # the reuse revoked the session everywhere

            # logout-all on B ends A's sessions too
            on_a = [await a.login("alice@example.com") for _ in range(2)]
            assert [await a.me(t) for t in on_a] == [200, 200]
            assert await b.post("/auth/jwt/logout-all", from_b) == 204
            for tokens in [*on_a, from_b, rotated.json()]:
                assert await a.me(tokens) == 401
                assert await b.me(tokens) == 401
                assert (await a.refresh(tokens)).status_code == 401
            fresh = await a.login("alice@example.com")  # a new login still works
            assert await b.me(fresh) == 200
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
    for server in servers:
        assert "Traceback" not in server.output, server.output
