"""The documentation's Python code: every snippet of README.md and docs/ comes from a
file under docs_src/, each of those files runs, and the apps they build behave as the
pages say, driven through their HTTP API.

The pages include the files with pymdownx.snippets (`--8<-- "docs_src/..."`). README.md,
which GitHub and PyPI show without that extension, holds a verbatim copy instead.
"""

import hashlib
import logging
import smtplib
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from fastapi_userkit import UserKit, UserKitSettings, include_user_router
from tests._docs import (
    DOCS_SRC,
    INCLUDE,
    ROOT,
    blocks,
    importable,
    includes,
    load,
    login,
    pages,
    purge,
    register_and_login,
    serve,
)
from tests.conftest import PASSWORD, REDIS_URL, SECRET

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

#: The fence languages of Python code.
PYTHON_FENCES = {"python", "python3", "py"}

#: Placeholder server of the database guides, replaced by a local SQLite file to run them.
PLACEHOLDER_DB = "postgresql+asyncpg://app:secret@db/app"


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The environment a reader runs the snippets in: an empty folder, a secret key,
    a cheap hash cost, and the SQLite file the kit uses by default in that folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("USERKIT_SECRET_KEY", SECRET)
    monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
    return tmp_path


@pytest.fixture(autouse=True)
def no_leftover_myapp() -> Iterator[None]:
    purge()
    yield
    purge()


def src(relative: str) -> Path:
    return DOCS_SRC / relative


# --- the pages hold no Python of their own ---------------------------------------------------


def _docs_src_files() -> list[Path]:
    return sorted(
        p
        for p in DOCS_SRC.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.name != "__init__.py"
    )


def test_no_inline_python_in_the_docs() -> None:
    """A ```python block of a page holds include lines only, so every snippet is a tested file.

    README.md is the exception GitHub and PyPI impose: it cannot include files, so each of
    its blocks must be an exact copy of a docs_src file.
    """
    copies = {p.read_text("utf-8") for p in DOCS_SRC.rglob("*.py")}
    inline = []
    for page in pages():
        for found in blocks(page):
            if found.language not in PYTHON_FENCES:
                continue
            lines = [line for line in found.body.splitlines() if line.strip()]
            if lines and all(INCLUDE.match(line) for line in lines):
                continue
            if page.name == "README.md" and found.body in copies:
                continue
            inline.append(str(found))
    assert inline == [], (
        "Python code written in the page itself; move it to a file under docs_src/, "
        "include it with --8<--, and test it in tests/test_docs_snippets.py"
    )


def test_readme_snippet_is_the_tested_file() -> None:
    (snippet,) = blocks(ROOT / "README.md", "python")
    assert snippet.body == src("readme/hello.py").read_text("utf-8")


def test_every_include_names_a_file_and_section_that_exist() -> None:
    for page in pages():
        for found in blocks(page):
            for path, section in includes(found.body):
                target = ROOT / path
                assert target.is_file(), f"{found}: {path} does not exist"
                if section is not None:
                    text = target.read_text("utf-8")
                    # after the file's comment sign: `#` in Python and SQL, `//` in JavaScript
                    for marker in (f"--8<-- [start:{section}]", f"--8<-- [end:{section}]"):
                        assert marker in text, f"{found}: {path} has no {marker}"


def test_every_docs_src_file_is_shown_on_a_page() -> None:
    shown = {ROOT / "docs_src" / "readme" / "hello.py"}  # copied into README.md
    for page in pages():
        for found in blocks(page):
            shown.update(ROOT / path for path, _ in includes(found.body))
    unused = [str(p.relative_to(ROOT)) for p in _docs_src_files() if p not in shown]
    assert unused == [], "docs_src files no page shows"


# --- every file runs ------------------------------------------------------------------------

#: What some files read from the environment, as the pages tell the reader to set it.
FILE_ENVIRONMENT = {
    "how_to/rotate_keys/settings.py": {
        "NEW_SECRET_KEY": "b" * 32 + "-new-key-for-the-docs-test",
        "OLD_SECRET_KEY": SECRET,
    },
    "how_to/send_email/smtp_sender.py": {"SMTP_PASSWORD": "smtp-password-of-the-docs-test"},
}


