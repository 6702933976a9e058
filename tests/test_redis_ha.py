"""The Redis back-ends on Redis Sentinel and Redis Cluster URLs.

Against servers of the test's own (`tests._redis_servers`): a master, its replica
and one Sentinel; three Cluster primaries. On each, the kit logs in, refreshes
with rotation, detects a reuse, logs out everywhere and locks out a guesser, once
with stores built from the URL and once from `USERKIT_REDIS_URL`. The stores give
the results of the memory store, a Sentinel failover is followed, the Cluster
keys of a user share one hash slot, and a Sentinel or Cluster that cannot be
reached gives 503 (and per-process rate limits), never a 500.
"""

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.sentinel import MasterNotFoundError
from redis.crc import key_slot

from fastapi_userkit import BadTokenError, ConfigurationError, ErrorCode
from fastapi_userkit.contrib._redis_client import redis_client
from fastapi_userkit.contrib.redis import RedisSessionStore
from fastapi_userkit.contrib.redis_ratelimit import RedisRateLimiter
from fastapi_userkit.login_sessions import (
    MemorySessionStore,
    RefreshTokenReuseError,
    SessionStoreUnavailableError,
    new_refresh_token,
)
from fastapi_userkit.ratelimit import Limit, MemoryRateLimiter, Usage
from tests._redis_servers import (
    ClusterSetup,
    SentinelSetup,
    client,
    cluster_setup,
    sentinel_setup,
    wait_for,
)
from tests.conftest import PASSWORD, Host
from tests.test_redis_sessions import make_session, scenario

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

LOGGER = "fastapi_userkit.ratelimit"
UNAVAILABLE = {"detail": ErrorCode.SESSION_STORE_UNAVAILABLE.value}
TOO_MANY = {"detail": "TOO_MANY_REQUESTS"}
NOBODY_SENTINEL = "redis+sentinel://127.0.0.1:1/mymaster"  # port 1: connection refused
NOBODY_CLUSTER = "redis+cluster://127.0.0.1:1"
FAILOVER_TIMEOUT = 15.0  # seconds for the Sentinel to promote the replica
RECOVERY_TIMEOUT = 10.0  # seconds for the kit to answer from the new master


# --------------------------------------------------------------------------------------
# Servers and helpers
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSetup]:
    with sentinel_setup(tmp_path_factory.mktemp("sentinel")) as setup:
        yield setup


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterSetup]:
    with cluster_setup(tmp_path_factory.mktemp("cluster")) as setup:
        yield setup


@pytest.fixture(params=["sentinel", "cluster"])
def url(request: pytest.FixtureRequest) -> str:
    """The URL of the module's Sentinel setup, or of its Cluster."""
    setup: SentinelSetup | ClusterSetup = request.getfixturevalue(request.param)
    return setup.url


@pytest.fixture
def prefix() -> str:
    """A key prefix of the test's own (the servers are thrown away afterwards)."""
    return f"ha-test:{secrets.token_hex(6)}:"


@pytest.fixture
async def inspect(url: str) -> AsyncIterator[Any]:
    """A client of the servers behind *url*, to look at the keys directly."""
    connection = redis_client("test", url, None)
    yield connection.client
    await connection.client.aclose()
    await connection.aclose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(host: Host, email: str = "alice@example.com", password: str = PASSWORD) -> Any:
    return await host.client.post("/auth/jwt/login", data={"username": email, "password": password})


async def tokens(host: Host, email: str = "alice@example.com") -> dict[str, Any]:
    response = await login(host, email)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def refresh(host: Host, refresh_token: str) -> httpx.Response:
    return await host.client.post("/auth/jwt/refresh", json={"refresh_token": refresh_token})


async def me(host: Host, access_token: str) -> int:
    return (await host.client.get("/users/me", headers=bearer(access_token))).status_code


def limiter_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.get_records("call") if r.name == LOGGER]


