"""`RedisSessionStore`: the HTTP flows on Redis, failing closed, and parity with
`MemorySessionStore` (expiry tested with a `now` in the future, never by sleeping).
"""

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from fastapi_userkit import BadTokenError, ConfigurationError, ErrorCode
from fastapi_userkit.contrib.redis import RedisSessionStore
from fastapi_userkit.login_sessions import (
    LoginSession,
    MemorySessionStore,
    RefreshTokenReuseError,
    SessionStore,
    SessionStoreUnavailableError,
    new_refresh_token,
)
from tests.conftest import PASSWORD, REDIS_URL, Host

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

CLOSED_PORT_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused
UNAVAILABLE = {"detail": ErrorCode.SESSION_STORE_UNAVAILABLE.value}


@pytest.fixture
async def store(redis_prefix: str) -> AsyncIterator[RedisSessionStore]:
    store = RedisSessionStore(REDIS_URL, prefix=redis_prefix)
    yield store
    await store.aclose()


@pytest.fixture
async def rhost(make_host: Callable[..., Any], store: RedisSessionStore) -> Host:
    return await make_host(session_store=store)  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(host: Host, email: str = "alice@example.com") -> dict[str, Any]:
    response = await host.client.post(
        "/auth/jwt/login", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def refresh(host: Host, refresh_token: str) -> httpx.Response:
    return await host.client.post("/auth/jwt/refresh", json={"refresh_token": refresh_token})


async def me(host: Host, access_token: str) -> int:
    return (await host.client.get("/users/me", headers=bearer(access_token))).status_code


class TestHTTP:
    async def test_login_stores_the_session_in_redis(
        self, rhost: Host, store: RedisSessionStore, redis_prefix: str
    ) -> None:
        await rhost.register()
        tokens = await login(rhost)
        assert tokens["refresh_token"]
        assert await me(rhost, tokens["access_token"]) == 200
        keys = [k async for k in store.client.scan_iter(match=f"{redis_prefix}*")]
        kinds = sorted(k.removeprefix(redis_prefix).split(":")[0] for k in keys)
        assert kinds == ["rt", "session", "user"]

    async def test_refresh_rotates_and_reuse_revokes_the_session(self, rhost: Host) -> None:
        await rhost.register()
        first = await login(rhost)
        response = await refresh(rhost, first["refresh_token"])
        assert response.status_code == 200, response.text
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        assert await me(rhost, second["access_token"]) == 200
        form = {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
        response = await rhost.client.post("/auth/jwt/login", data=form)  # OAuth2 form grant
        assert response.status_code == 200, response.text
        third = response.json()

        reused = await refresh(rhost, first["refresh_token"])
        assert reused.status_code == 401
        assert reused.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        # the whole family is dead: newest refresh token and every access token
        assert (await refresh(rhost, third["refresh_token"])).json() == {
            "detail": "REFRESH_TOKEN_INVALID"
        }
        for tokens in (first, second, third):
            assert await me(rhost, tokens["access_token"]) == 401

    async def test_unknown_refresh_token(self, rhost: Host) -> None:
        response = await refresh(rhost, "not-a-token")
        assert response.status_code == 401
        assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}

    async def test_logout_ends_only_that_session(self, rhost: Host) -> None:
        await rhost.register()
        ended, other = await login(rhost), await login(rhost)
        logout = await rhost.client.post("/auth/jwt/logout", headers=bearer(ended["access_token"]))
        assert logout.status_code == 204
        assert await me(rhost, ended["access_token"]) == 401
        assert (await refresh(rhost, ended["refresh_token"])).status_code == 401
        assert await me(rhost, other["access_token"]) == 200
        assert (await refresh(rhost, other["refresh_token"])).status_code == 200

    async def test_logout_all(self, rhost: Host) -> None:
        await rhost.register()
        await rhost.register("bob@example.com")
        sessions = [await login(rhost) for _ in range(3)]
        bob = await login(rhost, "bob@example.com")
        response = await rhost.client.post(
            "/auth/jwt/logout-all", headers=bearer(sessions[0]["access_token"])
        )
        assert response.status_code == 204
        for tokens in sessions:
            assert await me(rhost, tokens["access_token"]) == 401
            assert (await refresh(rhost, tokens["refresh_token"])).status_code == 401
        assert await me(rhost, bob["access_token"]) == 200

    async def test_list_and_delete_sessions(self, rhost: Host) -> None:
        await rhost.register()
        await rhost.register("bob@example.com")
        one, two = await login(rhost), await login(rhost)
        bob = await login(rhost, "bob@example.com")
        listed = await rhost.client.get("/auth/sessions", headers=bearer(two["access_token"]))
        assert listed.status_code == 200
        body = listed.json()
        assert len(body) == 2
        assert [s["current"] for s in body] == [False, True]  # oldest first
        assert body[0]["created_at"] <= body[1]["created_at"]
        assert {s["ip"] for s in body} == {"127.0.0.1"}
        assert all(s["user_agent"].startswith("python-httpx/") for s in body)
        bob_id = (
            await rhost.client.get("/auth/sessions", headers=bearer(bob["access_token"]))
        ).json()[0]["id"]

        theirs = await rhost.client.delete(
            f"/auth/sessions/{bob_id}", headers=bearer(one["access_token"])
        )
        assert theirs.status_code == 404
        assert theirs.json() == {"detail": "SESSION_NOT_FOUND"}
        assert await me(rhost, bob["access_token"]) == 200

        mine = await rhost.client.delete(
            f"/auth/sessions/{body[0]['id']}", headers=bearer(two["access_token"])
        )
        assert mine.status_code == 204
        assert await me(rhost, one["access_token"]) == 401
        left = await rhost.client.get("/auth/sessions", headers=bearer(two["access_token"]))
        assert [s["id"] for s in left.json()] == [body[1]["id"]]

    async def test_concurrent_refreshes_of_one_token(self, rhost: Host) -> None:
        await rhost.register()
        tokens = await login(rhost)
        responses = await asyncio.gather(
            *(refresh(rhost, tokens["refresh_token"]) for _ in range(10))
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses.count(200) <= 1, statuses
        losers = [r.json()["detail"] for r in responses if r.status_code != 200]
        assert all(r.status_code in (200, 401) for r in responses), statuses
        assert set(losers) <= {"REFRESH_TOKEN_REUSED", "REFRESH_TOKEN_INVALID"}
        assert "REFRESH_TOKEN_REUSED" in losers  # the race is seen as a reuse
        assert await me(rhost, tokens["access_token"]) == 401
        for winner in (r.json() for r in responses if r.status_code == 200):
            assert (await refresh(rhost, winner["refresh_token"])).status_code == 401
            assert await me(rhost, winner["access_token"]) == 401


class TestUnavailable:
    """A store nobody answers for fails closed: 503, never 200, never 500. No Redis needed."""

    async def test_every_route_answers_503(self, make_host: Callable[..., Any]) -> None:
        store = RedisSessionStore(CLOSED_PORT_URL)
        host: Host = await make_host(session_store=store)
        registered = await host.register()
        assert registered.status_code == 201  # the user store is SQL; no session involved
        user_id = registered.json()["id"]
        token = host.kit._parts.access_tokens.issue(
            user_id, 0, "00000000-0000-4000-8000-000000000000"
        )
        form = {"username": "alice@example.com", "password": PASSWORD}
        calls: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/auth/jwt/login", {"data": form}),
            ("GET", "/users/me", {"headers": bearer(token)}),
            ("POST", "/auth/jwt/refresh", {"json": {"refresh_token": "x" * 43}}),
            ("POST", "/auth/jwt/logout", {"headers": bearer(token)}),
            ("POST", "/auth/jwt/logout-all", {"headers": bearer(token)}),
            ("GET", "/auth/sessions", {"headers": bearer(token)}),
            ("DELETE", "/auth/sessions/x", {"headers": bearer(token)}),
        ]
        for method, url, kwargs in calls:
            response = await host.client.request(method, url, **kwargs)
            assert response.status_code == 503, (url, response.text)
            assert response.json() == UNAVAILABLE
            assert response.headers["retry-after"] == "5"
        await store.aclose()

    async def test_a_silent_server_times_out(self) -> None:
        with socket.socket() as silent:  # accepts connections (backlog), never answers
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            port = silent.getsockname()[1]
            store = RedisSessionStore(f"redis://127.0.0.1:{port}/0?socket_timeout=0.2")
            try:
                async with asyncio.timeout(10):
                    with pytest.raises(SessionStoreUnavailableError):
                        await store.get("any")
            finally:
                await store.aclose()


class TestConstruction:
    def test_exactly_one_of_url_and_client(self) -> None:
        with pytest.raises(ConfigurationError):
            RedisSessionStore()
        with pytest.raises(ConfigurationError):
            RedisSessionStore(REDIS_URL, client=redis.Redis())

    def test_missing_redis_gives_an_install_hint(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "redis", None)
        monkeypatch.setitem(sys.modules, "redis.asyncio", None)
        with pytest.raises(ImportError, match=r'pip install "fastapi-userkit\[redis\]"'):
            RedisSessionStore(REDIS_URL)

    def test_importing_the_kit_never_imports_redis(self) -> None:
        code = (
            "import sys, fastapi_userkit, fastapi_userkit.contrib.redis; "
            "assert 'redis' not in sys.modules, sorted(sys.modules)"
        )
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)  # noqa: S603

    async def test_a_given_client_is_left_open(self, redis_prefix: str) -> None:
        client = redis.Redis.from_url(REDIS_URL)  # bytes replies, not decoded
        store = RedisSessionStore(client=client, prefix=redis_prefix)
        now = datetime.now(UTC)
        session = make_session(now, "s1", "u1")
        await store.create(session, "h1", now + timedelta(minutes=5))
        assert await store.get("s1") == session
        assert await store.list_active("u1", now) == [session]
        rotated = await store.rotate("h1", "h2", timedelta(minutes=5), now)
        assert rotated == session
        with pytest.raises(RefreshTokenReuseError):
            await store.rotate("h1", "h3", timedelta(minutes=5), now)
        with pytest.raises(BadTokenError, match="session ended"):
            await store.rotate("h2", "h3", timedelta(minutes=5), now)
        await store.aclose()
        assert await client.ping()
        await client.aclose()


