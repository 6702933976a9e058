"""Roles and scopes: the scope check of host routes against the live grants, the
admin API of roles and grants, the guard rails of admins who are not superusers,
and the escalation attempts a user can make (SPEC §1 `current_user(scopes=...)`)."""

import logging
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, Security, WebSocket
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from fastapi_userkit import Access, SecurityEventName, UserKit
from fastapi_userkit.db.roles import UserRoleRow
from tests.conftest import PASSWORD, Host

CHALLENGE = 'Bearer error="insufficient_scope", scope="items:write"'


async def items_host(make_host: Any, **kwargs: Any) -> Host:
    app = FastAPI()
    host: Host = await make_host(app, **kwargs)
    kit = host.kit
    writer = kit.current_user(scopes=["items:write"])

    @app.post("/items")
    async def create_item(user: Annotated[Any, Depends(writer)]) -> dict[str, str]:
        return {"by": user.email}

    @app.get("/items")
    async def list_items(
        user: Annotated[Any, Security(kit.current_user(), scopes=["items:read"])],
    ) -> dict[str, str]:
        return {"for": user.email}

    app.openapi_schema = None
    return host


async def root(h: Host, email: str = "root@example.com") -> tuple[Any, dict[str, str]]:
    user = await h.kit.users.create(email=email, password=PASSWORD, is_superuser=True)
    return user, {"Authorization": f"Bearer {await h.login(email)}"}


async def member(h: Host, email: str, *roles: str) -> tuple[Any, dict[str, str]]:
    user = await h.kit.users.create(email=email, password=PASSWORD)
    for role in roles:
        await h.kit.roles.grant(user, role)
    return user, {"Authorization": f"Bearer {await h.login(email)}"}


@pytest.fixture
async def items(make_host: Any) -> Host:
    host = await items_host(make_host)
    await host.kit.roles.create("writer", ["items:read", "items:write"])
    await host.kit.roles.create("reader", ["items:read"])
    return host


