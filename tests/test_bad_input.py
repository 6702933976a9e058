"""Bad input gets a clean 4xx on every kit route: no 500, no echo of what was sent,
and the RFC 6749 shapes a standard OAuth2 client understands on the token endpoint."""

import json
from typing import Any

import pytest

from tests.conftest import PASSWORD, Host

SECRET_PASSWORD = "SECRET-sent-pw-9090"

# (method, path, a well-formed body) of every kit route that reads JSON
JSON_ROUTES = [
    ("POST", "/auth/register", {"email": "x@example.com", "password": SECRET_PASSWORD}),
    ("POST", "/auth/jwt/login", {"email": "x@example.com", "password": SECRET_PASSWORD}),
    ("POST", "/auth/jwt/refresh", {"refresh_token": "r"}),
    ("POST", "/auth/forgot-password", {"email": "x@example.com"}),
    ("POST", "/auth/reset-password", {"token": "t", "password": SECRET_PASSWORD}),
    ("POST", "/auth/request-verify-token", {"email": "x@example.com"}),
    ("POST", "/auth/verify", {"token": "t"}),
    ("PATCH", "/users/me", {"email": "x@example.com", "current_password": SECRET_PASSWORD}),
    ("POST", "/users/me/password", {"current_password": SECRET_PASSWORD, "new_password": "n"}),
    ("POST", "/users/me/email", {"current_password": SECRET_PASSWORD, "new_email": "y@x.org"}),
    ("POST", "/users/me/email/confirm", {"token": "t"}),
    ("DELETE", "/users/me", {"current_password": SECRET_PASSWORD}),
]


def malformed(body: dict[str, Any]) -> list[bytes]:
    """Bodies that used to make the 422 itself fail, each keeping the secret."""
    text = json.dumps(body)
    first = next(iter(body))
    return [
        text.replace(
            f'"{first}": ', f'"x": NaN, "y": Infinity, "z": 1e999999, "{first}": ', 1
        ).encode(),
        text.replace(f'"{first}"', '"\\ud800"', 1).encode(),
        json.dumps({**body, first: "\\ud800@x.org"}).replace("\\\\ud800", "\\ud800").encode(),
        b"[" + text.encode() + b", NaN]",
        b"[" * 30_000 + b"]" * 30_000,  # deep, and within the body limit
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"), JSON_ROUTES, ids=[p for _, p, _ in JSON_ROUTES]
)
async def test_malformed_json_is_a_clean_4xx(host: Host, method: str, path: str, body: Any) -> None:
    headers = {**(await host.headers()), "Content-Type": "application/json"}
    for raw in malformed(body):
        r = await host.client.request(method, path, content=raw, headers=headers)
        assert 400 <= r.status_code < 500, (raw[:80], r.status_code, r.text[:200])
        assert SECRET_PASSWORD not in r.text
        r.json()  # a clean JSON body


@pytest.mark.parametrize(
    "body",
    [
        {"password": SECRET_PASSWORD},
        [{"email": "x@example.com", "password": SECRET_PASSWORD}],
        {"email": ["x"], "password": SECRET_PASSWORD},
    ],
)
@pytest.mark.parametrize("path", ["/auth/register", "/auth/jwt/login"])
async def test_validation_errors_echo_nothing(host: Host, path: str, body: Any) -> None:
    r = await host.client.post(path, json=body)
    assert r.status_code == 422
    assert SECRET_PASSWORD not in r.text
    assert all("input" not in error for error in r.json()["detail"])


