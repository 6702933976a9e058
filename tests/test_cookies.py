"""Cookie transport: attributes, CSRF double submit, origin checks, rotation, logout."""

from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Host

ORIGIN = "https://testserver"


@pytest.fixture
async def cookie_host(make_host: Any, make_settings: Any) -> Host:
    h: Host = await make_host(settings=make_settings(cookie_transport=True))
    h.client.base_url = httpx.URL(ORIGIN)  # Secure cookies travel over https only
    await h.register()
    return h


async def cookie_login(h: Host, **headers: str) -> httpx.Response:
    return await h.client.post(
        "/auth/cookie/login",
        data={"username": "alice@example.com", "password": PASSWORD},
        headers=headers,
    )


def csrf(h: Host) -> dict[str, str]:
    return {"X-CSRF-Token": h.client.cookies["__Host-userkit_csrf"]}


class TestCookieLogin:
    async def test_sets_host_prefixed_httponly_secure_cookies(self, cookie_host: Host) -> None:
        response = await cookie_login(cookie_host)
        assert response.status_code == 204
        assert response.content == b""
        set_cookies = {
            c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")
        }
        assert set(set_cookies) == {
            "__Host-userkit_access",
            "__Host-userkit_refresh",
            "__Host-userkit_csrf",
        }
        for name, cookie in set_cookies.items():
            assert "secure" in cookie
            assert "path=/" in cookie
            assert "samesite=lax" in cookie
            assert "domain=" not in cookie
            assert ("httponly" in cookie) == (name != "__Host-userkit_csrf")

    async def test_cookie_authenticates_safe_requests(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        me = await cookie_host.client.get("/users/me")
        assert me.status_code == 200
        assert me.json()["email"] == "alice@example.com"

    async def test_wrong_password(self, cookie_host: Host) -> None:
        response = await cookie_host.client.post(
            "/auth/cookie/login", data={"username": "alice@example.com", "password": "nope nope"}
        )
        assert response.status_code == 400
        assert response.json() == {"detail": "LOGIN_BAD_CREDENTIALS"}
        assert "set-cookie" not in response.headers

    @pytest.mark.parametrize(
        "headers",
        [
            {"Origin": "https://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"},
        ],
    )
    async def test_cross_site_login_refused(
        self, cookie_host: Host, headers: dict[str, str]
    ) -> None:
        response = await cookie_login(cookie_host, **headers)
        assert response.status_code == 403
        assert response.json() == {"detail": "CSRF_FAILED"}

    async def test_same_origin_login_allowed(self, cookie_host: Host) -> None:
        response = await cookie_login(
            cookie_host, Origin=ORIGIN, **{"Sec-Fetch-Site": "same-origin"}
        )
        assert response.status_code == 204

    async def test_refresh_grant_not_on_cookie_login(self, cookie_host: Host) -> None:
        response = await cookie_host.client.post(
            "/auth/cookie/login", data={"grant_type": "refresh_token", "refresh_token": "x"}
        )
        assert response.status_code == 400


class TestCsrf:
    async def test_unsafe_request_needs_the_token(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        body = {"email": "new@example.com", "current_password": PASSWORD}
        refused = await cookie_host.client.patch("/users/me", json=body)
        assert refused.status_code == 403
        assert refused.json() == {"detail": "CSRF_FAILED"}
        wrong = await cookie_host.client.patch(
            "/users/me", json=body, headers={"X-CSRF-Token": "guess"}
        )
        assert wrong.status_code == 403
        assert (await cookie_host.client.get("/users/me")).json()["email"] == "alice@example.com"
        ok = await cookie_host.client.patch("/users/me", json=body, headers=csrf(cookie_host))
        assert ok.status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}],
    )
    async def test_cross_site_unsafe_request_refused_even_with_token(
        self, cookie_host: Host, headers: dict[str, str]
    ) -> None:
        await cookie_login(cookie_host)
        response = await cookie_host.client.post(
            "/auth/jwt/logout-all", headers={**csrf(cookie_host), **headers}
        )
        assert response.status_code == 403

    async def test_trusted_origin(self, make_host: Any, make_settings: Any) -> None:
        h: Host = await make_host(
            settings=make_settings(
                cookie_transport=True, csrf_trusted_origins=["https://app.example.com"]
            )
        )
        h.client.base_url = httpx.URL(ORIGIN)
        await h.register()
        login = await cookie_login(
            h, Origin="https://app.example.com", **{"Sec-Fetch-Site": "same-site"}
        )
        assert login.status_code == 204
        response = await h.client.post(
            "/auth/cookie/logout", headers={**csrf(h), "Origin": "https://app.example.com"}
        )
        assert response.status_code == 204

    async def test_bearer_requests_need_no_csrf(self, cookie_host: Host) -> None:
        tokens = (
            await cookie_host.client.post(
                "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
            )
        ).json()
        response = await cookie_host.client.post(
            "/auth/jwt/logout",
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "Origin": "https://elsewhere.example",
            },
        )
        assert response.status_code == 204