class TestScopeCheck:
    async def test_anonymous_gets_401_and_no_scope_challenge(self, items: Host) -> None:
        r = await items.client.post("/items")
        assert r.status_code == 401
        assert r.headers["www-authenticate"] == "Bearer"

    async def test_user_without_the_scope_gets_403_with_the_rfc_6750_challenge(
        self, items: Host
    ) -> None:
        _, headers = await member(items, "bob@example.com", "reader")
        r = await items.client.post("/items", headers=headers)
        assert (r.status_code, r.json()) == (403, {"detail": "INSUFFICIENT_SCOPE"})
        assert r.headers["www-authenticate"] == CHALLENGE

    async def test_holder_and_superuser_pass(self, items: Host) -> None:
        _, writer = await member(items, "bob@example.com", "writer")
        _, admin = await root(items)
        for headers in (writer, admin):
            assert (await items.client.post("/items", headers=headers)).status_code == 200

    async def test_security_with_scopes_is_checked_too(self, items: Host) -> None:
        _, nobody = await member(items, "eve@example.com")
        _, reader = await member(items, "bob@example.com", "reader")
        r = await items.client.get("/items", headers=nobody)
        assert r.status_code == 403
        assert r.headers["www-authenticate"] == (
            'Bearer error="insufficient_scope", scope="items:read"'
        )
        assert (await items.client.get("/items", headers=reader)).json() == {
            "for": "bob@example.com"
        }

    async def test_a_token_minted_before_a_revocation_loses_the_scope_at_once(
        self, items: Host
    ) -> None:
        bob, headers = await member(items, "bob@example.com", "writer")
        assert (await items.client.post("/items", headers=headers)).status_code == 200
        await items.kit.roles.revoke(bob, "writer")
        assert (await items.client.post("/items", headers=headers)).status_code == 403

    async def test_a_scope_taken_from_the_role_or_the_role_deleted_works_at_once(
        self, items: Host
    ) -> None:
        _, headers = await member(items, "bob@example.com", "writer")
        await items.kit.roles.update("writer", ["items:read"])
        assert (await items.client.post("/items", headers=headers)).status_code == 403
        assert (await items.client.get("/items", headers=headers)).status_code == 200
        await items.kit.roles.delete("writer")
        assert (await items.client.get("/items", headers=headers)).status_code == 403

    async def test_every_worker_sees_a_revocation_on_the_next_request(self, make_host: Any) -> None:
        """Two kits on one database stand for two worker processes: nothing is cached."""
        first = await items_host(make_host)
        second = await items_host(make_host)
        await first.kit.roles.create("writer", ["items:write"])
        bob, headers = await member(first, "bob@example.com", "writer")
        assert (await second.client.post("/items", headers=headers)).status_code == 200
        assert (await first.client.post("/items", headers=headers)).status_code == 200
        await first.kit.roles.revoke(bob, "writer")
        assert (await second.client.post("/items", headers=headers)).status_code == 403

    async def test_deactivation_is_401_not_403(self, items: Host) -> None:
        bob, headers = await member(items, "bob@example.com", "writer")
        await items.kit.users.deactivate(bob.id)
        assert (await items.client.post("/items", headers=headers)).status_code == 401

    def test_websocket_without_the_scope_is_closed_with_1008(self, settings: Any) -> None:
        from starlette.testclient import TestClient

        from fastapi_userkit import include_user_router

        app = FastAPI()
        kit: UserKit[Any] = include_user_router(app, settings=settings)

        @app.websocket("/ws")
        async def feed(
            websocket: WebSocket,
            user: Annotated[Any, Depends(kit.current_user_ws(scopes=["items:read"]))],
        ) -> None:
            await websocket.accept()
            await websocket.send_text(user.email)
            await websocket.close()

        with TestClient(app) as client:
            client.portal.call(kit.roles.create, "reader", ["items:read"])
            tokens = {}
            for email in ("bob@example.com", "eve@example.com"):
                client.post("/auth/register", json={"email": email, "password": PASSWORD})
                tokens[email] = client.post(
                    "/auth/jwt/login", data={"username": email, "password": PASSWORD}
                ).json()["access_token"]
            bob = client.portal.call(kit.users.get_by_email, "bob@example.com")
            client.portal.call(kit.roles.grant, bob, "reader")
            with client.websocket_connect(f"/ws?access_token={tokens['bob@example.com']}") as ws:
                assert ws.receive_text() == "bob@example.com"
            with (
                pytest.raises(WebSocketDisconnect) as closed,
                client.websocket_connect(f"/ws?access_token={tokens['eve@example.com']}") as ws,
            ):
                ws.receive_text()
            assert closed.value.code == 1008

    async def test_refusal_is_a_security_event(
        self, items: Host, caplog: pytest.LogCaptureFixture
    ) -> None:
        bob, headers = await member(items, "bob@example.com")
        with caplog.at_level(logging.INFO, "fastapi_userkit.security"):
            await items.client.post("/items", headers=headers)
        denied = [r for r in caplog.records if r.event == SecurityEventName.ACCESS_DENIED]
        assert [(r.user_id, r.reason) for r in denied] == [(str(bob.id), "scope:items:write")]

    def test_a_malformed_scope_is_refused_when_declared(self) -> None:
        from fastapi_userkit import ConfigurationError, include_user_router

        kit: UserKit[Any] = include_user_router(FastAPI())
        for bad in ("items write", 'a"b', "", "items:write "):
            with pytest.raises(ConfigurationError, match="not a valid scope"):
                kit.current_user(scopes=[bad])
        with pytest.raises(ConfigurationError, match="list of scopes"):
            kit.current_user(scopes="items:write")


class TestOpenAPI:
    async def test_operations_list_their_scopes_and_the_authorize_dialog_offers_them(
        self, make_host: Any
    ) -> None:
        host = await items_host(make_host, scopes={"items:write": "Create and change items"})
        document = (await host.client.get("/openapi.json")).json()
        create = document["paths"]["/items"]["post"]
        assert {"OAuth2PasswordBearer": ["items:write"]} in create["security"]
        assert sum("OAuth2PasswordBearer" in r for r in create["security"]) == 1
        listing = document["paths"]["/items"]["get"]
        assert {"OAuth2PasswordBearer": ["items:read"]} in listing["security"]
        assert (
            "INSUFFICIENT_SCOPE"
            in create["responses"]["403"]["content"]["application/json"]["examples"]
        )
        flow = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
        scopes = flow["password"]["scopes"]
        assert scopes["items:write"] == "Create and change items"
        assert scopes["items:read"] == "Granted by a role."
        assert "users:admin" in scopes
        users = document["paths"]["/users"]["get"]
        assert {"OAuth2PasswordBearer": ["users:admin"]} in users["security"]


