"""Login sessions through the HTTP API, on the SQL store (SQLite and PostgreSQL) and
the memory store."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from fastapi_userkit import MemorySessionStore, UserKitHooks
from tests.conftest import PASSWORD, Host


@pytest.fixture(params=["sqlite", "postgresql", "memory"])
def backend(request: pytest.FixtureRequest, make_settings: Any) -> dict[str, Any]:
    if request.param == "postgresql":
        engine = request.getfixturevalue("pg_engine")
        return {"database": engine, "settings": make_settings(create_tables=True)}
    if request.param == "memory":
        return {"session_store": MemorySessionStore()}
    return {}


@pytest.fixture
async def kit_host(make_host: Any, backend: dict[str, Any]) -> Host:
    return await make_host(**backend)  # type: ignore[no-any-return]


async def login(h: Host, email: str = "alice@example.com", **headers: str) -> dict[str, Any]:
    response = await h.client.post(
        "/auth/jwt/login", data={"username": email, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def refresh(h: Host, token: str) -> Any:
    return await h.client.post("/auth/jwt/refresh", json={"refresh_token": token})


async def me(h: Host, tokens: dict[str, Any]) -> int:
    return (await h.client.get("/users/me", headers=bearer(tokens))).status_code


class TestLoginAndRefresh:
    async def test_login_returns_a_pair_bound_to_a_session(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
        assert len(tokens["refresh_token"]) >= 43  # 256 bits, base64url
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        assert claims["sid"]
        assert await me(kit_host, tokens) == 200

    async def test_refresh_rotates(self, kit_host: Host) -> None:
        await kit_host.register()
        first = await login(kit_host)
        response = await refresh(kit_host, first["refresh_token"])
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        second = response.json()
        assert second["refresh_token"] != first["refresh_token"]
        sid = jwt.decode(second["access_token"], options={"verify_signature": False})["sid"]
        assert sid == jwt.decode(first["access_token"], options={"verify_signature": False})["sid"]
        assert await me(kit_host, second) == 200
        third = await refresh(kit_host, second["refresh_token"])
        assert third.status_code == 200

    async def test_reuse_revokes_the_family(self, make_host: Any, backend: dict[str, Any]) -> None:
        seen: list[str] = []

        class Hooks(UserKitHooks):
            async def on_refresh_token_reuse(self, user, request=None):  # type: ignore[no-untyped-def]
                seen.append(user.email)

        h: Host = await make_host(hooks=Hooks(), **backend)
        await h.register()
        first = await login(h)
        other = await login(h)  # another session, unaffected
        second = (await refresh(h, first["refresh_token"])).json()
        reused = await refresh(h, first["refresh_token"])
        assert reused.status_code == 401
        assert reused.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        assert seen == ["alice@example.com"]
        assert (await refresh(h, second["refresh_token"])).status_code == 401
        assert await me(h, second) == 401
        assert await me(h, first) == 401
        assert await me(h, other) == 200
        assert (await refresh(h, other["refresh_token"])).status_code == 200

    async def test_refresh_race_gives_at_most_one_pair(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        responses = await asyncio.gather(
            *(refresh(kit_host, tokens["refresh_token"]) for _ in range(10))
        )
        statuses = [r.status_code for r in responses]
        assert statuses.count(200) <= 1
        assert all(s in (200, 401) for s in statuses)

    @pytest.mark.parametrize(
        "token", ["", "x", "garbage" * 10, "a" * 257, "' OR 1=1 --", "\u0000" * 5]
    )
    async def test_bad_refresh_tokens(self, kit_host: Host, token: str) -> None:
        response = await refresh(kit_host, token)
        assert response.status_code in (401, 422)
        if response.status_code == 401:
            assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}

    @pytest.mark.parametrize(
        "body", [b"{", b"[]", b'{"refresh_token": 5}', b"{}", b'{"refresh_token": "a", "x": 1}']
    )
    async def test_malformed_refresh_bodies(self, kit_host: Host, body: bytes) -> None:
        response = await kit_host.client.post(
            "/auth/jwt/refresh", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 422

    async def test_access_token_is_not_a_refresh_token(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        assert (await refresh(kit_host, tokens["access_token"])).status_code in (401, 422)
        response = await kit_host.client.get(
            "/users/me", headers={"Authorization": f"Bearer {tokens['refresh_token']}"}
        )
        assert response.status_code == 401

    async def test_oauth2_refresh_grant_on_the_login_route(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        response = await kit_host.client.post(
            "/auth/jwt/login",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert response.status_code == 200
        assert await me(kit_host, response.json()) == 200
        again = await kit_host.client.post(
            "/auth/jwt/login",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert again.status_code == 400
        assert again.json()["error"] == "invalid_grant"
        assert again.json()["detail"] == "REFRESH_TOKEN_REUSED"
        unknown = await kit_host.client.post(
            "/auth/jwt/login", data={"grant_type": "refresh_token", "refresh_token": "nope"}
        )
        assert unknown.json() == {
            "error": "invalid_grant",
            "error_description": "REFRESH_TOKEN_INVALID",
            "detail": "REFRESH_TOKEN_INVALID",
        }
        missing = await kit_host.client.post(
            "/auth/jwt/login", data={"grant_type": "refresh_token"}
        )
        assert missing.status_code == 422

    async def test_inactive_user_cannot_refresh(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        user = await kit_host.kit.users.get_by_email("alice@example.com")
        await kit_host.kit.users.deactivate(user.id)
        assert (await refresh(kit_host, tokens["refresh_token"])).status_code == 401
        assert await me(kit_host, tokens) == 401


class TestLifetimes:
    async def test_refresh_token_expiry(
        self, make_host: Any, make_settings: Any, backend: dict[str, Any]
    ) -> None:
        settings = backend.pop("settings", None) or make_settings()
        h: Host = await make_host(
            settings=settings.model_copy(update={"refresh_token_ttl": 1}), **backend
        )
        await h.register()
        tokens = await login(h)
        store = h.kit._parts.session_store
        sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
        from fastapi_userkit.login_sessions import hash_refresh_token, new_refresh_token

        async with h.kit.database.open() as uow:
            later = datetime.now(UTC) + timedelta(seconds=5)
            with pytest.raises(Exception, match="expired"):
                await store.bind(uow).rotate(
                    hash_refresh_token(tokens["refresh_token"]),
                    new_refresh_token()[1],
                    timedelta(seconds=1),
                    later,
                )
            session = await store.bind(uow).get(sid)
        assert session is not None
        assert session.is_active(datetime.now(UTC))

    async def test_absolute_session_lifetime(
        self, make_host: Any, make_settings: Any, backend: dict[str, Any]
    ) -> None:
        settings = backend.pop("settings", None) or make_settings()
        h: Host = await make_host(
            settings=settings.model_copy(update={"session_ttl": 60}), **backend
        )
        await h.register()
        tokens = await login(h)
        sid = jwt.decode(tokens["access_token"], options={"verify_signature": False})["sid"]
        async with h.kit.database.open() as uow:
            session = await h.kit._parts.session_store.bind(uow).get(sid)
        assert session is not None
        assert session.expires_at - session.created_at == timedelta(seconds=60)
        assert not session.is_active(session.created_at + timedelta(seconds=61))


class TestLogout:
    async def test_logout_ends_this_session_at_once(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        other = await login(kit_host)
        response = await kit_host.client.post("/auth/jwt/logout", headers=bearer(tokens))
        assert response.status_code == 204
        assert await me(kit_host, tokens) == 401
        assert (await refresh(kit_host, tokens["refresh_token"])).status_code == 401
        assert await me(kit_host, other) == 200
        again = await kit_host.client.post("/auth/jwt/logout", headers=bearer(tokens))
        assert again.status_code == 401

    async def test_logout_all(self, kit_host: Host) -> None:
        await kit_host.register()
        sessions = [await login(kit_host) for _ in range(3)]
        response = await kit_host.client.post("/auth/jwt/logout-all", headers=bearer(sessions[0]))
        assert response.status_code == 204
        for tokens in sessions:
            assert await me(kit_host, tokens) == 401
            assert (await refresh(kit_host, tokens["refresh_token"])).status_code == 401
        assert await me(kit_host, await login(kit_host)) == 200

    async def test_logout_needs_a_token(self, kit_host: Host) -> None:
        for path in ("/auth/jwt/logout", "/auth/jwt/logout-all"):
            response = await kit_host.client.post(path)
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"

    async def test_on_after_logout_hook(self, make_host: Any) -> None:
        seen: list[str] = []

        class Hooks(UserKitHooks):
            async def on_after_logout(self, user, request=None):  # type: ignore[no-untyped-def]
                seen.append(user.email)

        h: Host = await make_host(hooks=Hooks())
        await h.register()
        await h.client.post("/auth/jwt/logout", headers=bearer(await login(h)))
        await h.client.post("/auth/jwt/logout-all", headers=bearer(await login(h)))
        assert seen == ["alice@example.com", "alice@example.com"]

    async def test_service_revoke_and_deactivate(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host)
        user = await kit_host.kit.users.get_by_email("alice@example.com")
        await kit_host.kit.users.revoke_sessions(user.id)
        assert await me(kit_host, tokens) == 401
        tokens = await login(kit_host)
        await kit_host.kit.users.deactivate(user.id)
        assert await me(kit_host, tokens) == 401


class TestSessionList:
    async def test_list_and_delete_own_sessions(self, kit_host: Host) -> None:
        await kit_host.register()
        first = await login(kit_host, **{"User-Agent": "phone/1.0"})
        second = await login(kit_host, **{"User-Agent": "laptop/2.0"})
        response = await kit_host.client.get("/auth/sessions", headers=bearer(second))
        assert response.status_code == 200
        listed = response.json()
        assert [s["user_agent"] for s in listed] == ["phone/1.0", "laptop/2.0"]
        assert [s["current"] for s in listed] == [False, True]
        assert set(listed[0]) == {
            "id",
            "created_at",
            "last_used_at",
            "expires_at",
            "user_agent",
            "ip",
            "current",
        }
        assert "refresh" not in response.text
        deleted = await kit_host.client.delete(
            f"/auth/sessions/{listed[0]['id']}", headers=bearer(second)
        )
        assert deleted.status_code == 204
        assert await me(kit_host, first) == 401
        assert await me(kit_host, second) == 200
        again = await kit_host.client.delete(
            f"/auth/sessions/{listed[0]['id']}", headers=bearer(second)
        )
        assert again.status_code == 404
        listed = (await kit_host.client.get("/auth/sessions", headers=bearer(second))).json()
        assert len(listed) == 1

    async def test_another_users_session_is_404(self, kit_host: Host) -> None:
        await kit_host.register()
        await kit_host.register("bob@example.com")
        alice = await login(kit_host)
        bob = await login(kit_host, "bob@example.com")
        bob_sid = jwt.decode(bob["access_token"], options={"verify_signature": False})["sid"]
        response = await kit_host.client.delete(f"/auth/sessions/{bob_sid}", headers=bearer(alice))
        assert response.status_code == 404
        assert response.json() == {"detail": "SESSION_NOT_FOUND"}
        assert await me(kit_host, bob) == 200
        for bad in ["nope", "x" * 300, "%00", "' OR 1=1 --"]:
            r = await kit_host.client.delete(f"/auth/sessions/{bad}", headers=bearer(alice))
            assert r.status_code == 404

    async def test_list_needs_a_token(self, kit_host: Host) -> None:
        assert (await kit_host.client.get("/auth/sessions")).status_code == 401


class TestPasswordChange:
    async def test_ends_other_sessions_keeps_this_one(self, kit_host: Host) -> None:
        await kit_host.register()
        here = await login(kit_host)
        elsewhere = await login(kit_host)
        response = await kit_host.client.post(
            "/users/me/password",
            headers=bearer(here),
            json={"current_password": PASSWORD, "new_password": "a fresh passphrase"},
        )
        assert response.status_code == 204
        assert await me(kit_host, elsewhere) == 401
        assert (await refresh(kit_host, elsewhere["refresh_token"])).status_code == 401
        # this session goes on: its refresh token yields tokens of the new version
        renewed = await refresh(kit_host, here["refresh_token"])
        assert renewed.status_code == 200
        assert await me(kit_host, renewed.json()) == 200
        assert await kit_host.login(password="a fresh passphrase")

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (
                {"current_password": "wrong one", "new_password": "a fresh passphrase"},
                "CURRENT_PASSWORD_INVALID",
            ),
            (
                {"current_password": PASSWORD, "new_password": "short"},
                {
                    "code": "UPDATE_USER_INVALID_PASSWORD",
                    "reason": ["Password must be at least 8 characters long."],
                },
            ),
        ],
    )
    async def test_refusals_change_nothing(
        self, kit_host: Host, body: dict[str, str], detail: Any
    ) -> None:
        await kit_host.register()
        here = await login(kit_host)
        elsewhere = await login(kit_host)
        response = await kit_host.client.post("/users/me/password", headers=bearer(here), json=body)
        assert response.status_code == 400
        assert response.json() == {"detail": detail}
        assert await me(kit_host, elsewhere) == 200
        assert await kit_host.login()

    async def test_malformed(self, kit_host: Host) -> None:
        await kit_host.register()
        here = await login(kit_host)
        for body in ({}, {"new_password": "x"}, {"current_password": 1, "new_password": 2}):
            r = await kit_host.client.post("/users/me/password", headers=bearer(here), json=body)
            assert r.status_code == 422
        assert (await kit_host.client.post("/users/me/password", json={})).status_code == 401


class TestWebSocketRevocation:
    def test_logged_out_token_closes_the_socket(self, settings: Any) -> None:
        from typing import Annotated

        from fastapi import Depends, FastAPI, WebSocket
        from starlette.testclient import TestClient
        from starlette.websockets import WebSocketDisconnect

        from fastapi_userkit import include_user_router

        app = FastAPI()
        kit = include_user_router(app, settings=settings)

        @app.websocket("/ws")
        async def ws(
            websocket: WebSocket, user: Annotated[Any, Depends(kit.current_user_ws())]
        ) -> None:
            await websocket.accept()
            await websocket.send_text(user.email)
            await websocket.close()

        with TestClient(app) as client:
            client.post("/auth/register", json={"email": "w@example.com", "password": PASSWORD})
            tokens = client.post(
                "/auth/jwt/login", data={"username": "w@example.com", "password": PASSWORD}
            ).json()
            with client.websocket_connect(f"/ws?access_token={tokens['access_token']}") as s:
                assert s.receive_text() == "w@example.com"
            client.post(
                "/auth/jwt/logout", headers={"Authorization": f"Bearer {tokens['access_token']}"}
            )
            with (
                pytest.raises(WebSocketDisconnect) as info,
                client.websocket_connect(f"/ws?access_token={tokens['access_token']}") as s,
            ):
                s.receive_text()
            assert info.value.code == 1008


class TestHostileInputOnEveryBackend:
    @pytest.mark.parametrize(
        "email", ["alice@example.com\x00", "\x00", "a" * 400 + "@example.com", "' OR 1=1 --"]
    )
    async def test_login_with_strange_emails(self, kit_host: Host, email: str) -> None:
        await kit_host.register()
        response = await kit_host.client.post(
            "/auth/jwt/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code in (400, 422)

    async def test_nul_in_user_agent_is_dropped(self, kit_host: Host) -> None:
        await kit_host.register()
        tokens = await login(kit_host, **{"User-Agent": "evil\x00agent"})
        listed = (await kit_host.client.get("/auth/sessions", headers=bearer(tokens))).json()
        assert listed[0]["user_agent"] == "evilagent"
