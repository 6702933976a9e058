import asyncio
import base64
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
import pytest
from fastapi import Depends, FastAPI, WebSocket
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from fastapi_userkit._keys import hmac_kid
from tests.conftest import PASSWORD, SECRET, Host


def _forge(
    claims: dict[str, Any], *, key: str = SECRET, alg: str = "HS256", typ: str | None = "at+jwt"
) -> str:
    now = int(time.time())
    payload = {
        "aud": "fastapi-userkit",
        "iss": "fastapi-userkit",
        "iat": now,
        "exp": now + 60,
        "jti": "abcdefghijklmnop",
        "type": "access",
        "ver": 0,
    }
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    headers = {"kid": hmac_kid(SECRET.encode())}
    if typ:
        headers["typ"] = typ
    return jwt.encode(payload, key, algorithm=alg, headers=headers)


def _unsigned(claims: dict[str, Any]) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'at+jwt'})}.{b64(claims)}."


class TestTokens:
    async def test_valid_token(self, host: Host) -> None:
        headers = await host.headers()
        response = await host.client.get("/users/me", headers=headers)
        assert response.status_code == 200
        assert response.json()["email"] == "alice@example.com"

    @pytest.mark.parametrize(
        "make_token",
        [
            pytest.param(lambda c: "", id="empty"),
            pytest.param(lambda c: "garbage", id="garbage"),
            pytest.param(lambda c: "a.b.c", id="three-garbage-parts"),
            pytest.param(lambda c: "x" * 10_000, id="oversized"),
            pytest.param(lambda c: "é" * 50, id="non-ascii"),
            pytest.param(lambda c: _forge(c)[:-5], id="truncated"),
            pytest.param(lambda c: _forge(c, key="another-key-" * 4), id="foreign-key"),
            pytest.param(lambda c: _forge(c, key=SECRET * 2, alg="HS512"), id="other-alg"),
            pytest.param(lambda c: _unsigned(c), id="alg-none"),
            pytest.param(lambda c: _forge({**c, "exp": int(time.time()) - 10}), id="expired"),
            pytest.param(lambda c: _forge({**c, "aud": "other"}), id="wrong-aud"),
            pytest.param(lambda c: _forge({**c, "iss": "other"}), id="wrong-iss"),
            pytest.param(lambda c: _forge({**c, "type": "refresh"}), id="wrong-type"),
            pytest.param(lambda c: _forge(c, typ="JWT"), id="wrong-typ-header"),
            pytest.param(lambda c: _forge(c, typ=None), id="no-typ-header"),
            pytest.param(lambda c: _forge({**c, "jti": None}), id="no-jti"),
            pytest.param(lambda c: _forge({**c, "iat": None}), id="no-iat"),
            pytest.param(lambda c: _forge({**c, "ver": None}), id="no-version"),
            pytest.param(lambda c: _forge({**c, "ver": "0"}), id="string-version"),
            pytest.param(lambda c: _forge({**c, "ver": 1}), id="future-version"),
            pytest.param(lambda c: _forge({**c, "sub": None}), id="no-sub"),
            pytest.param(lambda c: _forge({**c, "sub": 123}), id="int-sub"),
            pytest.param(lambda c: _forge({**c, "sub": "not-a-uuid"}), id="bad-sub"),
            pytest.param(lambda c: _forge({**c, "sub": str(uuid.uuid4())}), id="unknown-user"),
            pytest.param(lambda c: _forge({**c, "sub": "' OR 1=1 --"}), id="sql-sub"),
            pytest.param(lambda c: _forge({**c, "iat": "yesterday"}), id="string-iat"),
            pytest.param(lambda c: _forge({**c, "sid": None}), id="no-sid"),
            pytest.param(lambda c: _forge({**c, "sid": 5}), id="int-sid"),
            pytest.param(lambda c: _forge({**c, "sid": str(uuid.uuid4())}), id="unknown-sid"),
            pytest.param(lambda c: _forge({**c, "sid": "x" * 5000}), id="huge-sid"),
        ],
    )
    async def test_bad_tokens_are_401(self, host: Host, make_token: Any) -> None:
        real = (await host.headers())["Authorization"].split()[1]
        token = make_token(jwt.decode(real, options={"verify_signature": False}))
        header = f"Bearer {token}".encode()
        response = await host.client.get("/users/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.json() == {"detail": "Unauthorized"}
        # RFC 6750 §3.1: a refused token says so; an empty one counts as none sent
        expected = 'Bearer error="invalid_token"' if token else "Bearer"
        assert response.headers["www-authenticate"] == expected

    @pytest.mark.parametrize(
        "header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer", "Token abc"]
    )
    async def test_missing_or_other_scheme_is_401(self, host: Host, header: str) -> None:
        response = await host.client.get("/users/me", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    async def test_forged_token_with_right_key_works(self, host: Host) -> None:
        # Sanity check of the forging helper: the 401s above are about the claim changed.
        real = (await host.headers())["Authorization"].split()[1]
        token = _forge(jwt.decode(real, options={"verify_signature": False}))
        response = await host.client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200

    async def test_session_of_another_user_is_401(self, host: Host) -> None:
        alice = (await host.headers())["Authorization"].split()[1]
        bob = (await host.headers("bob@example.com"))["Authorization"].split()[1]
        claims = jwt.decode(alice, options={"verify_signature": False})
        claims["sid"] = jwt.decode(bob, options={"verify_signature": False})["sid"]
        forged = _forge(claims)
        response = await host.client.get("/users/me", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401

    async def test_token_of_deleted_user_is_401(self, host: Host) -> None:
        headers = await host.headers()
        async with host.kit.database.open() as uow:
            user = await host.kit._parts.accounts.users(uow).get_by_email("alice@example.com")
            await uow.session.delete(user)
            await uow.commit()
        assert (await host.client.get("/users/me", headers=headers)).status_code == 401

    async def test_set_password_invalidates_earlier_tokens(self, host: Host) -> None:
        headers = await host.headers()
        user = await host.kit.users.get_by_email("alice@example.com")
        await host.kit.users.set_password(user.id, "a brand new password")
        assert (await host.client.get("/users/me", headers=headers)).status_code == 401
        assert await host.login(password="a brand new password")

    async def test_token_from_another_kit_secret_is_401(self, make_host, make_settings) -> None:  # type: ignore[no-untyped-def]
        a: Host = await make_host()
        other = make_settings(secret_key="f" * 16 + "0123456789abcdef-other")
        b: Host = await make_host(settings=other)
        headers = await a.headers()
        assert (await b.client.get("/users/me", headers=headers)).status_code == 401

    async def test_expiry_uses_ttl_setting(self, make_host, make_settings) -> None:  # type: ignore[no-untyped-def]
        h: Host = await make_host(settings=make_settings(access_token_ttl=1))
        headers = await h.headers()
        token = headers["Authorization"].split()[1]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 1
        issued = datetime.fromtimestamp(claims["iat"], UTC)
        assert issued <= datetime.now(UTC) + timedelta(seconds=1)

    async def test_accepted_token_is_refused_once_expired(self, make_host, make_settings) -> None:  # type: ignore[no-untyped-def]
        # The kit remembers tokens it verified; the memory must not outlive `exp`.
        h: Host = await make_host(settings=make_settings(access_token_ttl=1))
        headers = await h.headers()
        token = headers["Authorization"].split()[1]
        expires = jwt.decode(token, options={"verify_signature": False})["exp"]
        assert (await h.client.get("/users/me", headers=headers)).status_code == 200
        assert (await h.client.get("/users/me", headers=headers)).status_code == 200
        await asyncio.sleep(max(0.0, expires - time.time()) + 0.05)
        response = await h.client.get("/users/me", headers=headers)
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    async def test_revocation_is_seen_by_a_token_already_accepted(self, host: Host) -> None:
        headers = await host.headers()
        assert (await host.client.get("/users/me", headers=headers)).status_code == 200
        assert (await host.client.post("/auth/jwt/logout", headers=headers)).status_code == 204
        assert (await host.client.get("/users/me", headers=headers)).status_code == 401


def _guarded_app() -> FastAPI:
    return FastAPI()


class TestGuards:
    @pytest.fixture
    async def guarded(self, make_host) -> Host:  # type: ignore[no-untyped-def]
        app = FastAPI()
        h: Host = await make_host(app)
        kit = h.kit
        for name, kwargs in {
            "active": {},
            "any": {"active": False},
            "verified": {"verified": True},
            "superuser": {"superuser": True},
            "optional": {"optional": True},
            "optional-superuser": {"optional": True, "superuser": True},
        }.items():
            dep = kit.current_user(**kwargs)

            async def endpoint(user: Annotated[Any, Depends(dep)]) -> dict[str, Any]:
                return {"email": user.email if user else None}

            app.add_api_route(f"/guard/{name}", endpoint)
        return h

    async def _user(self, h: Host, email: str, **flags: bool) -> dict[str, str]:
        await h.kit.users.create(
            email=email, password=PASSWORD, **{k: v for k, v in flags.items() if k != "is_active"}
        )
        headers = {"Authorization": f"Bearer {await h.login(email)}"}
        if flags.get("is_active") is False:
            async with h.kit.database.open() as uow:
                user = await h.kit._parts.accounts.users(uow).get_by_email(email)
                assert user is not None
                user.is_active = False
                await uow.commit()
        return headers

    @pytest.mark.parametrize(
        ("flags", "expected"),
        [
            pytest.param(
                {},
                {
                    "active": 200,
                    "any": 200,
                    "verified": 403,
                    "superuser": 403,
                    "optional": 200,
                    "optional-superuser": 200,
                },
                id="plain",
            ),
            pytest.param(
                {"is_verified": True},
                {"active": 200, "verified": 200, "superuser": 403},
                id="verified",
            ),
            pytest.param(
                {"is_superuser": True},
                {"active": 200, "verified": 403, "superuser": 200},
                id="superuser",
            ),
            pytest.param(
                {"is_active": False},
                {"active": 401, "any": 200, "verified": 401, "superuser": 401, "optional": 200},
                id="inactive",
            ),
        ],
    )
    async def test_matrix(
        self, guarded: Host, flags: dict[str, bool], expected: dict[str, int]
    ) -> None:
        headers = await self._user(guarded, "u@example.com", **flags)
        for name, status in expected.items():
            response = await guarded.client.get(f"/guard/{name}", headers=headers)
            assert response.status_code == status, (name, response.text)
            if status == 403:
                assert response.json() == {"detail": "Forbidden"}

    async def test_optional_returns_none(self, guarded: Host) -> None:
        await self._user(guarded, "u@example.com")
        assert (await guarded.client.get("/guard/optional")).json() == {"email": None}
        bad = {"Authorization": "Bearer nope"}
        assert (await guarded.client.get("/guard/optional", headers=bad)).json() == {"email": None}
        plain = await self._user(guarded, "p@example.com")
        response = await guarded.client.get("/guard/optional-superuser", headers=plain)
        assert response.json() == {"email": None}

    async def test_aliases_and_same_dependency_object(self, host: Host) -> None:
        kit = host.kit
        assert kit.current_user() is kit.current_user(active=True)
        assert kit.current_user(superuser=True) is not kit.current_user()
        app = host.app

        @app.get("/alias")
        async def alias(user: kit.CurrentUser, maybe: kit.OptionalUser) -> str:  # type: ignore[name-defined]
            assert user is maybe
            return str(user.email)

        headers = await host.headers()
        assert (await host.client.get("/alias", headers=headers)).json() == "alice@example.com"
        assert (await host.client.get("/alias")).status_code == 401


class TestWebSocket:
    def _app(self, settings: Any) -> tuple[FastAPI, Any]:
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

        @app.websocket("/ws-admin")
        async def ws_admin(
            websocket: WebSocket, user: Annotated[Any, Depends(kit.current_user_ws(superuser=True))]
        ) -> None:
            await websocket.accept()
            await websocket.close()

        return app, kit

    def test_websocket_auth(self, settings: Any) -> None:
        app, _ = self._app(settings)
        with TestClient(app) as client:
            client.post("/auth/register", json={"email": "ws@example.com", "password": PASSWORD})
            token = client.post(
                "/auth/jwt/login", data={"username": "ws@example.com", "password": PASSWORD}
            ).json()["access_token"]
            with client.websocket_connect("/ws", headers={"Authorization": f"Bearer {token}"}) as s:
                assert s.receive_text() == "ws@example.com"
            with client.websocket_connect(f"/ws?access_token={token}") as s:
                assert s.receive_text() == "ws@example.com"
            for url, headers in [
                ("/ws", {}),
                ("/ws?access_token=garbage", {}),
                ("/ws", {"Authorization": "Bearer garbage"}),
                ("/ws-admin", {"Authorization": f"Bearer {token}"}),
            ]:
                with (
                    pytest.raises(WebSocketDisconnect) as info,
                    client.websocket_connect(url, headers=headers) as s,
                ):
                    s.receive_text()
                assert info.value.code == 1008