class TestRoleAdministration:
    async def test_define_read_change_and_delete_a_role(self, host: Host) -> None:
        _, headers = await root(host)
        body = {"name": "editor", "description": "Edits", "scopes": ["b:write", "a:read"]}
        r = await host.client.post("/roles", json=body, headers=headers)
        assert (r.status_code, r.json()) == (
            201,
            {"name": "editor", "description": "Edits", "scopes": ["a:read", "b:write"]},
        )
        r = await host.client.post("/roles", json=body, headers=headers)
        assert (r.status_code, r.json()) == (400, {"detail": "ROLE_ALREADY_EXISTS"})
        r = await host.client.put(
            "/roles/editor", json={"scopes": ["c:do", "c:do"]}, headers=headers
        )
        assert r.json() == {"name": "editor", "description": "", "scopes": ["c:do"]}
        assert [x["name"] for x in (await host.client.get("/roles", headers=headers)).json()] == [
            "editor"
        ]
        assert (await host.client.delete("/roles/editor", headers=headers)).status_code == 204
        for method in ("GET", "PUT", "DELETE"):
            r = await host.client.request(method, "/roles/editor", json={}, headers=headers)
            assert (r.status_code, r.json()) == (404, {"detail": "ROLE_NOT_FOUND"})

    @pytest.mark.parametrize(
        "body",
        [
            {"name": "bad name", "scopes": []},
            {"name": "ok", "scopes": ["has space"]},
            {"name": "ok", "scopes": ['a"b']},
            {"name": "ok", "scopes": [], "description": "x" * 256},
            {"name": "ok", "scopes": [], "extra": 1},
            {"name": "x" * 65, "scopes": []},
        ],
    )
    async def test_bad_definitions_get_422(self, host: Host, body: dict[str, Any]) -> None:
        _, headers = await root(host)
        r = await host.client.post("/roles", json=body, headers=headers)
        assert r.status_code == 422, r.text

    async def test_grant_list_filter_and_revoke(self, host: Host) -> None:
        _, headers = await root(host)
        await host.kit.roles.create("editor", ["items:write"])
        bob, _ = await member(host, "bob@example.com")
        await member(host, "carol@example.com")
        url = f"/users/{bob.id}/roles/editor"
        assert (await host.client.put(url, headers=headers)).status_code == 204
        assert (await host.client.put(url, headers=headers)).status_code == 204  # idempotent
        r = await host.client.get(f"/users/{bob.id}/roles", headers=headers)
        assert r.json() == {"roles": ["editor"], "scopes": ["items:write"]}
        r = await host.client.get("/users", params={"role": "editor"}, headers=headers)
        assert (r.json()["total"], [u["email"] for u in r.json()["items"]]) == (
            1,
            ["bob@example.com"],
        )
        assert (await host.client.delete(url, headers=headers)).status_code == 204
        assert (await host.client.delete(url, headers=headers)).status_code == 204
        r = await host.client.get("/users", params={"role": "editor"}, headers=headers)
        assert r.json() == {"items": [], "total": 0}

    async def test_grant_of_an_unknown_role_or_to_an_unknown_user_is_404(self, host: Host) -> None:
        _, headers = await root(host)
        await host.kit.roles.create("editor", [])
        bob, _ = await member(host, "bob@example.com")
        r = await host.client.put(f"/users/{bob.id}/roles/nope", headers=headers)
        assert (r.status_code, r.json()) == (404, {"detail": "ROLE_NOT_FOUND"})
        for missing in ("00000000-0000-0000-0000-000000000000", "12345", "not-an-id"):
            r = await host.client.put(f"/users/{missing}/roles/editor", headers=headers)
            assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})

    async def test_own_roles_and_scopes(self, host: Host) -> None:
        await host.kit.roles.create("editor", ["items:write", "items:read"])
        _, headers = await member(host, "bob@example.com", "editor")
        r = await host.client.get("/users/me/roles", headers=headers)
        assert r.json() == {"roles": ["editor"], "scopes": ["items:read", "items:write"]}
        assert (await host.client.get("/users/me/roles")).status_code == 401

    async def test_role_changes_are_security_events_with_their_actor(
        self, host: Host, caplog: pytest.LogCaptureFixture
    ) -> None:
        admin, headers = await root(host)
        bob, _ = await member(host, "bob@example.com")
        with caplog.at_level(logging.INFO, "fastapi_userkit.security"):
            await host.client.post("/roles", json={"name": "ed", "scopes": []}, headers=headers)
            await host.client.put(f"/users/{bob.id}/roles/ed", headers=headers)
            await host.client.delete(f"/users/{bob.id}/roles/ed", headers=headers)
            await host.client.put("/roles/ed", json={"scopes": ["x"]}, headers=headers)
            await host.client.delete("/roles/ed", headers=headers)
        seen = [
            (r.event, r.user_id, r.actor_id, r.reason)
            for r in caplog.records
            if r.event.startswith("role_")
        ]
        assert seen == [
            ("role_create", None, str(admin.id), "ed"),
            ("role_grant", str(bob.id), str(admin.id), "ed"),
            ("role_revoke", str(bob.id), str(admin.id), "ed"),
            ("role_update", None, str(admin.id), "ed"),
            ("role_delete", None, str(admin.id), "ed"),
        ]

    async def test_a_deleted_account_leaves_no_grant_behind(self, host: Host) -> None:
        _, headers = await root(host)
        await host.kit.roles.create("editor", ["items:write"])
        bob, _ = await member(host, "bob@example.com", "editor")
        assert (await host.client.delete(f"/users/{bob.id}", headers=headers)).status_code == 204
        async with host.kit.database.open() as uow:
            left = await uow.session.scalars(select(UserRoleRow.user_id))
            assert list(left) == []


