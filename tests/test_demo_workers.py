"""The demo app as two worker processes on PostgreSQL + Redis, configured only by
`USERKIT_*` variables: nothing a worker needs lives in the other's memory."""

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests._relay import free_port
from tests.conftest import PASSWORD, POSTGRES_URL, REDIS_URL, own_database

pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parent.parent
SECRET = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


async def start(env: dict[str, str]) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
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
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    return process, f"http://127.0.0.1:{port}"


async def wait_ready(
    client: httpx.AsyncClient, url: str, process: asyncio.subprocess.Process
) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.returncode is None:
        try:
            await client.get(f"{url}/openapi.json", timeout=2)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.05)
    pytest.fail(f"demo worker at {url} did not start")


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), 15)
    except TimeoutError:
        process.kill()
        out, _ = await asyncio.wait_for(process.communicate(), 15)
    return out.decode(errors="replace") if out else ""


async def test_two_demo_workers_share_everything(redis_prefix: str) -> None:
    async with own_database(POSTGRES_URL) as database_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}
        env.update(
            USERKIT_DATABASE_URL=database_url,
            USERKIT_REDIS_URL=REDIS_URL,
            USERKIT_REDIS_PREFIX=redis_prefix,
            USERKIT_SECRET_KEY=SECRET,
            USERKIT_BCRYPT_ROUNDS="4",
            USERKIT_CREATE_TABLES="true",
            USERKIT_RATE_LIMIT_LOGIN_ACCOUNT_IP="3/600",
        )
        workers = [await start(env), await start(env)]  # both create tables at once
        outputs: list[str] = []
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                for process, url in workers:
                    await wait_ready(client, url, process)
                (_, a), (_, b) = workers

                async def login(url: str, email: str, password: str = PASSWORD) -> httpx.Response:
                    return await client.post(
                        f"{url}/auth/jwt/login", data={"username": email, "password": password}
                    )

                # registered on A, seen by B
                r = await client.post(
                    f"{a}/auth/register", json={"email": "w@example.com", "password": PASSWORD}
                )
                assert r.status_code == 201
                tokens = (await login(b, "w@example.com")).json()
                auth = {"Authorization": f"Bearer {tokens['access_token']}"}
                assert (await client.get(f"{a}/hello", headers=auth)).status_code == 200
                # logout on A holds on B at once, for access and refresh tokens
                assert (await client.post(f"{a}/auth/jwt/logout", headers=auth)).status_code == 204
                assert (await client.get(f"{b}/users/me", headers=auth)).status_code == 401
                refresh = await client.post(
                    f"{b}/auth/jwt/refresh", json={"refresh_token": tokens["refresh_token"]}
                )
                assert refresh.status_code == 401
                # lockout built on both holds on both
                for url in (a, b, a):
                    assert (await login(url, "w@example.com", "wrong one")).status_code == 400
                for url in (a, b):
                    locked = await login(url, "w@example.com")
                    assert locked.status_code == 429
                    assert locked.headers["retry-after"]
        finally:
            for process, _ in workers:
                outputs.append(await stop(process))
        for output in outputs:
            assert "Traceback" not in output, output