class TestTokenEndpoint:
    """RFC 6749 §5.2: every error of the token endpoint carries `error`, beside the
    kit's `detail` code, for form and JSON requests alike."""

    async def login(self, h: Host, **form: str) -> Any:
        return await h.client.post("/auth/jwt/login", data=form)

    async def test_bad_credentials_are_invalid_grant(self, host: Host) -> None:
        await host.register()
        for form in (
            {"username": "alice@example.com", "password": "wrong one"},
            {"username": "nobody@example.com", "password": PASSWORD},
        ):
            r = await self.login(host, **form)
            assert r.status_code == 400
            assert r.json()["error"] == "invalid_grant"
            assert r.json()["detail"] == "LOGIN_BAD_CREDENTIALS"
        r = await host.client.post(
            "/auth/jwt/login", json={"email": "alice@example.com", "password": "wrong one"}
        )
        assert (r.json()["error"], r.json()["detail"]) == ("invalid_grant", "LOGIN_BAD_CREDENTIALS")

    async def test_unverified_is_invalid_grant(self, make_host: Any, make_settings: Any) -> None:
        h: Host = await make_host(settings=make_settings(require_verified_login=True))
        await h.register()
        r = await self.login(h, username="alice@example.com", password=PASSWORD)
        assert (r.json()["error"], r.json()["detail"]) == (
            "invalid_grant",
            "LOGIN_USER_NOT_VERIFIED",
        )

    async def test_malformed_requests_are_invalid_request(self, host: Host) -> None:
        for r in (
            await self.login(host, username="alice@example.com"),
            await self.login(host, grant_type="refresh_token"),
            await host.client.post(
                "/auth/jwt/login", content=b"x", headers={"Content-Type": "text/plain"}
            ),
            await host.client.post(
                "/auth/jwt/login", content=b"{", headers={"Content-Type": "application/json"}
            ),
        ):
            assert r.status_code in (400, 415, 422), r.text
            assert r.json()["error"] == "invalid_request", r.text
            assert r.headers["cache-control"] == "no-store"

    async def test_an_unknown_grant_type(self, host: Host) -> None:
        r = await self.login(host, grant_type="client_credentials")
        assert r.status_code == 400
        assert (r.json()["error"], r.json()["detail"]) == (
            "unsupported_grant_type",
            "UNSUPPORTED_GRANT_TYPE",
        )

    async def test_a_standard_client_raises_on_a_bad_password(self, host: Host) -> None:
        from authlib.integrations.base_client.errors import OAuthError
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        await host.register()
        transport = host.client._transport  # the app, in process
        async with AsyncOAuth2Client(transport=transport, base_url="http://testserver") as client:
            with pytest.raises(OAuthError, match="invalid_grant"):
                await client.fetch_token(
                    "http://testserver/auth/jwt/login",
                    username="alice@example.com",
                    password="wrong one",
                )


REFRESH_SHAPES = ["", "x" * 5000, "a.b.c", "é" * 300]


class TestRefreshTokensOfAnyShape:
    """A refresh token of any shape is a bad token, never a 422 from a length limit."""

    async def shapes(self, h: Host) -> list[str]:
        access = await h.login()
        return [*REFRESH_SHAPES, access]

    async def test_on_the_grant(self, host: Host) -> None:
        await host.register()
        for token in await self.shapes(host):
            r = await host.client.post(
                "/auth/jwt/login", data={"grant_type": "refresh_token", "refresh_token": token}
            )
            assert r.status_code == 400, (token[:20], r.text)
            assert r.json()["error"] in ("invalid_grant", "invalid_request")

    async def test_on_the_refresh_routes(self, make_host: Any, make_settings: Any) -> None:
        h: Host = await make_host(settings=make_settings(cookie_transport=True))
        await h.register()
        for token in await self.shapes(h):
            r = await h.client.post("/auth/jwt/refresh", json={"refresh_token": token})
            assert r.status_code == 401, (token[:20], r.text)
            if not token.isascii():
                continue  # a cookie travels as ASCII
            h.client.cookies.set("__Host-userkit_refresh", token)
            h.client.cookies.set("__Host-userkit_csrf", "c")
            r = await h.client.post(
                "/auth/cookie/refresh", headers={"Origin": "http://testserver", "X-CSRF-Token": "c"}
            )
            assert r.status_code == 401, (token[:20], r.text)


class TestSchemas:
    async def test_privileged_flags_are_strict_booleans(self, host: Host) -> None:
        await host.kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
        admin = {"Authorization": f"Bearer {await host.login('root@example.com')}"}
        await host.register("bob@example.com")
        bob = await host.kit.users.get_by_email("bob@example.com")
        for value in (0, 1, "yes", "false", "1"):
            for field in ("is_active", "is_verified", "is_superuser"):
                r = await host.client.patch(f"/users/{bob.id}", json={field: value}, headers=admin)
                assert r.status_code == 422, (field, value, r.text)
        assert (await host.kit.users.get(bob.id)).is_active is True

    def test_password_bounds_are_published(self, host: Host) -> None:
        schemas = host.app.openapi()["components"]["schemas"]
        password = schemas["UserCreate"]["properties"]["password"]
        assert (password["minLength"], password["maxLength"]) == (8, 128)

    def test_the_login_form_says_what_is_required(self, host: Host) -> None:
        operation = host.app.openapi()["paths"]["/auth/jwt/login"]["post"]
        form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        # one flat object (Swagger UI renders it as form fields); the grant decides
        assert form["if"]["properties"]["grant_type"]["const"] == "refresh_token"
        assert {"refresh_token"} <= set(form["then"]["required"])
        assert {"username", "password"} <= set(form["else"]["required"])
        assert {"grant_type", "username", "password", "refresh_token"} <= set(form["properties"])
