"""User administration by superusers: GET /users, GET/PATCH/DELETE /users/{id}."""

import uuid
from typing import Any

import pytest

from tests.conftest import PASSWORD, Host


@pytest.fixture
async def admin(host: Host) -> tuple[Host, dict[str, str]]:
    await host.kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
    return host, {"Authorization": f"Bearer {await host.login('root@example.com')}"}


async def test_only_superusers(admin: tuple[Host, dict[str, str]]) -> None:
    h, _ = admin
    plain = await h.headers("plain@example.com")
    user_id = (await h.kit.users.get_by_email("plain@example.com")).id
    for method, path in [
        ("GET", "/users"),
        ("GET", f"/users/{user_id}"),
        ("PATCH", f"/users/{user_id}"),
        ("DELETE", f"/users/{user_id}"),
    ]:
        kwargs: dict[str, Any] = {"json": {}} if method == "PATCH" else {}
        assert (await h.client.request(method, path, **kwargs)).status_code == 401
        r = await h.client.request(method, path, headers=plain, **kwargs)
        assert r.status_code == 403


async def test_list_search_and_page(admin: tuple[Host, dict[str, str]]) -> None:
    h, root = admin
    for name in ("ann", "bob", "cat", "ann_smith"):
        await h.kit.users.create(email=f"{name}@example.com", password=PASSWORD)
    page = (await h.client.get("/users", headers=root, params={"limit": 2})).json()
    assert page["total"] == 5
    assert [u["email"] for u in page["items"]] == ["ann@example.com", "ann_smith@example.com"]
    assert "hashed_password" not in str(page)
    found = (await h.client.get("/users", headers=root, params={"q": "ANN"})).json()
    assert found["total"] == 2
    underscore = (await h.client.get("/users", headers=root, params={"q": "n_s"})).json()
    assert [u["email"] for u in underscore["items"]] == ["ann_smith@example.com"]
    wildcard = (await h.client.get("/users", headers=root, params={"q": "%"})).json()
    assert wildcard["total"] == 0
    for params in ({"limit": 0}, {"limit": 500}, {"offset": -1}, {"q": "x" * 400}):
        assert (await h.client.get("/users", headers=root, params=params)).status_code == 422


async def test_get_patch_delete(admin: tuple[Host, dict[str, str]]) -> None:
    h, root = admin
    session = await h.headers("dora@example.com")
    user_id = str((await h.kit.users.get_by_email("dora@example.com")).id)
    got = await h.client.get(f"/users/{user_id}", headers=root)
    assert got.json()["email"] == "dora@example.com"
    for missing in (str(uuid.uuid4()), "not-an-id", "' OR 1=1"):
        assert (await h.client.get(f"/users/{missing}", headers=root)).status_code == 404
    patched = await h.client.patch(
        f"/users/{user_id}", headers=root, json={"is_verified": True, "is_superuser": True}
    )
    assert patched.json()["is_verified"] is True
    assert patched.json()["is_superuser"] is True
    assert (await h.client.get("/users/me", headers=session)).status_code == 200
    # a new password or deactivation ends the user's sessions
    r = await h.client.patch(f"/users/{user_id}", headers=root, json={"password": "short"})
    assert r.json()["detail"]["code"] == "UPDATE_USER_INVALID_PASSWORD"
    r = await h.client.patch(
        f"/users/{user_id}", headers=root, json={"password": "set by the admin"}
    )
    assert r.status_code == 200
    assert (await h.client.get("/users/me", headers=session)).status_code == 401
    session = {"Authorization": f"Bearer {await h.login('dora@example.com', 'set by the admin')}"}
    r = await h.client.patch(f"/users/{user_id}", headers=root, json={"is_active": False})
    assert r.json()["is_active"] is False
    assert (await h.client.get("/users/me", headers=session)).status_code == 401
    taken = await h.client.patch(
        f"/users/{user_id}", headers=root, json={"email": "ROOT@example.com"}
    )
    assert taken.json() == {"detail": "UPDATE_USER_EMAIL_ALREADY_EXISTS"}
    bad = await h.client.patch(f"/users/{user_id}", headers=root, json={"id": 5})
    assert bad.status_code == 422
    assert (await h.client.delete(f"/users/{user_id}", headers=root)).status_code == 204
    assert (await h.client.get(f"/users/{user_id}", headers=root)).status_code == 404
    assert (await h.client.delete(f"/users/{user_id}", headers=root)).status_code == 404


async def test_own_routes_still_win(admin: tuple[Host, dict[str, str]]) -> None:
    h, root = admin
    assert (await h.client.get("/users/me", headers=root)).json()["email"] == "root@example.com"