def make_session(
    now: datetime, session_id: str, user_id: str, lifetime: timedelta = timedelta(hours=1)
) -> LoginSession:
    return LoginSession(
        id=session_id,
        user_id=user_id,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
        user_agent="agent/1.0" if session_id != "s2" else None,
        ip="127.0.0.1",
    )


async def scenario(store: SessionStore, t0: datetime) -> list[Any]:
    """Drive a store through every branch; return what each step did."""
    minute, day = timedelta(minutes=1), timedelta(days=1)
    record: list[Any] = []

    async def rotate(old: str, new: str, ttl: timedelta, now: datetime) -> None:
        try:
            record.append(("ok", await store.rotate(old, new, ttl, now)))
        except RefreshTokenReuseError as exc:
            record.append(("reused", exc.session))
        except BadTokenError as exc:
            record.append(("bad", str(exc)))

    await store.create(make_session(t0, "s1", "u1"), "h1", t0 + 10 * minute)
    await store.create(
        make_session(t0 + minute, "s2", "u1", 2 * timedelta(hours=1)), "h2", t0 + day
    )
    await store.create(make_session(t0, "s3", "u2"), "h3", t0 + 10 * minute)
    await store.create(make_session(t0 + 2 * minute, "s4", "u2"), "h4", t0 + 10 * minute)
    await rotate("h1", "h1b", day, t0 + minute)  # ok; new token capped at the session's end
    await rotate("h1b", "h1c", 5 * minute, t0 + 2 * minute)  # ok
    await rotate("h1c", "h1d", day, t0 + 8 * minute)  # token expired at t0+7m
    await rotate("h1b", "h1e", day, t0 + 3 * minute)  # spent: reuse, s1 revoked
    await rotate("h1c", "h1f", day, t0 + 3 * minute)  # session ended
    await rotate("nope", "h", day, t0)  # unknown
    await rotate("h2", "h2b", day, t0 + 3 * timedelta(hours=1))  # session expired
    await rotate("h3", "h3b", day, t0 + 11 * minute)  # token expired
    record.append(await store.list_active("u1", t0 + 5 * minute))
    record.append(await store.list_active("u1", t0 + 3 * timedelta(hours=1)))
    record.append(await store.list_active("u2", t0 + 5 * minute))
    await store.revoke_all("u2", keep="s4")
    record.append(await store.list_active("u2", t0 + 5 * minute))
    await store.revoke("s4")
    await store.revoke("missing")
    record.append(await store.list_active("u2", t0 + 5 * minute))
    record.append(await store.list_active("nobody", t0))
    record.extend([await store.get(i) for i in ("s1", "s2", "s3", "s4", "missing")])
    await rotate("h4", "h4b", day, t0 + 5 * minute)  # revoked session
    return record