class TestCookieRefreshAndLogout:
    async def test_refresh_rotates_cookies(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        old_refresh = cookie_host.client.cookies["__Host-userkit_refresh"]
        assert (await cookie_host.client.post("/auth/cookie/refresh")).status_code == 403
        response = await cookie_host.client.post("/auth/cookie/refresh", headers=csrf(cookie_host))
        assert response.status_code == 204
        assert cookie_host.client.cookies["__Host-userkit_refresh"] != old_refresh
        assert (await cookie_host.client.get("/users/me")).status_code == 200

    async def test_reused_refresh_cookie_revokes_and_clears(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        old_refresh = cookie_host.client.cookies["__Host-userkit_refresh"]
        headers = csrf(cookie_host)
        await cookie_host.client.post("/auth/cookie/refresh", headers=headers)
        cookie_host.client.cookies.set("__Host-userkit_refresh", old_refresh)
        response = await cookie_host.client.post("/auth/cookie/refresh", headers=csrf(cookie_host))
        assert response.status_code == 401
        assert response.json() == {"detail": "REFRESH_TOKEN_REUSED"}
        assert "__Host-userkit_access" not in cookie_host.client.cookies
        assert (await cookie_host.client.get("/users/me")).status_code == 401

    async def test_refresh_without_cookie(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        headers = csrf(cookie_host)
        cookie_host.client.cookies.delete("__Host-userkit_refresh")
        response = await cookie_host.client.post("/auth/cookie/refresh", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "REFRESH_TOKEN_INVALID"}

    async def test_logout_clears_cookies_and_ends_the_session(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        access = cookie_host.client.cookies["__Host-userkit_access"]
        assert (await cookie_host.client.post("/auth/cookie/logout")).status_code == 403
        response = await cookie_host.client.post("/auth/cookie/logout", headers=csrf(cookie_host))
        assert response.status_code == 204
        assert "__Host-userkit_access" not in cookie_host.client.cookies
        replay = await cookie_host.client.get(
            "/users/me", headers={"Authorization": f"Bearer {access}"}
        )
        assert replay.status_code == 401

    async def test_sessions_list_via_cookie(self, cookie_host: Host) -> None:
        await cookie_login(cookie_host)
        listed = (await cookie_host.client.get("/auth/sessions")).json()
        assert len(listed) == 1
        assert listed[0]["current"] is True


class TestTransportSettings:
    async def test_insecure_cookies_for_local_http(
        self, make_host: Any, make_settings: Any
    ) -> None:
        h: Host = await make_host(
            settings=make_settings(cookie_transport=True, cookie_secure=False)
        )
        await h.register()
        response = await cookie_login(h)
        names = sorted(c.split("=", 1)[0] for c in response.headers.get_list("set-cookie"))
        assert names == ["userkit_access", "userkit_csrf", "userkit_refresh"]
        assert all("secure" not in c.lower() for c in response.headers.get_list("set-cookie"))
        assert (await h.client.get("/users/me")).status_code == 200

    async def test_both_schemes_in_openapi(self, cookie_host: Host) -> None:
        schema = (await cookie_host.client.get("/openapi.json")).json()
        schemes = schema["components"]["securitySchemes"]
        assert schemes["AccessCookie"] == {
            "type": "apiKey",
            "in": "cookie",
            "name": "__Host-userkit_access",
        }
        assert "OAuth2PasswordBearer" in schemes
        security = schema["paths"]["/users/me"]["get"]["security"]
        assert {"OAuth2PasswordBearer": []} in security
        assert {"AccessCookie": []} in security
        assert "/auth/cookie/login" in schema["paths"]

    async def test_cookie_only(self, make_host: Any, make_settings: Any) -> None:
        h: Host = await make_host(
            settings=make_settings(cookie_transport=True, bearer_transport=False)
        )
        h.client.base_url = httpx.URL(ORIGIN)
        await h.register()
        assert (await h.client.post("/auth/jwt/login", data={})).status_code == 404
        await cookie_login(h)
        access = h.client.cookies["__Host-userkit_access"]
        h.client.cookies.clear()
        response = await h.client.get("/users/me", headers={"Authorization": f"Bearer {access}"})
        assert response.status_code == 401

    async def test_cookie_routes_off_by_default(self, host: Host) -> None:
        assert (await host.client.post("/auth/cookie/login", data={})).status_code == 404


def test_websocket_reads_the_cookie_and_checks_origin(make_settings: Any) -> None:
    from typing import Annotated

    from fastapi import Depends, FastAPI, WebSocket
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    from fastapi_userkit import include_user_router

    app = FastAPI()
    kit = include_user_router(
        app, settings=make_settings(cookie_transport=True, cookie_secure=False)
    )

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket, user: Annotated[Any, Depends(kit.current_user_ws())]
    ) -> None:
        await websocket.accept()
        await websocket.send_text(user.email)
        await websocket.close()

    with TestClient(app) as client:
        client.post("/auth/register", json={"email": "c@example.com", "password": PASSWORD})
        client.post("/auth/cookie/login", data={"username": "c@example.com", "password": PASSWORD})
        with client.websocket_connect("/ws") as socket:
            assert socket.receive_text() == "c@example.com"
        with (
            pytest.raises(WebSocketDisconnect) as info,
            client.websocket_connect("/ws", headers={"Origin": "https://evil.example"}) as socket,
        ):
            socket.receive_text()
        assert info.value.code == 1008