class TestScopedAdmin:
    """An admin by the `users:admin` scope, not a superuser."""

    @pytest.fixture
    async def setup(self, host: Host) -> tuple[Host, Any, dict[str, str]]:
        await host.kit.roles.create("useradmin", ["users:admin", "items:read"])
        await host.kit.roles.create("writer", ["items:write"])
        await host.kit.roles.create("reader", ["items:read"])
        admin, headers = await member(host, "admin@example.com", "useradmin")
        return host, admin, headers

    async def test_administers_users_and_roles_within_its_own_scopes(
        self, setup: tuple[Host, Any, dict[str, str]]
    ) -> None:
        host, _, headers = setup
        bob, _ = await member(host, "bob@example.com")
        assert (await host.client.get("/users", headers=headers)).json()["total"] == 2
        r = await host.client.put(f"/users/{bob.id}/roles/reader", headers=headers)
        assert r.status_code == 204
        r = await host.client.patch(f"/users/{bob.id}", json={"is_verified": True}, headers=headers)
        assert r.status_code == 200
        r = await host.client.post(
            "/roles", json={"name": "mine", "scopes": ["items:read"]}, headers=headers
        )
        assert r.status_code == 201

    async def test_cannot_hand_out_or_define_scopes_it_does_not_hold(
        self, setup: tuple[Host, Any, dict[str, str]]
    ) -> None:
        host, admin, headers = setup
        bob, _ = await member(host, "bob@example.com")
        for method, url, body in (
            ("PUT", f"/users/{bob.id}/roles/writer", None),
            ("PUT", f"/users/{admin.id}/roles/writer", None),
            ("POST", "/roles", {"name": "big", "scopes": ["items:write"]}),
            ("PUT", "/roles/reader", {"scopes": ["items:read", "items:write"]}),
            ("PUT", "/roles/writer", {"scopes": []}),
            ("DELETE", "/roles/writer", None),
        ):
            r = await host.client.request(method, url, json=body, headers=headers)
            assert (r.status_code, r.json()) == (403, {"detail": "INSUFFICIENT_SCOPE"}), url
            assert r.headers["www-authenticate"].startswith('Bearer error="insufficient_scope"')
        assert await host.kit.roles.of(admin) == (("useradmin",), ("items:read", "users:admin"))
        assert (await host.kit.roles.get("writer")).scopes == ("items:write",)

    async def test_cannot_touch_superusers_or_make_one(
        self, setup: tuple[Host, Any, dict[str, str]]
    ) -> None:
        host, admin, headers = setup
        boss, _ = await root(host)
        bob, _ = await member(host, "bob@example.com")
        for method, url, body in (
            ("PATCH", f"/users/{boss.id}", {"password": "taken over for good"}),
            ("PATCH", f"/users/{boss.id}", {"is_active": False}),
            ("DELETE", f"/users/{boss.id}", None),
            ("PATCH", f"/users/{bob.id}", {"is_superuser": True}),
            ("PATCH", f"/users/{admin.id}", {"is_superuser": True}),
        ):
            r = await host.client.request(method, url, json=body, headers=headers)
            assert (r.status_code, r.json()) == (403, {"detail": "INSUFFICIENT_SCOPE"}), body
        assert (await host.kit.users.get(boss.id)).is_active
        assert not (await host.kit.users.get(bob.id)).is_superuser

    async def test_cannot_lock_itself_out(self, setup: tuple[Host, Any, dict[str, str]]) -> None:
        host, admin, headers = setup
        for method, url, body in (
            ("DELETE", f"/users/{admin.id}/roles/useradmin", None),
            ("PUT", "/roles/useradmin", {"scopes": ["items:read"]}),
            ("DELETE", "/roles/useradmin", None),
            ("PATCH", f"/users/{admin.id}", {"is_active": False}),
            ("DELETE", f"/users/{admin.id}", None),
        ):
            r = await host.client.request(method, url, json=body, headers=headers)
            assert (r.status_code, r.json()) == (400, {"detail": "SELF_LOCKOUT"}), url
        assert (await host.client.get("/users", headers=headers)).status_code == 200

    async def test_a_second_admin_role_lets_it_drop_the_first(
        self, setup: tuple[Host, Any, dict[str, str]]
    ) -> None:
        host, admin, headers = setup
        await host.kit.roles.create("backup", ["users:admin"])
        await host.kit.roles.grant(admin, "backup")
        r = await host.client.delete(f"/users/{admin.id}/roles/useradmin", headers=headers)
        assert r.status_code == 204

    async def test_another_admin_can_remove_it(
        self, setup: tuple[Host, Any, dict[str, str]]
    ) -> None:
        host, admin, _ = setup
        _, boss = await root(host)
        r = await host.client.delete(f"/users/{admin.id}/roles/useradmin", headers=boss)
        assert r.status_code == 204
        r = await host.client.delete(f"/users/{admin.id}", headers=boss)
        assert r.status_code == 204


