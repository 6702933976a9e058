from typing import Any

from fastapi import FastAPI

from fastapi_userkit.testing import create_user_and_headers, override_current_user
from tests.conftest import Host


async def test_create_user_and_headers(host: Host) -> None:
    user, headers = await create_user_and_headers(host.kit, email="t@example.com")
    me = await host.client.get("/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    assert me.json()["is_verified"] is True
    admin, admin_headers = await create_user_and_headers(
        host.kit, email="a@example.com", is_superuser=True
    )
    assert (await host.client.get("/users", headers=admin_headers)).status_code == 200
    assert admin.is_superuser


async def test_override_current_user(make_host: Any) -> None:
    app = FastAPI()
    h: Host = await make_host(app)
    kit = h.kit

    @app.get("/whoami")
    async def whoami(user: kit.CurrentUser) -> str:  # type: ignore[name-defined]
        return str(user.email)

    user = await kit.users.create(email="o@example.com", password="long enough pw")
    assert (await h.client.get("/whoami")).status_code == 401
    with override_current_user(app, kit, user):
        assert (await h.client.get("/whoami")).json() == "o@example.com"
        assert (await h.client.get("/users/me")).json()["email"] == "o@example.com"
        assert (await h.client.get("/users")).status_code == 403  # not a superuser
    assert (await h.client.get("/whoami")).status_code == 401
