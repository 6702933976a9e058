from pathlib import Path

import httpx
import jwt
from asgi_lifespan import LifespanManager
from examples.custom_user.main import create_app

from fastapi_userkit import UserKitSettings
from tests.conftest import PASSWORD, SECRET


async def test_custom_model_with_extra_column_and_integer_ids(tmp_path: Path) -> None:
    settings = UserKitSettings(secret_key=SECRET, bcrypt_rounds=4)
    app = create_app(f"sqlite+aiosqlite:///{tmp_path}/members.db", settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        created = await client.post(
            "/auth/register",
            json={"email": "m@example.com", "password": PASSWORD, "display_name": "Em"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["id"] == 1
        assert created.json()["display_name"] == "Em"
        second = await client.post(
            "/auth/register", json={"email": "n@example.com", "password": PASSWORD}
        )
        assert second.json() == {
            "id": 2,
            "email": "n@example.com",
            "is_active": True,
            "is_superuser": False,
            "is_verified": False,
            "display_name": None,
        }
        login = await client.post(
            "/auth/jwt/login", data={"username": "m@example.com", "password": PASSWORD}
        )
        token = login.json()["access_token"]
        assert jwt.decode(token, options={"verify_signature": False})["sub"] == "1"
        headers = {"Authorization": f"Bearer {token}"}
        me = await client.get("/users/me", headers=headers)
        assert me.json()["display_name"] == "Em"
        patched = await client.patch("/users/me", headers=headers, json={"display_name": "Emma"})
        assert patched.status_code == 200
        assert patched.json()["display_name"] == "Emma"
        assert (await client.get("/users/me", headers=headers)).json()["display_name"] == "Emma"
        claims = jwt.decode(token, options={"verify_signature": False})
        kid = jwt.get_unverified_header(token)["kid"]

        def forge(sub: str) -> str:
            return jwt.encode({**claims, "sub": sub}, SECRET, headers={"typ": "at+jwt", "kid": kid})

        sanity = await client.get("/users/me", headers={"Authorization": f"Bearer {forge('1')}"})
        assert sanity.status_code == 200
        for bad_sub in ["01", "-1", "1.0", "99999999999999999999999", "abc", "2"]:
            response = await client.get(
                "/users/me", headers={"Authorization": f"Bearer {forge(bad_sub)}"}
            )
            assert response.status_code == 401, bad_sub


def test_self_service_schema_with_privileged_field_is_refused() -> None:
    import pytest

    from fastapi_userkit import ConfigurationError, UserCreate, UserSchemas, UserUpdate

    class SneakyCreate(UserCreate):
        is_superuser: bool = False

    class SneakyUpdate(UserUpdate):
        is_active: bool | None = None

    with pytest.raises(ConfigurationError, match="is_superuser"):
        UserSchemas(create=SneakyCreate)
    with pytest.raises(ConfigurationError, match="is_active"):
        UserSchemas(update=SneakyUpdate)


async def test_permissive_schema_still_cannot_set_privileged_fields(make_host) -> None:  # type: ignore[no-untyped-def]
    from pydantic import ConfigDict

    from fastapi_userkit import UserCreate, UserSchemas, UserUpdate

    class LooseCreate(UserCreate):
        model_config = ConfigDict(extra="allow")

    class LooseUpdate(UserUpdate):
        model_config = ConfigDict(extra="allow")

    h = await make_host(schemas=UserSchemas(create=LooseCreate, update=LooseUpdate))
    response = await h.register(is_superuser=True)
    assert response.status_code == 422
    assert (await h.register()).status_code == 201
    headers = {"Authorization": f"Bearer {await h.login()}"}
    patched = await h.client.patch("/users/me", headers=headers, json={"is_superuser": True})
    assert patched.status_code == 422
    assert (await h.kit.users.get_by_email("alice@example.com")).is_superuser is False


async def test_nul_in_a_stored_field_is_422(tmp_path: Path) -> None:
    settings = UserKitSettings(secret_key=SECRET, bcrypt_rounds=4)
    app = create_app(f"sqlite+aiosqlite:///{tmp_path}/members.db", settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        response = await client.post(
            "/auth/register",
            json={"email": "m@example.com", "password": PASSWORD, "display_name": "a\x00b"},
        )
        assert response.status_code == 422
        ok = await client.post(
            "/auth/register",
            json={"email": "m@example.com", "password": PASSWORD + "\x00", "display_name": "ab"},
        )
        assert ok.status_code == 201