async def exercise(host: Host) -> None:
    """Login, refresh with rotation, reuse detection, logout-all and a lockout
    (the host allows three failed logins per account and address).
    """
    assert (await host.register()).status_code == 201
    assert (await host.register("bob@example.com")).status_code == 201
    first, other = await tokens(host), await tokens(host)
    bob = await tokens(host, "bob@example.com")

    rotated = await refresh(host, first["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert await me(host, second["access_token"]) == 200

    reused = await refresh(host, first["refresh_token"])  # spent: the family is revoked
    assert (reused.status_code, reused.json()) == (401, {"detail": "REFRESH_TOKEN_REUSED"})
    assert (await refresh(host, second["refresh_token"])).json() == {
        "detail": "REFRESH_TOKEN_INVALID"
    }
    assert await me(host, second["access_token"]) == 401
    assert await me(host, other["access_token"]) == 200  # another session of the user

    ended = await host.client.post("/auth/jwt/logout-all", headers=bearer(other["access_token"]))
    assert ended.status_code == 204
    assert await me(host, other["access_token"]) == 401
    assert (await refresh(host, other["refresh_token"])).status_code == 401
    assert await me(host, bob["access_token"]) == 200  # another user's session
    assert await me(host, (await tokens(host))["access_token"]) == 200  # a new login

    for _ in range(3):
        assert (await login(host, "bob@example.com", "wrong pass")).status_code == 400
    locked = await login(host, "bob@example.com")  # even the right password
    assert (locked.status_code, locked.json()) == (429, TOO_MANY)


async def keys_under(setup: SentinelSetup | ClusterSetup, prefix: str, db: int = 0) -> list[str]:
    """Every key under *prefix*: on the Sentinel's master, or on every Cluster node."""
    ports = (
        [n.port for n in setup.nodes] if isinstance(setup, ClusterSetup) else [setup.master_port()]
    )
    found: list[str] = []
    for port in ports:
        with client(port, db) as c:
            found += c.scan_iter(match=f"{prefix}*")
    return sorted(found)


# --------------------------------------------------------------------------------------
# The kit on Sentinel and Cluster
# --------------------------------------------------------------------------------------


class TestKit:
    async def test_stores_built_from_the_url(
        self,
        url: str,
        prefix: str,
        make_host: Callable[..., Any],
        make_settings: Callable[..., Any],
        inspect: Any,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger=LOGGER)
        store = RedisSessionStore(url, prefix=prefix)
        limiter = RedisRateLimiter(url, prefix=f"{prefix}rl:")
        settings = make_settings(rate_limit_login_account_ip="3/600")
        host: Host = await make_host(settings=settings, session_store=store, rate_limiter=limiter)
        await exercise(host)
        # the counters were kept in Redis, never in the per-process fallback
        counter = f"{prefix}rl:c:login:acct-ip:bob@example.com:127.0.0.1"
        assert await inspect.get(counter) == "3"
        assert limiter_messages(caplog) == []

    async def test_userkit_redis_url(
        self,
        url: str,
        prefix: str,
        request: pytest.FixtureRequest,
        make_host: Callable[..., Any],
        make_settings: Callable[..., Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.INFO, logger=LOGGER)
        setup: SentinelSetup | ClusterSetup
        if url.startswith("redis+sentinel"):
            setup, db = request.getfixturevalue("sentinel"), 2
            url = setup.url.removesuffix("/0") + f"/{db}?socket_timeout=2"
        else:
            setup, db = request.getfixturevalue("cluster"), 0
        settings = make_settings(
            redis_url=url, redis_prefix=prefix, rate_limit_login_account_ip="3/600"
        )
        host: Host = await make_host(settings=settings)
        assert isinstance(host.kit._parts.rate_limiter, RedisRateLimiter)
        await exercise(host)
        found = await keys_under(setup, prefix, db)
        assert f"{prefix}rl:c:login:acct-ip:bob@example.com:127.0.0.1" in found
        assert any(k.startswith(f"{prefix}session:") for k in found)
        assert limiter_messages(caplog) == []


# --------------------------------------------------------------------------------------
# The stores themselves
# --------------------------------------------------------------------------------------


class TestStores:
    async def test_same_results_as_the_memory_store(self, url: str, prefix: str) -> None:
        store = RedisSessionStore(url, prefix=prefix)
        try:
            t0 = datetime.now(UTC)
            assert await scenario(store, t0) == await scenario(MemorySessionStore(), t0)
        finally:
            await store.aclose()

    async def test_racing_stores_rotate_a_token_once(self, url: str, prefix: str) -> None:
        """Ten rotations of one token from two stores (as from two processes)."""
        stores = [RedisSessionStore(url, prefix=prefix) for _ in range(2)]
        now = datetime.now(UTC)
        await stores[0].create(make_session(now, "s1", "u1"), "h1", now + timedelta(minutes=5))

        async def attempt(i: int) -> str:
            try:
                await stores[i % 2].rotate("h1", new_refresh_token()[1], timedelta(minutes=5), now)
            except RefreshTokenReuseError:
                return "reused"
            except BadTokenError:
                return "bad"
            return "ok"

        try:
            outcomes = await asyncio.gather(*(attempt(i) for i in range(10)))
            assert outcomes.count("ok") == 1, outcomes
            assert outcomes.count("reused") >= 1, outcomes
            assert (await stores[1].get("s1")).revoked  # type: ignore[union-attr]
        finally:
            for store in stores:
                await store.aclose()

    async def test_rate_limiter(self, url: str, prefix: str, inspect: Any) -> None:
        limiter = RedisRateLimiter(url, prefix=prefix)
        limit = Limit(2, 60)
        try:
            usages = [await limiter.hit("login:ip:192.0.2.1", limit) for _ in range(3)]
            assert usages == [Usage(1, 60, True), Usage(2, 60, True), Usage(3, 60, False)]
            assert await limiter.peek("login:ip:192.0.2.1", limit) == Usage(3, 60, False)
            assert await limiter.peek("other", limit) == Usage(0, 1, True)
            await limiter.refund("login:ip:192.0.2.1")
            assert await inspect.get(f"{prefix}c:login:ip:192.0.2.1") == "2"
            await limiter.reset("login:ip:192.0.2.1")
            assert (await limiter.hit("login:ip:192.0.2.1", limit)).count == 1
            await limiter.mark("ok", 60)
            assert await limiter.marked("ok")
            assert not await limiter.marked("other")
            assert (await limiter.hit("k" * 300, limit)).count == 1  # hashed: c#{sha256}
        finally:
            await limiter.aclose()


class TestClusterLayout:
    async def test_the_keys_of_a_user_share_a_slot(
        self, cluster: ClusterSetup, prefix: str
    ) -> None:
        store = RedisSessionStore(cluster.url, prefix=prefix)
        now = datetime.now(UTC)
        try:
            for session_id, user_id in [("s1", "u1"), ("s2", "u1"), ("s3", "u2")]:
                session = make_session(now, session_id, user_id)
                await store.create(session, f"h-{session_id}", now + timedelta(minutes=5))
            await store.rotate("h-s1", "h-s1b", timedelta(minutes=5), now)
            found = await keys_under(cluster, prefix)
        finally:
            await store.aclose()
        names = {k.removeprefix(prefix) for k in found}
        assert names == {
            "session:{u1}:s1", "session:{u1}:s2", "session:{u2}:s3",
            "rt:{u1}:h-s1", "rt:{u1}:h-s1b", "rt:{u1}:h-s2", "rt:{u2}:h-s3",
            "user:{u1}", "user:{u2}",
            "idx:session:s1", "idx:session:s2", "idx:session:s3",
            "idx:rt:h-s1", "idx:rt:h-s1b", "idx:rt:h-s2", "idx:rt:h-s3",
        }  # fmt: skip
        slots: dict[str, set[int]] = {}
        for key in found:
            if "{" in key:
                tag = key[key.index("{") + 1 : key.index("}")]
                slots.setdefault(tag, set()).add(key_slot(key.encode()))
        assert {tag: len(s) for tag, s in slots.items()} == {"u1": 1, "u2": 1}

    @pytest.mark.parametrize("user_id", ["u{1}", "}", "{", ""])
    async def test_user_ids_that_could_break_a_hash_tag(
        self, cluster: ClusterSetup, prefix: str, user_id: str
    ) -> None:
        store = RedisSessionStore(cluster.url, prefix=prefix)
        now = datetime.now(UTC)
        try:
            for session_id in ("s1", "s2"):
                session = make_session(now, session_id, user_id)
                await store.create(session, f"h-{session_id}", now + timedelta(minutes=5))
            assert await store.rotate("h-s1", "h-s1b", timedelta(minutes=5), now)
            await store.revoke_all(user_id, keep="s2")
            assert [s.id for s in await store.list_active(user_id, now)] == ["s2"]
            with pytest.raises(BadTokenError, match="session ended"):
                await store.rotate("h-s1b", "h-s1c", timedelta(minutes=5), now)
        finally:
            await store.aclose()

    def test_a_prefix_with_a_brace_is_refused(self, cluster: ClusterSetup) -> None:
        with pytest.raises(ConfigurationError, match="may not hold"):
            RedisSessionStore(cluster.url, prefix="app:{x}:")
        # a limiter touches one key per call: its prefix may hold anything
        RedisRateLimiter(cluster.url, prefix="app:{x}:")

    async def test_a_given_cluster_client_gets_the_cluster_layout(
        self, cluster: ClusterSetup, prefix: str
    ) -> None:
        node = cluster.nodes[0]
        given = RedisCluster(host="127.0.0.1", port=node.port)  # bytes replies, not decoded
        store = RedisSessionStore(client=given, prefix=prefix)
        now = datetime.now(UTC)
        await store.create(make_session(now, "s1", "u1"), "h1", now + timedelta(minutes=5))
        assert await store.rotate("h1", "h2", timedelta(minutes=5), now)
        assert await given.exists(f"{prefix}session:{{u1}}:s1") == 1
        await store.aclose()
        assert await given.ping()  # left open
        await given.aclose()


# --------------------------------------------------------------------------------------
# Failover and failure
# --------------------------------------------------------------------------------------


async def test_a_sentinel_failover_is_followed(
    tmp_path: Path,
    make_host: Callable[..., Any],
    make_settings: Callable[..., Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The master crashes, the Sentinel promotes the replica, and the kit goes on
    from the new master with the sessions it had: 503 at worst in between.
    """
    with sentinel_setup(tmp_path) as setup:
        prefix = "failover:"
        store = RedisSessionStore(setup.url, prefix=prefix)
        limiter = RedisRateLimiter(setup.url, prefix=f"{prefix}rl:")
        limiter.retry_interval = 0  # try Redis again at every call
        settings = make_settings(rate_limit_login_account_ip="3/600")
        host: Host = await make_host(settings=settings, session_store=store, rate_limiter=limiter)
        assert (await host.register()).status_code == 201
        before = await tokens(host)
        assert (await login(host, "alice@example.com", "wrong pass")).status_code == 400
        with client(setup.master.port) as c:
            assert c.execute_command("WAIT", 1, 2000) == 1  # the replica has it all

        setup.master.crash()
        setup.failover()
        wait_for(
            "the failover", lambda: setup.master_port() == setup.replica.port, FAILOVER_TIMEOUT
        )

        statuses: list[int] = []
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while not statuses or statuses[-1] != 200:
            assert time.monotonic() < deadline, statuses
            if statuses:
                await asyncio.sleep(0.05)
            statuses.append(await me(host, before["access_token"]))
        assert set(statuses) <= {200, 503}, statuses  # never a 500, never a 401
        assert store.client.connection_pool.master_address == ("127.0.0.1", setup.replica.port)  # type: ignore[union-attr]

        rotated = await refresh(host, before["refresh_token"])  # the session survived
        assert rotated.status_code == 200, rotated.text
        reused = await refresh(host, before["refresh_token"])
        assert reused.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        # the limiter counts on the new master, where the failure before was replicated
        assert (await login(host, "alice@example.com", "wrong pass")).status_code == 400
        with client(setup.replica.port) as c:
            assert c.get(f"{prefix}rl:c:login:acct-ip:alice@example.com:127.0.0.1") == "2"
        assert await me(host, (await tokens(host))["access_token"]) == 200


class TestUnreachable:
    """Nothing answers: every route that needs a session answers 503, and the rate
    limiter counts per process, as with a single node.
    """

    @pytest.mark.parametrize("url", [NOBODY_SENTINEL, NOBODY_CLUSTER])
    async def test_503_and_per_process_limits(
        self,
        url: str,
        make_host: Callable[..., Any],
        make_settings: Callable[..., Any],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.WARNING, logger=LOGGER)
        store = RedisSessionStore(url)
        fallback = MemoryRateLimiter()
        limiter = RedisRateLimiter(url, fallback=fallback)
        settings = make_settings(rate_limit_login_account_ip="3/600")
        host: Host = await make_host(settings=settings, session_store=store, rate_limiter=limiter)
        registered = await host.register()
        assert registered.status_code == 201  # the user store is SQL
        token = host.kit._parts.access_tokens.issue(
            registered.json()["id"], 0, "00000000-0000-4000-8000-000000000000"
        )
        async with asyncio.timeout(20):
            for response in [
                await login(host),
                await host.client.get("/users/me", headers=bearer(token)),
                await refresh(host, "x" * 43),
                await host.client.post("/auth/jwt/logout-all", headers=bearer(token)),
            ]:
                assert (response.status_code, response.json()) == (503, UNAVAILABLE)
            for _ in range(3):
                await login(host, "alice@example.com", "wrong pass")
            assert (await login(host)).json() == TOO_MANY  # locked out, per process
        assert (
            await fallback.peek("login:acct-ip:alice@example.com:127.0.0.1", Limit(3, 600))
        ).count == 3
        assert any("unreachable" in m for m in limiter_messages(caplog))

    async def test_a_service_the_sentinel_does_not_know(self, sentinel: SentinelSetup) -> None:
        store = RedisSessionStore(f"redis+sentinel://127.0.0.1:{sentinel.sentinel.port}/nosuch")
        try:
            with pytest.raises(SessionStoreUnavailableError) as raised:
                await store.get("s1")
            assert isinstance(raised.value.__cause__, MasterNotFoundError)
        finally:
            await store.aclose()

    async def test_a_cluster_node_down(self, tmp_path: Path) -> None:
        """The keys of a stopped node (of a Cluster without replicas) are unavailable."""
        with cluster_setup(tmp_path) as setup:
            lost = setup.slots(setup.nodes[0])
            user_id = next(
                u
                for u in (f"user-{i}" for i in range(1000))
                if any(key_slot(f"userkit:user:{{{u}}}".encode()) in r for r in lost)
            )
            store = RedisSessionStore(setup.url)
            fallback = MemoryRateLimiter()
            limiter = RedisRateLimiter(
                setup.url, prefix=f"userkit:user:{{{user_id}}}:", fallback=fallback
            )
            try:
                assert await store.list_active(user_id, datetime.now(UTC)) == []
                assert (await limiter.hit("k", Limit(5, 60))).count == 1
                setup.nodes[0].crash()
                async with asyncio.timeout(20):
                    with pytest.raises(SessionStoreUnavailableError):
                        await store.list_active(user_id, datetime.now(UTC))
                    # the limiter never raises: it counts per process instead
                    assert (await limiter.hit("k", Limit(5, 60))).count == 1
                assert (await fallback.peek("k", Limit(5, 60))).count == 1
            finally:
                await store.aclose()
                await limiter.aclose()


# --------------------------------------------------------------------------------------
# The URL forms
# --------------------------------------------------------------------------------------


class TestURLs:
    async def test_sentinel(self) -> None:
        store = RedisSessionStore(
            "redis+sentinel://app:s%40cret@10.0.0.1:26380,[::1],sentinel-3/my%20master/3"
            "?socket_timeout=0.5&sentinel_password=watch"
        )
        pool = store.client.connection_pool
        assert pool.service_name == "my master"  # type: ignore[attr-defined]
        kwargs = pool.connection_kwargs
        assert (kwargs["db"], kwargs["username"], kwargs["password"]) == (3, "app", "s@cret")
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (0.5, 5.0)
        sentinels = [c.connection_pool.connection_kwargs for c in store._connection.companions]
        assert [(s["host"], s["port"]) for s in sentinels] == [
            ("10.0.0.1", 26380), ("::1", 26379), ("sentinel-3", 26379),
        ]  # fmt: skip
        assert [s.get("password") for s in sentinels] == ["watch"] * 3
        await store.aclose()  # never connected: nothing to wait for

    async def test_cluster(self) -> None:
        limiter = RedisRateLimiter("redis+cluster://:pw@10.0.0.1,10.0.0.2:7000/0")
        assert isinstance(limiter.client, RedisCluster)
        nodes = limiter.client.nodes_manager.startup_nodes
        assert sorted(nodes) == ["10.0.0.1:6379", "10.0.0.2:7000"]
        assert limiter.client.connection_kwargs["password"] == "pw"
        await limiter.aclose()

    @pytest.mark.parametrize(
        "url",
        [
            "redis+sentinel://10.0.0.1:26379",  # no service name
            "redis+sentinel://10.0.0.1:26379/",
            "redis+sentinel://10.0.0.1:26379/mymaster/zero",
            "redis+sentinel://10.0.0.1:26379/mymaster/0/extra",
            "redis+sentinel:///mymaster",  # no host
            "redis+sentinel://10.0.0.1:26379,/mymaster",
            "redis+sentinel://10.0.0.1:port/mymaster",
            "redis+sentinel://10.0.0.1:70000/mymaster",
            "redis+sentinel://[::1/mymaster",
            "redis+sentinel://10.0.0.1/mymaster?timeout=1",  # unknown option
            "redis+sentinel://10.0.0.1/mymaster?socket_timeout=0",
            "redis+sentinel://10.0.0.1/mymaster?socket_timeout=nan",
            "redis+sentinel://10.0.0.1/mymaster?socket_timeout=1&socket_timeout=2",
            "redis+cluster://10.0.0.1:7000/1",  # Cluster has database 0 only
            "redis+cluster://10.0.0.1:7000?sentinel_password=x",
            "redis+cluster://10.0.0.1:7000#x",
            "rediss+cluster://10.0.0.1:7000",  # TLS: build the client yourself
            "redis+sentinels://10.0.0.1/mymaster",
        ],
    )
    def test_bad_urls(self, url: str) -> None:
        with pytest.raises(ConfigurationError) as raised:
            RedisSessionStore(url.replace("10.0.0.1", ":hunter2@10.0.0.1", 1))
        assert "hunter2" not in str(raised.value)
        with pytest.raises(ConfigurationError):
            RedisRateLimiter(url)
