"""A Redis that crashes and comes back, under two app processes that share it for login
sessions and rate limits: while it is down every request that needs a session answers
`503 SESSION_STORE_UNAVAILABLE` at once, without a traceback in either process's log;
when it is back both processes serve the sessions it kept, without a restart, and no
session is left that nobody holds.

The Redis server is the test's own (`redis-server` on a free port, append-only file on,
as an operator who keeps sessions across restarts runs it, or without any persistence),
killed with SIGKILL and started again on the same port.
"""

import asyncio
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests._redis_servers import Server as RedisServer
from tests._redis_servers import redis_server
from tests.conftest import PASSWORD, POSTGRES_URL
from tests.test_two_processes import SECRET_KEY, Client, Server, _free_ports, bearer, pg_schema

pytestmark = pytest.mark.single_pass

__all__ = ["pg_schema"]  # the fixture, used here too

#: The longest a 503 may take while Redis is down (a refused connection: at once).
ANSWER_BOUND = 2.0
#: How long the processes get to see Redis again once it is back.
RECOVERY_TIMEOUT = 10.0


@pytest.fixture(params=["persistent", "volatile"])
def redis_process(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[RedisServer, bool]]:
    """A Redis of the test's own, and whether it keeps its data across a restart: with an
    append-only file ("persistent"), or nothing ("volatile")."""
    persistent = request.param == "persistent"
    extra = ("--appendonly", "yes", "--appendfsync", "always") if persistent else ()
    with ExitStack() as stack:
        yield redis_server(stack, tmp_path, "redis", *extra), persistent


def restart(server: RedisServer) -> None:
    """Start *server* again on its port, with its data directory (and append-only file)."""
    assert server.process.poll() is not None
    server.start(server.process.args)  # type: ignore[arg-type]
    server.wait_ready()


async def unavailable(http: httpx.AsyncClient, request: Any) -> None:
    start = asyncio.get_running_loop().time()
    response: httpx.Response = await request
    elapsed = asyncio.get_running_loop().time() - start
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": "SESSION_STORE_UNAVAILABLE"}
    assert response.headers["retry-after"]
    assert elapsed < ANSWER_BOUND, f"503 after {elapsed:.2f} s"


async def until_up(call: Any) -> httpx.Response:
    """The first answer that is not a 503, within `RECOVERY_TIMEOUT`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY_TIMEOUT
    while True:
        response: httpx.Response = await call()
        if response.status_code != 503 or loop.time() > deadline:
            return response
        await asyncio.sleep(0.1)


async def test_redis_crash_and_restart_under_two_processes(
    pg_schema: str, redis_process: tuple[RedisServer, bool]
) -> None:
    redis, persistent = redis_process
    redis_url = f"redis://127.0.0.1:{redis.port}/0"
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}
    env |= {
        "USERKIT_SECRET_KEY": SECRET_KEY,
        "USERKIT_BCRYPT_ROUNDS": "4",
        "USERKIT_CREATE_TABLES": "true",
        "TWO_PROCESS_POSTGRES_URL": POSTGRES_URL,
        "TWO_PROCESS_SCHEMA": pg_schema,
        "TWO_PROCESS_REDIS_URL": redis_url,
        "TWO_PROCESS_REDIS_PREFIX": "faults:",
        "TWO_PROCESS_RATELIMIT_PREFIX": "faults:rl:",
    }
    servers = [Server(name, port, env) for name, port in zip("AB", _free_ports(2), strict=True)]
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            for server in servers:  # one after the other: both create the tables
                await server.start()
                await server.wait_ready(http)
            a, b = Client(http, servers[0]), Client(http, servers[1])
            register = {"email": "alice@example.com", "password": PASSWORD}
            assert (await http.post(f"{a.url}/auth/register", json=register)).status_code == 201
            kept = await a.login("alice@example.com")
            ended = await b.login("alice@example.com")
            assert await b.me(kept) == await a.me(ended) == 200

            redis.crash()
            login = {"username": "alice@example.com", "password": PASSWORD}
            for client in (a, b):
                me = bearer(kept["access_token"])
                await unavailable(http, http.get(f"{client.url}/users/me", headers=me))
                await unavailable(http, http.post(f"{client.url}/auth/jwt/login", data=login))
                await unavailable(http, client.refresh(kept))
            # Routes that need no session still answer.
            assert (await http.get(f"{a.url}/pid")).status_code == 200

            restart(redis)
            if not persistent:
                # Nothing was kept: every session is gone, on both processes, and a new
                # login works on both.
                for client in (a, b):
                    response = await until_up(
                        lambda c=client: http.get(
                            f"{c.url}/users/me", headers=bearer(kept["access_token"])
                        )
                    )
                    assert response.status_code == 401, response.text
                fresh = await b.login("alice@example.com")
                assert await a.me(fresh) == 200
                assert (await a.refresh(kept)).status_code == 401
            else:
                await sessions_kept(http, a, b, kept, ended)
    finally:
        for server in servers:
            await server.stop()
    for server in servers:
        assert "Traceback" not in server.output, f"{server.name}:\n{server.output}"


async def sessions_kept(
    http: httpx.AsyncClient, a: Client, b: Client, kept: dict[str, Any], ended: dict[str, Any]
) -> None:
    """After a restart of a Redis that kept its data: the sessions work on both processes."""
    login = {"username": "alice@example.com", "password": PASSWORD}
    for client in (a, b):
        response = await until_up(
            lambda c=client: http.get(f"{c.url}/users/me", headers=bearer(kept["access_token"]))
        )
        assert response.status_code == 200, response.text
    # The refresh answered 503 spent nothing: the token still rotates, once.
    rotated = await b.refresh(kept)
    assert rotated.status_code == 200, rotated.text
    assert await a.me(rotated.json()) == 200
    # Revocation is immediate on both again.
    assert await a.post("/auth/jwt/logout", ended) == 204
    assert await b.me(ended) == 401
    # The logins answered 503 left no session behind: only `kept` is left.
    sessions = await http.get(
        f"{a.url}/auth/sessions", headers=bearer(rotated.json()["access_token"])
    )
    assert sessions.status_code == 200, sessions.text
    assert len(sessions.json()) == 1
    # The failed logins during the outage were not counted as guesses.
    assert (await http.post(f"{b.url}/auth/jwt/login", data=login)).status_code == 200