class TestEscalation:
    @pytest.mark.parametrize(
        "extra",
        [{"roles": ["admin"]}, {"scopes": ["users:admin"]}, {"is_superuser": True}],
    )
    async def test_mass_assignment_on_register_and_own_update_is_refused(
        self, host: Host, extra: dict[str, Any]
    ) -> None:
        await host.kit.roles.create("admin", ["users:admin"])
        r = await host.register("eve@example.com", **extra)
        assert r.status_code == 422, r.text
        headers = await host.headers("mallory@example.com")
        r = await host.client.patch("/users/me", json=extra, headers=headers)
        assert r.status_code == 422, r.text
        r = await host.client.get("/users/me/roles", headers=headers)
        assert r.json() == {"roles": [], "scopes": []}
        assert (await host.client.get("/users", headers=headers)).status_code == 403

    async def test_a_user_cannot_grant_itself_a_role(self, host: Host) -> None:
        await host.kit.roles.create("admin", ["users:admin"])
        eve, headers = await member(host, "eve@example.com")
        for method, url, body in (
            ("PUT", f"/users/{eve.id}/roles/admin", None),
            ("POST", "/roles", {"name": "mine", "scopes": ["users:admin"]}),
            ("PUT", "/roles/admin", {"scopes": ["users:admin"]}),
        ):
            r = await host.client.request(method, url, json=body, headers=headers)
            assert (r.status_code, r.json()) == (403, {"detail": "INSUFFICIENT_SCOPE"})
        assert await host.kit.roles.of(eve) == ((), ())

    async def test_admin_routes_do_not_tell_a_non_admin_whether_an_id_exists(
        self, host: Host
    ) -> None:
        await host.kit.roles.create("admin", ["users:admin"])
        bob, _ = await member(host, "bob@example.com")
        _, eve = await member(host, "eve@example.com")
        missing = "00000000-0000-0000-0000-000000000000"
        for method, path in (
            ("GET", "/users/{}"),
            ("PATCH", "/users/{}"),
            ("DELETE", "/users/{}"),
            ("GET", "/users/{}/roles"),
            ("PUT", "/users/{}/roles/admin"),
            ("DELETE", "/users/{}/roles/admin"),
        ):
            answers = [
                await host.client.request(method, path.format(id_), json={}, headers=eve)
                for id_ in (bob.id, missing)
            ]
            assert [(r.status_code, r.json()) for r in answers] == [
                (403, {"detail": "INSUFFICIENT_SCOPE"})
            ] * 2, path

    async def test_another_users_session_id_is_as_unknown_as_a_made_up_one(
        self, host: Host
    ) -> None:
        bob = await host.headers("bob@example.com")
        eve = await host.headers("eve@example.com")
        sessions = (await host.client.get("/auth/sessions", headers=bob)).json()
        made_up = "0" * len(sessions[0]["id"])
        answers = [
            await host.client.delete(f"/auth/sessions/{id_}", headers=eve)
            for id_ in (sessions[0]["id"], made_up)
        ]
        assert [(r.status_code, r.json()) for r in answers] == [
            (404, {"detail": "SESSION_NOT_FOUND"})
        ] * 2
        assert (await host.client.get("/users/me", headers=bob)).status_code == 200


