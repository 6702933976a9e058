"""Two uvicorn processes share one `RedisRateLimiter` (same Redis, same prefix):
a limit counts hits made on either, and a mark made on one is seen by the other.
"""

import asyncio
import os

import httpx
import pytest
import redis.asyncio as redis

from tests.conftest import REDIS_URL
from tests.test_two_processes import Server as TwoProcessServer
from tests.test_two_processes import _free_ports

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass


class Server(TwoProcessServer):
    """One uvicorn process running `tests._ratelimit_app`."""

    app = "tests._ratelimit_app:create_app"


async def test_two_processes_share_the_limits(redis_prefix: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATELIMIT_APP_")}
    env |= {"RATELIMIT_APP_REDIS_URL": REDIS_URL, "RATELIMIT_APP_REDIS_PREFIX": redis_prefix}
    servers = [Server(name, port, env) for name, port in zip("AB", _free_ports(2), strict=True)]
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            await asyncio.gather(*(server.start() for server in servers))
            pids = [await server.wait_ready(http) for server in servers]
            assert pids[0] != pids[1]
            a, b = (server.url for server in servers)

            # five hits spread over both processes are allowed, the sixth is not, anywhere
            for i, url in enumerate([a, b, a, b, a], start=1):
                response = await http.post(f"{url}/hit/login")
                assert response.status_code == 200, response.text
                assert response.json()["count"] == i
            for url in (b, a):
                response = await http.post(f"{url}/hit/login")
                assert response.status_code == 429, response.text
                assert 55 <= int(response.headers["retry-after"]) <= 60
            served_by = {(await http.post(f"{u}/hit/login")).json()["pid"] for u in (a, b)}
            assert served_by == set(pids)

            # twenty hits at once, half on each process: exactly five allowed
            urls = [a, b] * 10
            responses = await asyncio.gather(*(http.post(f"{u}/hit/burst") for u in urls))
            statuses = [r.status_code for r in responses]
            assert statuses.count(200) == 5, statuses
            assert statuses.count(429) == 15, statuses
            assert sorted(r.json()["count"] for r in responses) == list(range(1, 21))

            # a mark made through one process is seen by the other
            assert (await http.get(f"{b}/marked/ok-ip")).json() is False
            assert (await http.post(f"{a}/mark/ok-ip")).status_code == 204
            assert (await http.get(f"{b}/marked/ok-ip")).json() is True
            assert (await http.get(f"{a}/marked/other")).json() is False

        # and the counters really are in the shared Redis, under the prefix
        client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            assert await client.get(f"{redis_prefix}c:login") == "9"
            assert await client.exists(f"{redis_prefix}m:ok-ip") == 1
        finally:
            await client.aclose()
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
    for server in servers:
        assert "Traceback" not in server.output, server.output
        assert "unreachable" not in server.output, server.output
