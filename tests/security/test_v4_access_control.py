"""ASVS 4.0.3 V4: access control. docs/security/asvs.md maps every requirement to its
tests.
"""

import uuid
from typing import Any

import httpx
import pytest

from fastapi_userkit import MemorySessionStore, SessionStoreUnavailableError
from tests.conftest import PASSWORD, Host

ORIGIN = "https://testserver"


@pytest.fixture
async def two(host: Host) -> tuple[Host, dict[str, str], dict[str, str], Any]:
    """Alice (a user), Bob (a user) and Bob's row."""
    alice = await host.headers()
    bob = await host.headers("bob@example.com")
    bob_user = await host.kit.users.get_by_email("bob@example.com")
    return host, alice, bob, bob_user


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/users"),
        ("GET", "/users/{id}"),
        ("PATCH", "/users/{id}"),
        ("DELETE", "/users/{id}"),
        ("GET", "/roles"),
        ("POST", "/roles"),
        ("GET", "/users/{id}/roles"),
        ("PUT", "/users/{id}/roles/admin"),
    ],
)
async def test_v4_1_1_admin_routes_are_refused_to_users_and_anonymous_callers(
    two: tuple[Host, dict[str, str], dict[str, str], Any], method: str, path: str
) -> None:
    h, alice, _, bob = two
    url = path.format(id=bob.id)
    body = {"name": "mine", "scopes": ["users:admin"]} if path == "/roles" else None
    body = {"is_active": False} if method == "PATCH" else body
    assert (await h.client.request(method, url, headers=alice, json=body)).status_code == 403
    assert (await h.client.request(method, url, json=body)).status_code == 401
    assert (await h.kit.users.get(bob.id)).is_active


@pytest.mark.parametrize(
    "field",
    [
        {"is_superuser": True},
        {"is_verified": True},
        {"is_active": False},
        {"id": 7},
        {"roles": ["admin"]},
        {"scopes": ["users:admin"]},
    ],
)
async def test_v4_1_2_privileged_fields_cannot_be_mass_assigned(
    host: Host, field: dict[str, Any]
) -> None:
    registered = await host.register(**field)
    assert registered.status_code == 422
    me = await host.headers()
    patched = await host.client.patch("/users/me", headers=me, json=field)
    assert patched.status_code == 422
    user = await host.kit.users.get_by_email("alice@example.com")
    assert (user.is_superuser, user.is_verified, user.is_active) == (False, False, True)


async def test_v4_1_3_new_accounts_get_the_least_privilege(host: Host) -> None:
    created = await host.register()
    assert created.status_code == 201
    body = created.json()
    assert (body["is_superuser"], body["is_verified"], body["is_active"]) == (False, False, True)


async def test_v4_1_1_scopes_are_checked_on_the_server_against_the_live_grants(
    make_host: Any,
) -> None:
    from fastapi import Depends, FastAPI

    app = FastAPI()
    h: Host = await make_host(app)
    writer = h.kit.current_user(scopes=["items:write"])

    @app.post("/items", dependencies=[Depends(writer)])
    async def write() -> None: ...

    await h.kit.roles.create("writer", ["items:write"])
    me = await h.headers()
    alice = await h.kit.users.get_by_email("alice@example.com")
    assert (await h.client.post("/items", headers=me)).status_code == 403
    await h.kit.roles.grant(alice, "writer")
    assert (await h.client.post("/items", headers=me)).status_code == 200
    await h.kit.roles.revoke(alice, "writer")  # the same token: refused at once
    assert (await h.client.post("/items", headers=me)).status_code == 403


async def test_v4_1_3_new_accounts_hold_no_role(host: Host) -> None:
    me = await host.headers()
    assert (await host.client.get("/users/me/roles", headers=me)).json() == {
        "roles": [],
        "scopes": [],
    }


async def test_v4_1_3_an_admin_cannot_grant_more_than_it_holds(host: Host) -> None:
    await host.kit.roles.create("useradmin", ["users:admin"])
    await host.kit.roles.create("billing", ["billing:refund"])
    headers = await host.headers()
    admin = await host.kit.users.get_by_email("alice@example.com")
    await host.kit.roles.grant(admin, "useradmin")
    answer = await host.client.put(f"/users/{admin.id}/roles/billing", headers=headers)
    assert (answer.status_code, answer.json()) == (403, {"detail": "INSUFFICIENT_SCOPE"})
    assert await host.kit.roles.of(admin) == (("useradmin",), ("users:admin",))


async def test_v4_1_5_a_failing_session_store_refuses_rather_than_admits(
    make_host: Any,
) -> None:
    class Flaky(MemorySessionStore):
        down = False

        async def get(self, session_id: str) -> Any:
            if self.down:
                raise SessionStoreUnavailableError("the store is down")
            return await super().get(session_id)

    store = Flaky()
    h: Host = await make_host(session_store=store)
    me = await h.headers()
    store.down = True
    answer = await h.client.get("/users/me", headers=me)
    assert answer.status_code == 503
    assert answer.json()["detail"] == "SESSION_STORE_UNAVAILABLE"
    assert "alice" not in answer.text


async def test_v4_2_1_another_users_session_is_not_found(
    two: tuple[Host, dict[str, str], dict[str, str], Any],
) -> None:
    h, alice, bob, _ = two
    bob_session = (await h.client.get("/auth/sessions", headers=bob)).json()[0]["id"]
    answer = await h.client.delete(f"/auth/sessions/{bob_session}", headers=alice)
    unknown = await h.client.delete(f"/auth/sessions/{uuid.uuid4()}", headers=alice)
    assert answer.status_code == unknown.status_code == 404
    assert answer.json() == unknown.json()
    assert (await h.client.get("/users/me", headers=bob)).status_code == 200


async def test_v4_2_1_a_user_learns_nothing_about_other_ids(
    two: tuple[Host, dict[str, str], dict[str, str], Any],
) -> None:
    h, alice, _, bob = two
    existing = await h.client.get(f"/users/{bob.id}", headers=alice)
    missing = await h.client.get(f"/users/{uuid.uuid4()}", headers=alice)
    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()


async def test_v4_2_1_role_routes_tell_a_user_nothing_about_other_ids(
    two: tuple[Host, dict[str, str], dict[str, str], Any],
) -> None:
    h, alice, _, bob = two
    for method, path in (("GET", "/users/{}/roles"), ("PUT", "/users/{}/roles/admin")):
        existing = await h.client.request(method, path.format(bob.id), headers=alice)
        missing = await h.client.request(method, path.format(uuid.uuid4()), headers=alice)
        assert existing.status_code == missing.status_code == 403
        assert existing.json() == missing.json()


async def test_v4_2_2_cookie_requests_need_the_csrf_token(
    make_host: Any, make_settings: Any
) -> None:
    h: Host = await make_host(settings=make_settings(cookie_transport=True))
    h.client.base_url = httpx.URL(ORIGIN)
    await h.register()
    form = {"username": "alice@example.com", "password": PASSWORD}
    assert (await h.client.post("/auth/cookie/login", data=form)).status_code == 204
    forged = await h.client.post("/auth/jwt/logout-all")
    assert forged.status_code == 403
    assert forged.json()["detail"] == "CSRF_FAILED"
    cross = await h.client.post(
        "/auth/jwt/logout-all",
        headers={
            "X-CSRF-Token": h.client.cookies["__Host-userkit_csrf"],
            "Origin": "https://evil.example",
        },
    )
    assert cross.status_code == 403
    assert (await h.client.get("/users/me")).status_code == 200