@pytest.mark.parametrize(
    "path",
    [p for p in _docs_src_files() if p.suffix == ".py"],
    ids=lambda p: str(p.relative_to(DOCS_SRC)),
)
def test_every_file_runs_on_its_own(
    path: Path, reader: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    relative = str(path.relative_to(DOCS_SRC))
    for name, value in FILE_ENVIRONMENT.get(relative, {}).items():
        monkeypatch.setenv(name, value)
    if relative == "reference/settings/groups.py":  # sets bcrypt_rounds in its group
        monkeypatch.delenv("USERKIT_BCRYPT_ROUNDS")
    module = load(path)
    if path.name == "conftest.py":  # pytest fixtures, run by test_docs_commands
        return
    if hasattr(module, "app"):
        assert isinstance(module.app, FastAPI)
    if hasattr(module, "kit"):
        assert isinstance(module.kit, UserKit)


# --- README, index and tutorial ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["readme/hello.py", "tutorial/first_app/main.py"])
async def test_hello_app(path: str, reader: Path) -> None:
    module = load(src(path))
    async with serve(module.app) as client:
        assert (await client.get("/hello")).status_code == 401
        headers = await register_and_login(client)
        response = await client.get("/hello", headers=headers)
    assert response.status_code == 200
    expected: Any = "hello alice@example.com"
    if path.startswith("tutorial"):
        expected = {"message": expected}
    assert response.json() == expected
    assert (reader / "userkit.db").exists()  # the default database, in the current folder


# --- React to account events with hooks ------------------------------------------------------


async def test_hooks_audit(reader: Path, caplog: pytest.LogCaptureFixture) -> None:
    module = load(src("how_to/hooks/audit.py"))
    caplog.set_level(logging.INFO, logger="myapp.audit")
    async with serve(module.app) as client:
        headers = await register_and_login(client)
        refused = await client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": "wrong one"}
        )
        assert refused.status_code == 400
        changed = await client.post(
            "/users/me/password",
            json={"current_password": PASSWORD, "new_password": "a new passphrase"},
            headers=headers,
        )
        assert changed.status_code in (200, 204), changed.text
        tokens = (
            await client.post(
                "/auth/jwt/login",
                data={"username": "alice@example.com", "password": "a new passphrase"},
            )
        ).json()
        refresh = {"refresh_token": tokens["refresh_token"]}
        assert (await client.post("/auth/jwt/refresh", json=refresh)).status_code == 200
        reused = await client.post("/auth/jwt/refresh", json=refresh)
        assert reused.json() == {"detail": "REFRESH_TOKEN_REUSED"}
    messages = [r.getMessage() for r in caplog.records if r.name == "myapp.audit"]
    user_id = await _user_id(module.kit, "alice@example.com")
    assert f"registered user={user_id}" in messages
    assert f"login user={user_id}" in messages
    assert "failed login for 'alice@example.com'" in messages
    assert f"password changed user={user_id}" in messages
    assert f"refresh token reused user={user_id}" in messages
    assert "telling 'alice@example.com' that their session may have been stolen" in messages


async def _user_id(kit: UserKit[Any], email: str) -> Any:
    user = await kit.users.get_by_email(email)
    await kit.shutdown()
    return user.id


@pytest.mark.parametrize(
    "path", ["how_to/hooks/refuse_delete.py", "how_to/delete_account/hooks.py"]
)
async def test_hooks_refuse_a_deletion(
    path: str, reader: Path, caplog: pytest.LogCaptureFixture
) -> None:
    module = load(src(path))
    caplog.set_level(logging.INFO, logger="myapp")
    body = {"current_password": PASSWORD}
    async with serve(module.app) as client:
        await module.kit.users.create(
            email="root@example.com", password=PASSWORD, is_superuser=True
        )
        root = await login(client, "root@example.com")
        response = await client.request("DELETE", "/users/me", json=body, headers=root)
        assert (response.status_code, response.json()) == (
            409,
            {"detail": "SUPERUSER_CANNOT_BE_DELETED"},
        )
        if hasattr(module, "UNPAID"):
            bob = await register_and_login(client, "bob@example.com")
            bob_id = (await module.kit.users.get_by_email("bob@example.com")).id
            module.UNPAID.add(bob_id)
            response = await client.request("DELETE", "/users/me", json=body, headers=bob)
            assert (response.status_code, response.json()) == (409, {"detail": "UNPAID_INVOICES"})
        alice = await register_and_login(client, "alice@example.com")
        alice_id = (await module.kit.users.get_by_email("alice@example.com")).id
        response = await client.request("DELETE", "/users/me", json=body, headers=alice)
        assert response.status_code == 204
        assert (await client.get("/users/me", headers=root)).status_code == 200  # still there
    if hasattr(module, "UNPAID"):
        assert f"erasing the files of user={alice_id}" in caplog.messages