class TestPolicy:
    @pytest.fixture
    async def notes(self, make_host: Any) -> Host:
        app = FastAPI()
        host: Host = await make_host(app)
        kit = host.kit
        calls: list[tuple[str, tuple[str, ...], str]] = []

        async def owns_note(access: kit.Access, note_owner: str) -> bool:  # type: ignore[name-defined]
            calls.append((access.user.email, access.required, access.request.url.path))
            return note_owner == access.user.email or await access.allows("notes:moderate")

        editor = kit.current_user(scopes=["notes:write"], policy=owns_note)

        @app.put("/notes/{note_owner}")
        async def edit(note_owner: str, user: Annotated[Any, Depends(editor)]) -> str:
            return f"{user.email} edited {note_owner}"

        app.state.calls = calls
        await kit.roles.create("writer", ["notes:write"])
        await kit.roles.create("moderator", ["notes:write", "notes:moderate"])
        return host

    async def test_the_rule_decides_after_the_scope_check(self, notes: Host) -> None:
        _, bob = await member(notes, "bob@example.com", "writer")
        _, eve = await member(notes, "eve@example.com")
        r = await notes.client.put("/notes/bob@example.com", headers=bob)
        assert r.json() == "bob@example.com edited bob@example.com"
        assert notes.app.state.calls == [
            ("bob@example.com", ("notes:write",), "/notes/bob@example.com")
        ]
        r = await notes.client.put("/notes/carol@example.com", headers=bob)
        assert (r.status_code, r.json()) == (403, {"detail": "Forbidden"})
        notes.app.state.calls.clear()
        r = await notes.client.put("/notes/eve@example.com", headers=eve)
        assert r.json() == {"detail": "INSUFFICIENT_SCOPE"}
        assert notes.app.state.calls == []  # never asked: the scope check came first
        assert (await notes.client.put("/notes/x")).status_code == 401

    async def test_the_rule_can_ask_for_more_scopes(self, notes: Host) -> None:
        _, moderator = await member(notes, "mod@example.com", "moderator")
        r = await notes.client.put("/notes/carol@example.com", headers=moderator)
        assert r.status_code == 200

    async def test_openapi_declares_the_rules_403(self, notes: Host) -> None:
        document = (await notes.client.get("/openapi.json")).json()
        examples = document["paths"]["/notes/{note_owner}"]["put"]["responses"]["403"]["content"][
            "application/json"
        ]["examples"]
        assert {"Forbidden", "INSUFFICIENT_SCOPE"} <= set(examples)

    def test_a_rule_cannot_be_optional(self) -> None:
        from fastapi_userkit import ConfigurationError, include_user_router

        kit: UserKit[Any] = include_user_router(FastAPI())

        def rule(access: Access) -> bool:
            return True

        with pytest.raises(ConfigurationError):
            kit.current_user(optional=True, policy=rule)
