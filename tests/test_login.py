import asyncio
import json

import jwt
import pytest

from fastapi_userkit import UserKitHooks
from tests.conftest import PASSWORD, SECRET, Host


def oauth_error(code: str) -> dict[str, str]:
    """The token endpoint's refusal: RFC 6749 §5.2 `error` beside the kit's code."""
    return {"error": "invalid_grant", "error_description": code, "detail": code}


class TestLogin:
    async def test_form_login(self, host: Host) -> None:
        await host.register()
        response = await host.client.post(
            "/auth/jwt/login",
            data={"username": "alice@example.com", "password": PASSWORD, "grant_type": "password"},
        )
        assert response.status_code == 200
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == 900
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["pragma"] == "no-cache"

    async def test_multipart_form_login(self, host: Host) -> None:
        await host.register()
        response = await host.client.post(
            "/auth/jwt/login",
            files={"username": (None, "alice@example.com"), "password": (None, PASSWORD)},
        )
        assert response.status_code == 200

    async def test_json_login(self, host: Host) -> None:
        await host.register()
        response = await host.client.post(
            "/auth/jwt/login", json={"email": "ALICE@example.com", "password": PASSWORD}
        )
        assert response.status_code == 200
        assert response.json()["access_token"]

    async def test_access_token_claims(self, host: Host) -> None:
        user_id = (await host.register()).json()["id"]
        token = await host.login()
        header = jwt.get_unverified_header(token)
        assert header["typ"] == "at+jwt"
        assert header["alg"] == "HS256"
        claims = jwt.decode(token, SECRET, algorithms=["HS256"], audience="fastapi-userkit")
        assert claims["sub"] == user_id
        assert claims["iss"] == "fastapi-userkit"
        assert claims["type"] == "access"
        assert claims["ver"] == 0
        assert claims["exp"] - claims["iat"] == 900
        assert len(claims["jti"]) >= 16

    @pytest.mark.parametrize(
        ("email", "password"),
        [
            pytest.param("nobody@example.com", PASSWORD, id="unknown-email"),
            pytest.param("alice@example.com", "wrong password", id="wrong-password"),
            pytest.param("alice@example.com", "", id="empty-password"),
            pytest.param("not an email", PASSWORD, id="not-an-email"),
            pytest.param("alice@example.com", PASSWORD[:-1], id="prefix"),
            pytest.param("alice@example.com", PASSWORD + "\x00", id="nul-suffix"),
        ],
    )
    async def test_bad_credentials_are_one_answer(
        self, host: Host, email: str, password: str
    ) -> None:
        await host.register()
        response = await host.client.post(
            "/auth/jwt/login", data={"username": email, "password": password}
        )
        assert response.status_code == 400
        assert response.json() == oauth_error("LOGIN_BAD_CREDENTIALS")

    async def test_inactive_user_gets_bad_credentials(self, host: Host) -> None:
        user = await host.kit.users.create(
            email="off@example.com", password=PASSWORD, is_active=False
        )
        assert user.is_active is False
        response = await host.client.post(
            "/auth/jwt/login", data={"username": "off@example.com", "password": PASSWORD}
        )
        assert response.json() == oauth_error("LOGIN_BAD_CREDENTIALS")

    async def test_unverified_user_refused_when_required(self, make_host, make_settings) -> None:  # type: ignore[no-untyped-def]
        h: Host = await make_host(settings=make_settings(require_verified_login=True))
        await h.register()
        wrong = await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": "nope nope"}
        )
        assert wrong.json() == oauth_error("LOGIN_BAD_CREDENTIALS")  # password checked first
        response = await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert response.status_code == 400
        assert response.json() == oauth_error("LOGIN_USER_NOT_VERIFIED")
        await h.kit.users.create(email="ok@example.com", password=PASSWORD, is_verified=True)
        assert await h.login("ok@example.com")

    @pytest.mark.parametrize(
        ("kwargs", "status"),
        [
            pytest.param(
                {"content": b"{not json", "headers": {"content-type": "application/json"}},
                422,
                id="malformed-json",
            ),
            pytest.param(
                {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
                422,
                id="not-utf8",
            ),
            pytest.param({"json": ["a", "b"]}, 422, id="json-array"),
            pytest.param({"json": {"email": 1, "password": 2}}, 422, id="wrong-types"),
            pytest.param({"json": {"email": "a@b.c"}}, 422, id="missing-password"),
            pytest.param(
                {"json": {"email": "a@b.c", "password": "x", "x": 1}}, 422, id="unknown-field"
            ),
            pytest.param({"data": {"username": "a@b.c"}}, 422, id="form-missing-password"),
            pytest.param(
                {"content": b"", "headers": {"content-type": "application/x-www-form-urlencoded"}},
                422,
                id="form-empty",
            ),
            pytest.param(
                {"content": b"x", "headers": {"content-type": "text/plain"}}, 415, id="text-plain"
            ),
            pytest.param({"content": b""}, 415, id="no-body"),
            pytest.param(
                {"data": {"username": "a@b.c", "password": "p", "grant_type": "x"}},
                400,
                id="unknown-grant",
            ),
            pytest.param(
                {"files": {"username": ("u.txt", b"a@b.c"), "password": (None, "p")}},
                400,
                id="file-upload",
            ),
            pytest.param(
                {"content": b"x" * 70_000, "headers": {"content-type": "application/json"}},
                413,
                id="huge",
            ),
        ],
    )
    async def test_bad_bodies_are_4xx(self, host: Host, kwargs: dict, status: int) -> None:  # type: ignore[type-arg]
        response = await host.client.post("/auth/jwt/login", **kwargs)
        assert response.status_code == status, response.text

    async def test_one_megabyte_password(self, host: Host) -> None:
        await host.register()
        response = await host.client.post(
            "/auth/jwt/login", json={"email": "alice@example.com", "password": "x" * 1_000_000}
        )
        assert response.status_code == 413
        assert response.json() == {"detail": "REQUEST_TOO_LARGE"}

    async def test_chunked_body_over_limit(self, host: Host) -> None:
        async def chunks():  # type: ignore[no-untyped-def]
            body = json.dumps({"email": "a@b.c", "password": "x" * 100_000}).encode()
            for i in range(0, len(body), 8192):
                yield body[i : i + 8192]

        response = await host.client.post(
            "/auth/jwt/login", content=chunks(), headers={"content-type": "application/json"}
        )
        assert response.status_code == 413

    async def test_hook_on_after_login_can_see_response(self, make_host) -> None:  # type: ignore[no-untyped-def]
        class Hooks(UserKitHooks):
            async def on_after_login(self, user, request=None, response=None):  # type: ignore[no-untyped-def]
                response.headers["X-Logged-In"] = user.email

        h: Host = await make_host(hooks=Hooks())
        await h.register()
        response = await h.client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
        assert response.headers["x-logged-in"] == "alice@example.com"

    async def test_failing_hook_is_logged_not_raised(self, make_host, caplog) -> None:  # type: ignore[no-untyped-def]
        class Hooks(UserKitHooks):
            async def on_after_login(self, user, request=None, response=None):  # type: ignore[no-untyped-def]
                raise RuntimeError("mail server down")

        h: Host = await make_host(hooks=Hooks())
        await h.register()
        assert await h.login()
        assert "hook on_after_login failed" in caplog.text
        assert "mail server down" in caplog.text

    async def test_concurrent_logins(self, host: Host) -> None:
        await host.register()
        tokens = await asyncio.gather(*(host.login() for _ in range(5)))
        assert len(set(tokens)) == 5

    async def test_openapi_declares_oauth2_password_flow(self, host: Host) -> None:
        schema = (await host.client.get("/openapi.json")).json()
        flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
        assert flows["password"]["tokenUrl"] == "auth/jwt/login"
        body = schema["paths"]["/auth/jwt/login"]["post"]["requestBody"]["content"]
        assert {"application/x-www-form-urlencoded", "application/json"} <= set(body)
        me = schema["paths"]["/users/me"]["get"]
        assert me["security"] == [{"OAuth2PasswordBearer": []}]