async def test_hooks_breached_passwords(reader: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    breached = "correct horse battery staple"
    digest = hashlib.sha1(breached.encode(), usedforsecurity=False).hexdigest().upper()
    asked = []

    def pwned_passwords(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        prefix = request.url.path.rsplit("/", 1)[1]
        lines = ["0" * 35 + ":0"]  # padding, as Add-Padding asks
        if prefix == digest[:5]:
            lines.append(f"{digest[5:]}:3861493")
        return httpx.Response(200, text="\r\n".join(lines))

    real_client = httpx.AsyncClient

    def client_without_network(**kwargs: Any) -> httpx.AsyncClient:
        return real_client(transport=httpx.MockTransport(pwned_passwords), **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(httpx, "AsyncClient", client_without_network)
        module = load(src("how_to/hooks/breached_passwords.py"))
    async with serve(module.app) as client:
        response = await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": breached}
        )
        assert response.status_code == 400
        assert response.json()["detail"] == {
            "code": "REGISTER_INVALID_PASSWORD",
            "reason": ["Password has appeared in a data breach; choose another one."],
        }
        await register_and_login(client, "alice@example.com", "a passphrase never breached")
    await module.hibp.aclose()
    # only the first five characters of the hash left the server
    assert asked[0].url.path.rsplit("/", 1)[1] == digest[:5]
    assert all(len(r.url.path.rsplit("/", 1)[1]) == 5 for r in asked)
    assert all(r.headers["Add-Padding"] == "true" for r in asked)
    assert all(r.url.host == "api.pwnedpasswords.com" for r in asked)


# --- Give users roles and scopes (Permissions) ----------------------------------------------


async def test_permissions(reader: Path) -> None:
    module = load(src("how_to/permissions/main.py"))
    kit = module.kit
    async with serve(module.app) as client:
        assert [role.name for role in await kit.roles.list()] == ["editor", "moderator", "reader"]
        alice = await register_and_login(client)
        bob = await register_and_login(client, "bob@example.com")
        # no role yet: 403 with the RFC 6750 challenge, 401 without a token
        refused = await client.get("/notes", headers=alice)
        assert (refused.status_code, refused.json()) == (403, {"detail": "INSUFFICIENT_SCOPE"})
        assert refused.headers["WWW-Authenticate"] == (
            'Bearer error="insufficient_scope", scope="notes:read"'
        )
        assert (await client.get("/notes")).status_code == 401
        # granted, effective on the next request with the same token
        await kit.roles.grant(await kit.users.get_by_email("alice@example.com"), "editor")
        await kit.roles.grant(await kit.users.get_by_email("bob@example.com"), "editor")
        note = (await client.post("/notes", params={"text": "hi"}, headers=alice)).json()
        assert (await client.get("/notes", headers=bob)).json() == [note]
        # the policy: owners edit their notes, others get 403, unknown notes 404
        url = f"/notes/{note['id']}"
        assert (await client.put(url, params={"text": "edited"}, headers=alice)).status_code == 200
        forbidden = await client.put(url, params={"text": "mine now"}, headers=bob)
        assert (forbidden.status_code, forbidden.json()) == (403, {"detail": "Forbidden"})
        missing = await client.put("/notes/99", params={"text": "x"}, headers=alice)
        assert missing.status_code == 404
        # a moderator edits anyone's note; revoking takes effect at once
        bob_user = await kit.users.get_by_email("bob@example.com")
        await kit.roles.grant(bob_user, "moderator")
        assert (await client.put(url, params={"text": "tidied"}, headers=bob)).status_code == 200
        await kit.roles.revoke(bob_user, "moderator")
        await kit.roles.revoke(bob_user, "editor")
        assert (await client.get("/notes", headers=bob)).status_code == 403
        # Swagger UI's Authorize dialog offers the scopes, with their descriptions
        document = (await client.get("/openapi.json")).json()
        flow = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
        assert flow["password"]["scopes"]["notes:moderate"] == "Change other people's notes"
        assert {"OAuth2PasswordBearer": ["notes:write"]} in document["paths"]["/notes"]["post"][
            "security"
        ]
        # the admin routes: a superuser grants and lists roles over HTTP
        await kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
        root = await login(client, "root@example.com")
        grant = await client.put(f"/users/{bob_user.id}/roles/reader", headers=root)
        assert grant.status_code == 204
        listed = await client.get("/users", params={"role": "reader"}, headers=root)
        assert [user["email"] for user in listed.json()["items"]] == ["bob@example.com"]
        mine = await client.get("/users/me/roles", headers=bob)
        assert mine.json() == {"roles": ["reader"], "scopes": ["notes:read"]}
    await kit.shutdown()


# --- Protect your routes -----------------------------------------------------------------------


async def test_protect_routes(reader: Path) -> None:
    module = load(src("how_to/protect_routes/main.py"))
    kit = module.kit
    async with serve(module.app) as client:
        # Require a logged-in user
        assert (await client.get("/orders")).status_code == 401
        alice = await register_and_login(client)
        assert (await client.get("/orders", headers=alice)).json() == []
        alice_id = (await kit.users.get_by_email("alice@example.com")).id
        module.ORDERS[alice_id] = [{"item": "tea"}]
        assert (await client.get("/orders", headers=alice)).json() == [{"item": "tea"}]
        unauthorized = await client.get("/orders", headers={"Authorization": "Bearer x.y.z"})
        assert unauthorized.status_code == 401
        assert unauthorized.headers["WWW-Authenticate"].startswith("Bearer")
        assert unauthorized.json() == {"detail": "Unauthorized"}

        # the aliases
        assert (await client.get("/feed")).json() == {"user": None}
        assert (await client.get("/feed", headers=alice)).json() == {"user": "alice@example.com"}
        assert (await client.post("/reports")).status_code == 401
        forbidden = await client.post("/reports", headers=alice)
        assert (forbidden.status_code, forbidden.json()) == (403, {"detail": "Forbidden"})

        # combined conditions: verified and superuser
        await kit.users.create(email="root@example.com", password=PASSWORD, is_superuser=True)
        root = await login(client, "root@example.com")
        assert (await client.post("/reports", headers=root)).status_code == 200
        assert (await client.delete("/projects/1", headers=alice)).status_code == 403
        assert (await client.delete("/projects/1", headers=root)).status_code == 403  # unverified
        await kit.users.create(
            email="ops@example.com", password=PASSWORD, is_superuser=True, is_verified=True
        )
        ops = await login(client, "ops@example.com")
        assert (await client.delete("/projects/1", headers=ops)).status_code == 200

        # a whole router
        assert (await client.get("/admin/stats")).status_code == 401
        assert (await client.get("/admin/stats", headers=alice)).status_code == 403
        assert (await client.get("/admin/stats", headers=root)).json() == {"projects": 0}

        # an inactive user is refused at once, with a token that has not expired
        await kit.users.deactivate(alice_id)
        assert (await client.get("/orders", headers=alice)).status_code == 401
        assert (await client.get("/feed", headers=alice)).json() == {"user": None}
    await kit.shutdown()


def test_protect_routes_websocket(reader: Path) -> None:
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    module = load(src("how_to/protect_routes/main.py"))
    with TestClient(module.app) as client:
        client.post("/auth/register", json={"email": "alice@example.com", "password": PASSWORD})
        token = client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        ).json()["access_token"]
        with client.websocket_connect(f"/ws?access_token={token}") as socket:
            assert socket.receive_text() == "hello alice@example.com"
        with client.websocket_connect(
            "/ws", headers={"Authorization": f"Bearer {token}"}
        ) as socket:
            assert socket.receive_text() == "hello alice@example.com"
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/ws"):
            pass
        assert refused.value.code == 1008


# --- Use cookies instead of bearer tokens: a frontend on another port -------------------------

FRONTEND = "http://localhost:5173"
API = "http://localhost:8000"


def _preflight(method: str, headers: str) -> dict[str, str]:
    return {
        "Origin": FRONTEND,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
    }


def _from_the_page(**headers: str) -> dict[str, str]:
    """The headers a browser adds to a credentialed fetch() of the page on FRONTEND."""
    return {"Origin": FRONTEND, "Sec-Fetch-Site": "same-site", **headers}


async def test_cookie_transport_cross_origin(reader: Path) -> None:
    module = load(src("how_to/cookie_transport/cross_origin.py"))
    assert module.FRONTEND_ORIGIN == FRONTEND
    async with serve(module.app, base_url=API) as client:
        # the preflights the browser sends before each unsafe request
        for path, method, headers in [
            ("/auth/cookie/login", "POST", "content-type"),
            ("/auth/cookie/refresh", "POST", "x-csrf-token"),
            ("/auth/cookie/logout", "POST", "x-csrf-token"),
            ("/users/me", "PATCH", "content-type,x-csrf-token"),
            ("/users/me", "DELETE", "content-type,x-csrf-token"),
        ]:
            response = await client.options(path, headers=_preflight(method, headers))
            assert response.status_code == 200, (path, method, response.text)
            assert response.headers["access-control-allow-origin"] == FRONTEND
            assert response.headers["access-control-allow-credentials"] == "true"
            assert method in response.headers["access-control-allow-methods"]
            allowed = response.headers["access-control-allow-headers"].lower()
            for header in headers.split(","):
                assert header in allowed
        # another origin gets no CORS headers: its browser blocks the answer
        response = await client.options(
            "/auth/cookie/login",
            headers={**_preflight("POST", "content-type"), "Origin": "http://evil.example"},
        )
        assert "access-control-allow-origin" not in response.headers

        # the page registers, logs in, calls the API, refreshes and logs out
        response = await client.post(
            "/auth/register",
            json={"email": "alice@example.com", "password": PASSWORD},
            headers=_from_the_page(),
        )
        assert response.status_code == 201
        response = await client.post(
            "/auth/cookie/login",
            json={"email": "alice@example.com", "password": PASSWORD},
            headers=_from_the_page(),
        )
        assert response.status_code == 204, response.text
        assert response.headers["access-control-allow-origin"] == FRONTEND
        assert response.headers["access-control-allow-credentials"] == "true"
        assert {"userkit_access", "userkit_refresh", "userkit_csrf"} <= set(client.cookies)
        me = await client.get("/users/me", headers=_from_the_page())
        assert (me.status_code, me.json()["email"]) == (200, "alice@example.com")
        assert me.headers["access-control-allow-origin"] == FRONTEND

        # without the CSRF header, an unsafe request is refused
        refused = await client.post("/auth/cookie/refresh", headers=_from_the_page())
        assert (refused.status_code, refused.json()) == (403, {"detail": "CSRF_FAILED"})
        old_csrf = client.cookies["userkit_csrf"]
        response = await client.post(
            "/auth/cookie/refresh", headers=_from_the_page(**{"X-CSRF-Token": old_csrf})
        )
        assert response.status_code == 204, response.text
        assert client.cookies["userkit_csrf"] != old_csrf  # a new token at every refresh
        response = await client.post(
            "/auth/cookie/logout",
            headers=_from_the_page(**{"X-CSRF-Token": client.cookies["userkit_csrf"]}),
        )
        assert response.status_code == 204, response.text
        assert (await client.get("/users/me", headers=_from_the_page())).status_code == 401


async def test_cookie_transport_without_allow_methods_blocks_the_login(reader: Path) -> None:
    """The recipe's former version: CORSMiddleware allows GET only unless told otherwise."""
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[FRONTEND],
        allow_credentials=True,
        allow_headers=["Content-Type", "X-CSRF-Token"],
    )
    include_user_router(app, settings=UserKitSettings(cookie_transport=True, cookie_secure=False))
    async with serve(app, base_url=API) as client:
        response = await client.options(
            "/auth/cookie/login", headers=_preflight("POST", "content-type")
        )
    assert response.status_code == 400


