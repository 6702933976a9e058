"""A standard OAuth2 client library logs in and refreshes against the kit."""

import time
from typing import Any

import httpx
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from tests.conftest import PASSWORD, Host

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass


@pytest.fixture
async def oauth(host: Host) -> Any:
    await host.register()
    transport = httpx.ASGITransport(app=host.app)
    updates: list[dict[str, Any]] = []

    async def update_token(
        token: dict[str, Any], refresh_token: str | None = None, access_token: str | None = None
    ) -> None:
        updates.append(token)

    client = AsyncOAuth2Client(
        token_endpoint="http://testserver/auth/jwt/login",
        base_url="http://testserver",
        transport=transport,
        update_token=update_token,
    )
    yield client, updates
    await client.aclose()


async def test_password_grant_then_automatic_refresh(oauth: Any) -> None:
    client, updates = oauth
    token = await client.fetch_token(username="alice@example.com", password=PASSWORD)
    assert token["token_type"] == "bearer"
    assert "refresh_token" in token
    me = await client.get("/users/me")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"

    # let the access token expire in the client's eyes: it refreshes on its own
    first_refresh = token["refresh_token"]
    client.token["expires_at"] = int(time.time()) - 10
    me = await client.get("/users/me")
    assert me.status_code == 200
    assert len(updates) == 1
    assert updates[0]["refresh_token"] != first_refresh

    # and again, with the rotated refresh token
    client.token["expires_at"] = int(time.time()) - 10
    assert (await client.get("/users/me")).status_code == 200
    assert len(updates) == 2


async def test_client_sees_invalid_grant(oauth: Any) -> None:
    from authlib.integrations.base_client.errors import OAuthError

    client, _ = oauth
    with pytest.raises(OAuthError) as info:
        await client.refresh_token(
            "http://testserver/auth/jwt/login", refresh_token="not-a-real-token"
        )
    assert info.value.error == "invalid_grant"
