"""What the kit's answers and logs expose: RFC 6750 challenges on rejected tokens,
`Cache-Control: no-store` on personal data, and no secret in any log record or
traceback when a request is malformed."""

import logging
import traceback
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD, Host
from tests.test_lifecycle import Outbox

INVALID_TOKEN = 'Bearer error="invalid_token"'


class TestChallenges:
    """RFC 6750 §3.1: a request whose token is rejected gets `error="invalid_token"`;
    a request without credentials gets a bare challenge."""

    @pytest.mark.parametrize(
        "authorization",
        ["Bearer not-a-jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x", "Bearer " + "a" * 5000],
    )
    async def test_a_rejected_token(self, host: Host, authorization: str) -> None:
        for method, path in [("GET", "/users/me"), ("POST", "/auth/jwt/logout")]:
            r = await host.client.request(method, path, headers={"Authorization": authorization})
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == INVALID_TOKEN

    async def test_a_revoked_token_and_an_inactive_user(self, host: Host) -> None:
        headers = await host.headers()
        assert (await host.client.post("/auth/jwt/logout", headers=headers)).status_code == 204
        r = await host.client.get("/users/me", headers=headers)
        assert r.headers["www-authenticate"] == INVALID_TOKEN
        headers = await host.headers("bob@example.com")
        user = await host.kit.users.get_by_email("bob@example.com")
        await host.kit.users.deactivate(user.id)
        r = await host.client.get("/users/me", headers=headers)
        assert r.headers["www-authenticate"] == INVALID_TOKEN

    async def test_no_credentials_get_a_bare_challenge(self, host: Host) -> None:
        r = await host.client.get("/users/me")
        assert (r.status_code, r.headers["www-authenticate"]) == (401, "Bearer")

    async def test_a_bad_refresh_token(self, host: Host) -> None:
        r = await host.client.post("/auth/jwt/refresh", json={"refresh_token": "nope"})
        assert (r.status_code, r.headers["www-authenticate"]) == (401, INVALID_TOKEN)

    async def test_the_cookie_refresh_has_a_challenge(
        self, make_host: Any, make_settings: Any
    ) -> None:
        h: Host = await make_host(settings=make_settings(cookie_transport=True))
        r = await h.client.post("/auth/cookie/refresh", headers={"Origin": "http://testserver"})
        assert r.status_code in (401, 403)
        if r.status_code == 401:
            assert r.headers["www-authenticate"] == INVALID_TOKEN
        h.client.cookies.set("__Host-userkit_csrf", "c")
        r = await h.client.post(
            "/auth/cookie/refresh",
            headers={"Origin": "http://testserver", "X-CSRF-Token": "c"},
        )
        assert (r.status_code, r.headers.get("www-authenticate")) == (401, INVALID_TOKEN)


class TestNoStore:
    """Answers that carry personal data must not be kept by browsers or proxies."""

    async def test_personal_data_answers(self, host: Host) -> None:
        root = await host.kit.users.create(
            email="root@example.com", password=PASSWORD, is_superuser=True
        )
        admin = {"Authorization": f"Bearer {await host.login('root@example.com')}"}
        mine = await host.headers()
        answers = [
            await host.client.get("/users/me", headers=mine),
            await host.client.patch("/users/me", json={}, headers=mine),
            await host.client.get("/auth/sessions", headers=mine),
            await host.client.get("/users", headers=admin),
            await host.client.get(f"/users/{root.id}", headers=admin),
            await host.client.patch(f"/users/{root.id}", json={}, headers=admin),
            await host.register("carol@example.com"),
        ]
        for r in answers:
            assert r.status_code in (200, 201), r.text
            assert r.headers["cache-control"] == "no-store", r.request.url


SECRET_PASSWORD = "SECRET-current-pw-4242"

MALFORMED = [
    b'{"current_password": "SECRET-current-pw-4242", "new_password": NaN}',
    b'{"current_password": "SECRET-current-pw-4242", "new": Infinity}',
    b'{"current_password": "SECRET-current-pw-4242", "new_password": 1e999999}',
    b'[{"current_password": "SECRET-current-pw-4242"}, NaN]',
    b'{"current_password": "SECRET-current-pw-4242", "\\ud800": 1}',
    b'{"current_password": "SECRET-current-pw-4242", "new_password": "\\ud800"}',
]


class TestNoSecretInLogs:
    """A 500 on malformed JSON printed the submitted `current_password` and a reset
    token in the server's traceback."""

    async def _send(self, h: Host, path: str, body: bytes, headers: dict[str, str]) -> str:
        """POST *body*; return everything a server would print or answer."""
        try:
            r = await h.client.post(
                path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
        except Exception as exc:  # what uvicorn would log as the traceback
            return "".join(traceback.format_exception(exc))
        assert r.status_code in (400, 422), (path, body, r.status_code)
        return r.text

    @pytest.mark.parametrize("body", MALFORMED)
    async def test_malformed_bodies_with_a_password(
        self, host: Host, body: bytes, caplog: pytest.LogCaptureFixture
    ) -> None:
        headers = await host.headers()
        caplog.set_level(logging.DEBUG)
        for path in ("/users/me/password", "/users/me/email"):
            seen = await self._send(host, path, body, headers)
            assert SECRET_PASSWORD not in seen
        assert SECRET_PASSWORD not in caplog.text

    async def test_malformed_bodies_with_a_reset_token(
        self, make_host: Any, make_settings: Any, caplog: pytest.LogCaptureFixture
    ) -> None:
        outbox = Outbox()
        h: Host = await make_host(
            settings=make_settings(frontend_url="https://app.example.com"), email_sender=outbox
        )
        await h.register()
        await h.client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        token = outbox.token("alice@example.com")
        caplog.set_level(logging.DEBUG)
        for body in [
            f'{{"token": "{token}", "password": NaN}}',
            f'{{"token": "{token}", "x": NaN}}',
            f'[{{"token": "{token}"}}, Infinity]',
        ]:
            seen = await self._send(h, "/auth/reset-password", body.encode(), {})
            assert token not in seen
        assert token not in caplog.text

    async def test_the_hosts_own_routes_keep_their_422(self, make_host: Any) -> None:
        from fastapi import FastAPI
        from pydantic import BaseModel

        class Item(BaseModel):
            name: str

        app = FastAPI()

        @app.post("/items")
        async def create_item(item: Item) -> Item:
            return item

        h: Host = await make_host(app)
        r = await h.client.post("/items", json={"name": 5})
        assert r.status_code == 422
        assert r.json()["detail"][0]["input"] == 5  # FastAPI's own answer, untouched


async def test_clients_see_no_input_echo(host: Host) -> None:
    transport = httpx.ASGITransport(app=host.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        r = await client.post("/auth/register", json={"password": SECRET_PASSWORD})
    assert r.status_code == 422
    assert SECRET_PASSWORD not in r.text
    assert r.json()["detail"][0]["loc"] == ["body", "email"]