class TestStore:
    async def test_same_results_as_the_memory_store(self, store: RedisSessionStore) -> None:
        t0 = datetime.now(UTC)
        expected = await scenario(MemorySessionStore(), t0)
        assert await scenario(store, t0) == expected
        assert [step[0] for step in expected[:8]] == [
            "ok", "ok", "bad", "reused", "bad", "bad", "bad", "bad",
        ]  # fmt: skip

    async def test_rotation_caps_the_new_token_at_the_session_end(
        self, store: RedisSessionStore, redis_prefix: str
    ) -> None:
        now = datetime.now(UTC)
        session = make_session(now, "s1", "u1")
        await store.create(session, "h1", now + timedelta(minutes=10))
        rotated = await store.rotate("h1", "h2", timedelta(days=1), now + timedelta(seconds=1))
        assert rotated.last_used_at == now + timedelta(seconds=1)
        assert rotated.last_used_at.tzinfo is not None
        raw = await store.client.hgetall(f"{redis_prefix}rt:h2")
        end_us = (session.expires_at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(
            microseconds=1
        )
        assert raw == {"sid": "s1", "exp": str(end_us), "used": "0"}

    async def test_keys_expire_with_the_session(
        self, store: RedisSessionStore, redis_prefix: str
    ) -> None:
        now = datetime.now(UTC)
        await store.create(make_session(now, "s1", "u1", timedelta(hours=1)), "h1", now)
        await store.create(make_session(now, "s2", "u1", timedelta(hours=3)), "h2", now)
        await store.revoke("s1")  # a revoked session stays until its end
        hour_ms = 3_600_000
        for key, hours in [("session:s1", 1), ("rt:h1", 1), ("session:s2", 3), ("user:u1", 3)]:
            left = await store.client.pttl(f"{redis_prefix}{key}")
            assert hours * hour_ms - 60_000 < left <= hours * hour_ms, key

    async def test_expiry_without_sleeping(self, store: RedisSessionStore) -> None:
        now = datetime.now(UTC)
        session = make_session(now, "s1", "u1", timedelta(hours=1))
        await store.create(session, "h1", now + timedelta(minutes=10))
        assert await store.list_active("u1", now + timedelta(minutes=59)) == [session]
        assert await store.list_active("u1", now + timedelta(hours=1)) == []
        with pytest.raises(BadTokenError, match="refresh token expired"):
            await store.rotate("h1", "h2", timedelta(days=1), now + timedelta(minutes=10))
        with pytest.raises(BadTokenError, match="session ended"):
            await store.rotate("h1", "h2", timedelta(days=1), now + timedelta(hours=2))
        assert await store.get("s1") == session  # expired, not deleted before its TTL

    async def test_racing_stores_rotate_a_token_once(self, redis_prefix: str) -> None:
        """Ten rotations of one token from two clients (as from two processes)."""
        stores = [RedisSessionStore(REDIS_URL, prefix=redis_prefix) for _ in range(2)]
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

        outcomes = await asyncio.gather(*(attempt(i) for i in range(10)))
        assert outcomes.count("ok") == 1, outcomes
        assert outcomes.count("reused") >= 1, outcomes
        assert (await stores[1].get("s1")) is not None
        assert (await stores[1].get("s1")).revoked  # type: ignore[union-attr]
        for s in stores:
            await s.aclose()