# --- Use your own user model ------------------------------------------------------------------


async def test_own_user_model(reader: Path) -> None:
    with importable(src("how_to/own_user_model")):
        from myapp.main import app, kit  # type: ignore[import-not-found]

        async with serve(app) as client:
            response = await client.post(
                "/auth/register",
                json={
                    "email": "ada@example.com",
                    "password": "a long passphrase",
                    "display_name": "Ada",
                },
            )
            assert response.status_code == 201
            assert response.json() == {
                "id": 1,
                "email": "ada@example.com",
                "is_active": True,
                "is_superuser": False,
                "is_verified": False,
                "display_name": "Ada",
            }
            headers = await login(client, "ada@example.com", "a long passphrase")
            response = await client.patch(
                "/users/me", json={"display_name": "Ada L."}, headers=headers
            )
            assert response.json()["display_name"] == "Ada L."
            refused = await client.post(
                "/auth/register",
                json={"email": "eve@example.com", "password": PASSWORD, "is_superuser": True},
            )
            assert refused.status_code == 422
        assert type(kit.users).__name__ == "UserService"


async def test_own_user_model_seed(reader: Path) -> None:
    with importable(src("how_to/own_user_model")):
        from myapp.seed import add_ada  # type: ignore[import-not-found]

        user = await add_ada()
    assert (user.id, user.email, user.display_name) == (1, "ada@example.com", "Ada")


# --- Provide database sessions -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["url.py", "engine.py", "sessionmaker.py"])
async def test_provide_db_sessions(path: str, reader: Path) -> None:
    url = f"sqlite+aiosqlite:///{reader}/app.db"
    module = load(src(f"how_to/provide_db_sessions/{path}"), replace={PLACEHOLDER_DB: url})
    async with serve(module.app) as client:
        headers = await register_and_login(client)
        assert (await client.get("/users/me", headers=headers)).status_code == 200
    if hasattr(module, "engine"):
        await module.engine.dispose()  # the kit leaves your engine to you
    assert _emails(reader / "app.db") == ["alice@example.com"]


async def test_provide_db_sessions_from_the_environment(
    reader: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USERKIT_DATABASE_URL", f"sqlite+aiosqlite:///{reader}/app.db")
    module = load(src("how_to/provide_db_sessions/environment.py"))
    async with serve(module.app) as client:
        await register_and_login(client)
    assert _emails(reader / "app.db") == ["alice@example.com"]


async def test_provide_db_sessions_own_dependency(reader: Path) -> None:
    from fastapi_userkit.db.default import UserKitBase
    from fastapi_userkit.db.login_sessions import SessionBase
    from fastapi_userkit.db.roles import RoleBase

    url = f"sqlite+aiosqlite:///{reader}/app.db"
    module = load(src("how_to/provide_db_sessions/dependency.py"), replace={PLACEHOLDER_DB: url})
    async with module.engine.begin() as conn:  # the kit creates no tables here
        for metadata in (UserKitBase.metadata, SessionBase.metadata, RoleBase.metadata):
            await conn.run_sync(metadata.create_all)
    async with serve(module.app) as client:
        headers = await register_and_login(client)
        assert (await client.get("/users/me", headers=headers)).status_code == 200
        await module.create_admin()
        await login(client, "admin@example.com", "a long passphrase")
    await module.engine.dispose()
    assert _emails(reader / "app.db") == ["admin@example.com", "alice@example.com"]


def _emails(database: Path) -> list[str]:
    with sqlite3.connect(database) as conn:
        return [row[0] for row in conn.execute('SELECT email FROM "user" ORDER BY email')]


# --- Manage the schema with Alembic: target_metadata -------------------------------------------


def test_alembic_target_metadata() -> None:
    session_tables = {"userkit_session", "userkit_refresh_token"}
    role_tables = {"userkit_role", "userkit_role_scope", "userkit_user_role"}
    default = load(src("how_to/alembic/default_model.py"))
    assert [set(m.tables) for m in default.target_metadata] == [
        {"user"},
        session_tables,
        role_tables,
    ]
    with importable(src("how_to/alembic")):
        own = load(src("how_to/alembic/own_model.py"))
    assert [set(m.tables) for m in own.target_metadata] == [
        {"user", "project"},
        session_tables,
        role_tables,
    ]


# --- Tune rate limits and lockout --------------------------------------------------------------


async def _fail_logins(
    client: httpx.AsyncClient, count: int, email: str = "alice@example.com"
) -> list[int]:
    codes = []
    for _ in range(count):
        response = await client.post(
            "/auth/jwt/login", data={"username": email, "password": "not the password"}
        )
        codes.append(response.status_code)
    return codes


async def test_rate_limit_settings(reader: Path) -> None:
    module = load(src("how_to/rate_limits/settings.py"))
    assert module.settings.rate_limit_login_account == "50/3600"
    assert module.settings.login_trusted_ip_days == 14
    async with serve(module.app) as client:
        await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        assert await _fail_logins(client, 6) == [400] * 5 + [429]
        response = await client.post(
            "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
        )
    assert (response.status_code, response.json()) == (429, {"detail": "TOO_MANY_REQUESTS"})
    assert 0 < int(response.headers["Retry-After"]) <= 900


async def test_rate_limit_lockout_hook(reader: Path, caplog: pytest.LogCaptureFixture) -> None:
    module = load(src("how_to/rate_limits/lockout_hooks.py"))
    caplog.set_level(logging.INFO, logger="myapp.security")
    async with serve(module.app) as client:
        assert await _fail_logins(client, 6, "Mallory@Example.com") == [400] * 5 + [429]
    messages = [r.getMessage() for r in caplog.records if r.name == "myapp.security"]
    assert messages.count("failed login for 'Mallory@Example.com'") == 5
    assert [m for m in messages if m.startswith("rate limit reached")] == [
        "rate limit reached: 'login:acct-ip:mallory@example.com:127.0.0.1'"
    ]


async def test_rate_limits_in_redis(reader: Path, redis_prefix: str) -> None:
    import redis.asyncio as redis

    module = load(
        src("how_to/rate_limits/redis_limiter.py"),
        replace={"redis://redis.internal:6379/0": REDIS_URL, '"myapp:rl:"': f'"{redis_prefix}"'},
    )
    async with serve(module.app) as client:
        await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        assert await _fail_logins(client, 6) == [400] * 5 + [429]
    store = redis.Redis.from_url(REDIS_URL)
    keys = [k.decode() async for k in store.scan_iter(match=f"{redis_prefix}*")]
    await store.aclose()
    assert f"{redis_prefix}c:login:acct-ip:alice@example.com:127.0.0.1" in keys


# --- Share sessions across workers with Redis ---------------------------------------------------


async def test_redis_session_store(reader: Path, redis_prefix: str) -> None:
    import redis.asyncio as redis

    module = load(
        src("how_to/redis/session_store.py"),
        replace={
            "redis://redis.internal:6379/0": REDIS_URL,
            '"myapp:userkit:"': f'"{redis_prefix}"',
        },
    )
    async with serve(module.app) as client:
        headers = await register_and_login(client)
        assert (await client.get("/users/me", headers=headers)).status_code == 200
        store = redis.Redis.from_url(REDIS_URL)
        keys = [k.decode() async for k in store.scan_iter(match=f"{redis_prefix}session:*")]
        await store.aclose()
        assert len(keys) == 1
        assert (await client.post("/auth/jwt/logout", headers=headers)).status_code == 204
        assert (await client.get("/users/me", headers=headers)).status_code == 401
    with sqlite3.connect(reader / "userkit.db") as conn:  # no SQL session tables
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "userkit_session" not in tables


def test_redis_own_clients() -> None:
    from redis.asyncio import RedisCluster

    module = load(src("how_to/redis/own_client.py"))
    assert module.store.prefix == "myapp:"
    assert module.limiter.prefix == "myapp:rl:"
    assert isinstance(module.cluster, RedisCluster)


# --- Replace the kit's parts --------------------------------------------------------------------


async def test_replace_parts_audited_store(reader: Path) -> None:
    module = load(src("how_to/replace_parts/audited_store.py"))
    async with serve(module.app) as client:
        async with module.kit.database.open() as uow:  # your migrations' job
            await (await uow.session.connection()).run_sync(module.AuditEntry.__table__.create)
            await uow.commit()
        headers = await register_and_login(client)
        response = await client.patch(
            "/users/me",
            json={"email": "alice@example.org", "current_password": PASSWORD},
            headers=headers,
        )
        assert response.status_code == 200, response.text
    with sqlite3.connect(reader / "userkit.db") as conn:
        rows = conn.execute("SELECT user_id, fields FROM audit_entry").fetchall()
    assert rows, "the store wrote no audit entry"
    assert any("email" in fields for _, fields in rows)


async def test_replace_parts_hashers(reader: Path) -> None:
    module = load(src("how_to/replace_parts/hashers.py"))
    async with serve(module.app) as client:
        await register_and_login(client)
        user = await module.kit.users.get_by_email("alice@example.com")
    assert user.hashed_password.startswith("$argon2id$")


async def test_replace_parts_policy(reader: Path) -> None:
    module = load(src("how_to/replace_parts/policy.py"))
    async with serve(module.app) as client:
        for password, reasons in [
            ("short but fine", 1),  # 14 characters
            ("correct horse battery staple", 1),  # in the breach list
        ]:
            response = await client.post(
                "/auth/register", json={"email": "alice@example.com", "password": password}
            )
            assert response.status_code == 400, password
            assert len(response.json()["detail"]["reason"]) == reasons
        await register_and_login(client, password="fifteen letters!")


async def test_replace_parts_exclude(reader: Path) -> None:
    module = load(src("how_to/replace_parts/exclude.py"))
    paths = module.app.openapi()["paths"]
    assert "/users" not in paths
    assert "/users/{id}" not in paths
    assert set(paths["/users/me"]) == {"get", "patch"}
    async with serve(module.app) as client:
        headers = await register_and_login(client)
        response = await client.request(
            "DELETE", "/users/me", json={"current_password": PASSWORD}, headers=headers
        )
        assert response.status_code == 405


async def test_replace_parts_typed_alias(reader: Path) -> None:
    module = load(src("how_to/replace_parts/typed.py"))
    async with serve(module.app) as client:
        await module.kit.users.create(
            email="ada@example.com", password=PASSWORD, display_name="Ada"
        )
        headers = await login(client, "ada@example.com")
        assert (await client.get("/me/name", headers=headers)).json() == "Ada"


# --- Rotate signing keys -------------------------------------------------------------------------


async def test_rotate_keys_settings(reader: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old_key, new_key = SECRET, "b" * 32 + "-new-key-for-the-docs-test"
    before = FastAPI()  # every process signs with the old key
    include_user_router(before, settings=UserKitSettings(secret_key=old_key))
    async with serve(before) as client:
        old_token = await register_and_login(client)
    monkeypatch.setenv("NEW_SECRET_KEY", new_key)
    monkeypatch.setenv("OLD_SECRET_KEY", old_key)
    module = load(src("how_to/rotate_keys/settings.py"))
    async with serve(module.app) as client:  # signs with the new key, accepts the old one
        assert (await client.get("/users/me", headers=old_token)).status_code == 200
        new_token = await login(client, "alice@example.com")
    after = FastAPI()  # the old key removed
    include_user_router(after, settings=UserKitSettings(secret_key=new_key))
    async with serve(after) as client:
        assert (await client.get("/users/me", headers=new_token)).status_code == 200
        assert (await client.get("/users/me", headers=old_token)).status_code == 401


async def test_rotate_keys_verify_with_the_jwks(
    reader: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    monkeypatch.delenv("USERKIT_SECRET_KEY")
    monkeypatch.setenv("USERKIT_JWT_ALGORITHM", "EdDSA")
    monkeypatch.setenv("USERKIT_JWT_PRIVATE_KEY", pem.decode())
    app = FastAPI()
    include_user_router(app)
    module = load(src("how_to/rotate_keys/verify_jwks.py"))
    async with serve(app) as client:
        jwks = (await client.get("/auth/jwks.json")).json()
        response = await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        user_id = response.json()["id"]
        tokens = (
            await client.post(
                "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
            )
        ).json()
    monkeypatch.setattr(module.jwks, "fetch_data", lambda: jwks)
    claims = module.verify(tokens["access_token"])
    assert claims["sub"] == user_id
    with pytest.raises(jwt.PyJWTError):
        module.verify(tokens["refresh_token"])  # not a JWT at all
    header, payload, signature = tokens["access_token"].split(".")
    with pytest.raises(jwt.PyJWTError):
        module.verify(f"{header}.{payload}.{signature[::-1]}")


# --- Feed security events to your log pipeline ---------------------------------------------------


async def test_security_events_alert(reader: Path, caplog: pytest.LogCaptureFixture) -> None:
    module = load(src("how_to/security_events/alert.py"))
    async with serve(module.app) as client:
        await register_and_login(client)
        tokens = (
            await client.post(
                "/auth/jwt/login", data={"username": "alice@example.com", "password": PASSWORD}
            )
        ).json()
        assert not [r for r in caplog.records if r.name == "myapp.alerts"]
        refresh = {"refresh_token": tokens["refresh_token"]}
        await client.post("/auth/jwt/refresh", json=refresh)
        await client.post("/auth/jwt/refresh", json=refresh)
    (alert,) = [r for r in caplog.records if r.name == "myapp.alerts"]
    assert alert.levelno == logging.CRITICAL
    fields: Any = alert.args
    assert (fields["event"], fields["outcome"]) == ("refresh_token_reuse", "failure")


# --- Send the kit's e-mails ----------------------------------------------------------------------


async def test_send_email_smtp(reader: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []

    class SMTPServer:
        def __init__(self, host: str, port: int, *, timeout: float, context: Any) -> None:
            sent.append({"host": host, "port": port, "timeout": timeout})

        def __enter__(self) -> "SMTPServer":
            return self

        def __exit__(self, *exc: Any) -> None:
            pass

        def login(self, user: str, password: str) -> None:
            sent[-1]["login"] = (user, password)

        def send_message(self, message: Any) -> None:
            sent[-1]["message"] = message

    monkeypatch.setattr(smtplib, "SMTP_SSL", SMTPServer)
    monkeypatch.setenv("SMTP_PASSWORD", "smtp-password-of-the-docs-test")
    module = load(src("how_to/send_email/smtp_sender.py"))
    async with serve(module.app) as client:
        await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        response = await client.post("/auth/forgot-password", json={"email": "alice@example.com"})
        assert response.status_code == 202
    (delivery,) = sent
    assert (delivery["host"], delivery["port"], delivery["timeout"]) == (
        "smtp.example.com",
        465,
        20.0,
    )
    assert delivery["login"] == ("apikey", "smtp-password-of-the-docs-test")
    message = delivery["message"]
    assert message["To"] == "alice@example.com"
    assert message["From"] == "Acme <no-reply@example.com>"


async def test_send_email_mail_api(reader: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    posted: list[httpx.Request] = []

    def mail_api(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(202, json={"id": "1"})

    real_client = httpx.AsyncClient

    def client_without_network(**kwargs: Any) -> httpx.AsyncClient:
        return real_client(transport=httpx.MockTransport(mail_api), **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(httpx, "AsyncClient", client_without_network)
        module = load(src("how_to/send_email/mail_api_sender.py"))
    async with serve(module.app) as client:
        await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        await client.post("/auth/forgot-password", json={"email": "alice@example.com"})
    await module.mail_api.aclose()
    (request,) = posted
    assert str(request.url) == "https://mail-api.example.com/v1/messages"
    assert request.headers["Authorization"] == "Bearer ..."
    body = httpx.Response(200, content=request.content).json()
    assert body["to"] == "alice@example.com"
    assert "token=" in body["text"]


async def test_send_email_templates(reader: Path, caplog: pytest.LogCaptureFixture) -> None:
    module = load(src("how_to/send_email/templates.py"))
    async with serve(module.app) as client:
        await client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        await client.post("/auth/forgot-password", json={"email": "alice@example.com"})
    (logged,) = [r.getMessage() for r in caplog.records if r.name == "fastapi_userkit.mail"]
    assert "Subject: Reset your Acme password" in logged
    assert "The link works once, for 60 minutes." in logged


# --- Manage users from code ------------------------------------------------------------------


async def test_users_service_own_transaction(reader: Path) -> None:
    from sqlalchemy.exc import OperationalError

    from fastapi_userkit import UserAlreadyExistsError

    module = load(src("how_to/users_service/own_transaction.py"))
    await module.kit.startup()  # the kit's tables; the profile table is missing yet
    with pytest.raises(OperationalError, match="profile"):
        await module.create_ada()
    assert _emails(reader / "app.db") == []  # both rows or neither
    async with module.engine.begin() as conn:  # your migrations' job
        await conn.run_sync(module.Base.metadata.create_all)
    await module.create_ada()
    with pytest.raises(UserAlreadyExistsError):
        await module.create_ada()
    await module.kit.shutdown()
    await module.engine.dispose()
    assert _emails(reader / "app.db") == ["ada@example.com"]
    with sqlite3.connect(reader / "app.db") as conn:
        assert conn.execute("SELECT count(*) FROM profile").fetchone() == (1,)


async def test_users_service_invite_route(reader: Path) -> None:
    module = load(src("how_to/users_service/invite.py"))
    async with serve(module.app) as client:
        await module.kit.users.create(
            email="root@example.com", password=PASSWORD, is_superuser=True
        )
        root = await login(client, "root@example.com")
        response = await client.post(
            "/admin/users", params={"email": "new@example.com"}, headers=root
        )
        assert response.status_code == 200, response.text
        new = await module.kit.users.get_by_email("new@example.com")
        assert response.json() == {"id": str(new.id)}
        alice = await register_and_login(client)
        refused = await client.post(
            "/admin/users", params={"email": "x@example.com"}, headers=alice
        )
        assert refused.status_code == 403
    await module.engine.dispose()


# --- Settings reference, and Sessions and tokens ---------------------------------------------


def test_settings_groups() -> None:
    module = load(src("reference/settings/groups.py"))
    assert module.rounds == 13 == module.settings.bcrypt_rounds
    assert module.settings.password_min_length == 12


async def test_memory_session_store(reader: Path) -> None:
    from fastapi_userkit import MemorySessionStore

    module = load(src("explanation/sessions/memory_store.py"))
    assert isinstance(module.kit._parts.session_store, MemorySessionStore)
    async with serve(module.app) as client:
        headers = await register_and_login(client)
        assert (await client.get("/users/me", headers=headers)).status_code == 200
        assert (await client.post("/auth/jwt/logout", headers=headers)).status_code == 204
        assert (await client.get("/users/me", headers=headers)).status_code == 401


# --- the userkit command's --app modules ----------------------------------------------------------


def test_cli_app_modules(reader: Path) -> None:
    with importable(src("how_to/cli")):
        from myapp import dependency, factory, main  # type: ignore[import-not-found]

        assert main.kit.user_model is main.Member
        for module in (factory, dependency):
            kit = module.userkit_cli()
            assert isinstance(kit, UserKit)
            assert kit.user_model is main.Member
        assert isinstance(factory.create_app(), FastAPI)


# --- Turn on second factors ---------------------------------------------------------------------


def test_second_factors(reader: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyotp
    from fastapi.testclient import TestClient

    from fastapi_userkit._accounts import second_factors

    now = [(time.time() // 30) * 30 + 10]  # the TOTP clock the kit sees, moved by hand
    monkeypatch.setattr(second_factors, "time", SimpleNamespace(time=lambda: now[0]))
    module = load(src("how_to/second_factors/main.py"))
    client_module = load(src("how_to/second_factors/client.py"))
    with TestClient(module.app) as client:
        registered = client.post(
            "/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        )
        assert registered.status_code == 201
        tokens = client_module.log_in(client, "alice@example.com", PASSWORD, lambda: "unused")
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        enrolment = client.post("/auth/mfa/totp", headers=bearer).json()
        assert pyotp.parse_uri(enrolment["uri"]).issuer == "Acme"
        totp = pyotp.TOTP(enrolment["secret"])
        codes = client.post(
            "/auth/mfa/totp/confirm", headers=bearer, json={"code": totp.at(now[0])}
        ).json()["recovery_codes"]
        now[0] += 30
        asked: list[str] = []

        def read_code() -> str:
            asked.append("code")
            return totp.at(now[0])

        tokens = client_module.log_in(client, "alice@example.com", PASSWORD, read_code)
        assert asked == ["code"]
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        payout = client.post("/payouts", params={"amount": 5}, headers=bearer)
        assert payout.json() == {"to": "alice@example.com", "amount": 5}
        # a login ten minutes old is sent to re-authenticate (with a recovery code here)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        old = module.kit._parts.access_tokens.issue(
            claims["sub"],
            claims["ver"],
            claims["sid"],
            auth_time=datetime.now(UTC) - timedelta(minutes=10),
        )
        stale_tokens = {**tokens, "access_token": old}
        stale = client.post(
            "/payouts", params={"amount": 5}, headers={"Authorization": f"Bearer {old}"}
        )
        assert (stale.status_code, stale.json()) == (401, {"detail": "REAUTHENTICATION_REQUIRED"})
        assert 'max_age="300"' in stale.headers["WWW-Authenticate"]
        fresh = client_module.reauthenticate(client, stale_tokens, PASSWORD, codes[0])
        again = client.post(
            "/payouts",
            params={"amount": 5},
            headers={"Authorization": f"Bearer {fresh['access_token']}"},
        )
        assert again.status_code == 200
        status = client.get(
            "/auth/mfa", headers={"Authorization": f"Bearer {fresh['access_token']}"}
        ).json()
        assert status == {
            "totp": True,
            "totp_pending": False,
            "passkeys": 0,
            "recovery_codes_left": 9,
        }
