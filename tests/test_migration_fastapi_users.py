"""Migration from fastapi-users, with the real fastapi-users package.

A fastapi-users app (its documentation's SQLAlchemy example) registers users on a
database; the migration documented in docs/how-to/migrate-from-fastapi-users.md runs
on it, from the files the page includes (docs_src/how_to/migrate_from_fastapi_users/:
its SQL statements, its scripts and the app of step 5) and with the commands the page
shows; the kit then serves the same users on the same database: old passwords log in,
their hashes are upgraded, and the shared routes answer the same bad requests the same
way. It runs on PostgreSQL, SQLite and MariaDB.
"""

import os
import re
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from fastapi_userkit import UserKitSettings, canonical_email, email_skeleton
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase
from fastapi_userkit.passwords import BcryptHasher, LegacyBcryptHasher, PasswordHash
from tests._docs import (
    DOCS_SRC,
    ROOT,
    bash,
    block,
    exported,
    load,
    serve,
    shell_env,
    sql_statements,
)
from tests.conftest import SECRET, Host, own_database

pytest.importorskip("fastapi_users")
pytest.importorskip("argon2")

from fastapi_users import (
    BaseUserManager,
    FastAPIUsers,
    InvalidPasswordException,
    UUIDIDMixin,
)
from fastapi_users import schemas as fu_schemas
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    JWTStrategy,
)
from fastapi_users_db_sqlalchemy import (
    SQLAlchemyBaseUserTableUUID,
    SQLAlchemyUserDatabase,
)

from fastapi_userkit.contrib.argon2 import Argon2Hasher

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

DOC = ROOT / "docs" / "how-to" / "migrate-from-fastapi-users.md"
STEPS = DOCS_SRC / "how_to" / "migrate_from_fastapi_users"
FU_SECRET = "fastapi-users-secret-0123456789abcdef"
FULL_WIDTH_CAROL = "\uff23\uff41\uff52\uff4f\uff4c@example.com"  # full-width "Carol"
DOTLESS_ALICE = "al\u0131ce@example.com"  # a dotless i: looks like alice@example.com
PASSWORD = "an old passphrase"
MARIADB_URL = os.environ.get("USERKIT_TEST_MARIADB_URL", "mysql+asyncmy://root@127.0.0.1:3306/test")


# --- the documentation's files -------------------------------------------------------------


def doc_sql(name: str) -> list[str]:
    """The statements of the page's SQL file *name* (step1_sqlite, step3_postgresql, ...)."""
    return sql_statements(STEPS / f"{name}.sql")


def doc_script(name: str) -> ModuleType:
    """The page's script *name*.py, loaded as a module (its `main()` is not run)."""
    return load(STEPS / f"{name}.py")


async def migrate(engine: AsyncEngine, database: str) -> None:
    """Steps 1 to 4 of the page, on *database* (postgresql, sqlite or mysql)."""
    await run_sql(engine, doc_sql(f"step1_{database}"))
    await doc_script("fill_email_keys").fill_email_keys(engine)
    await run_sql(engine, doc_sql(f"step3_{database}"))
    await doc_script("create_session_tables").create_session_tables(engine)


async def check_the_result(engine: AsyncEngine) -> dict[str, str]:
    """The page's closing query: each address with the start of its hash."""
    (query,) = doc_sql("check")
    if engine.dialect.name == "mysql":  # as the page says: backticks there
        query = query.replace('"user"', "`user`")
    async with engine.connect() as conn:
        rows = (await conn.exec_driver_sql(query)).all()
    return {row[0]: row[1] for row in rows}


async def run_sql(engine: AsyncEngine, statements: list[str]) -> None:
    async with engine.begin() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


# --- a fastapi-users app, as in its documentation's SQLAlchemy example -------------------


class FUBase(DeclarativeBase):
    pass


class FUUser(SQLAlchemyBaseUserTableUUID, FUBase):
    pass


class FUUserRead(fu_schemas.BaseUser[uuid.UUID]):
    pass


class FUUserCreate(fu_schemas.BaseUserCreate):
    pass


class FUUserUpdate(fu_schemas.BaseUserUpdate):
    pass


def fastapi_users_app(engine: AsyncEngine) -> FastAPI:
    session_maker = async_sessionmaker(engine, expire_on_commit=False)

    async def get_async_session() -> AsyncIterator[Any]:
        async with session_maker() as session:
            yield session

    async def get_user_db(session: Any = Depends(get_async_session)) -> AsyncIterator[Any]:  # noqa: B008
        yield SQLAlchemyUserDatabase(session, FUUser)

    class UserManager(UUIDIDMixin, BaseUserManager[FUUser, uuid.UUID]):
        reset_password_token_secret = FU_SECRET
        verification_token_secret = FU_SECRET

        # fastapi-users' documented password validation example
        async def validate_password(self, password: str, user: Any) -> None:
            if len(password) < 8:
                raise InvalidPasswordException(reason="Password should be at least 8 characters")
            if user.email in password:
                raise InvalidPasswordException(reason="Password should not contain e-mail")

    async def get_user_manager(user_db: Any = Depends(get_user_db)) -> AsyncIterator[Any]:  # noqa: B008
        yield UserManager(user_db)

    def get_jwt_strategy() -> JWTStrategy[FUUser, uuid.UUID]:
        return JWTStrategy(secret=FU_SECRET, lifetime_seconds=3600)

    backend = AuthenticationBackend(
        name="jwt",
        transport=BearerTransport(tokenUrl="auth/jwt/login"),
        get_strategy=get_jwt_strategy,
    )
    fastapi_users = FastAPIUsers[FUUser, uuid.UUID](get_user_manager, [backend])
    app = FastAPI()
    app.include_router(fastapi_users.get_auth_router(backend), prefix="/auth/jwt", tags=["auth"])
    app.include_router(
        fastapi_users.get_register_router(FUUserRead, FUUserCreate), prefix="/auth", tags=["auth"]
    )
    app.include_router(fastapi_users.get_reset_password_router(), prefix="/auth", tags=["auth"])
    app.include_router(fastapi_users.get_verify_router(FUUserRead), prefix="/auth", tags=["auth"])
    app.include_router(
        fastapi_users.get_users_router(FUUserRead, FUUserUpdate), prefix="/users", tags=["users"]
    )
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


# --- the frontend-visible contract -------------------------------------------------------

Probe = tuple[str, str, dict[str, Any]]  # method, path, httpx keyword arguments

BAD_REQUESTS: dict[str, Probe] = {
    "register: address taken": (
        "POST",
        "/auth/register",
        {"json": {"email": "alice@example.com", "password": "another passphrase"}},
    ),
    "register: address taken, other case": (
        "POST",
        "/auth/register",
        {"json": {"email": "ALICE@example.com", "password": "another passphrase"}},
    ),
    "register: short password": (
        "POST",
        "/auth/register",
        {"json": {"email": "newcomer@example.com", "password": "short"}},
    ),
    "register: not an address": (
        "POST",
        "/auth/register",
        {"json": {"email": "not-an-address", "password": PASSWORD}},
    ),
    "register: no password": ("POST", "/auth/register", {"json": {"email": "x@example.com"}}),
    "login: wrong password": (
        "POST",
        "/auth/jwt/login",
        {"data": {"username": "alice@example.com", "password": "wrong passphrase"}},
    ),
    "login: unknown address": (
        "POST",
        "/auth/jwt/login",
        {"data": {"username": "nobody@example.com", "password": PASSWORD}},
    ),
    "login: inactive user": (
        "POST",
        "/auth/jwt/login",
        {"data": {"username": "inactive@example.com", "password": PASSWORD}},
    ),
    "login: no password": ("POST", "/auth/jwt/login", {"data": {"username": "a@example.com"}}),
    "logout: no token": ("POST", "/auth/jwt/logout", {}),
    "me: no token": ("GET", "/users/me", {}),
    "me: garbage token": ("GET", "/users/me", {"headers": {"Authorization": "Bearer x.y.z"}}),
    "patch me: no token": ("PATCH", "/users/me", {"json": {"email": "z@example.com"}}),
    "forgot-password: unknown address": (
        "POST",
        "/auth/forgot-password",
        {"json": {"email": "nobody@example.com"}},
    ),
    "forgot-password: known address": (
        "POST",
        "/auth/forgot-password",
        {"json": {"email": "alice@example.com"}},
    ),
    "forgot-password: not an address": (
        "POST",
        "/auth/forgot-password",
        {"json": {"email": "nope"}},
    ),
    "reset-password: bad token": (
        "POST",
        "/auth/reset-password",
        {"json": {"token": "not-a-token", "password": "a new passphrase"}},
    ),
    "reset-password: no token": (
        "POST",
        "/auth/reset-password",
        {"json": {"password": "a new passphrase"}},
    ),
    "request-verify-token: unknown address": (
        "POST",
        "/auth/request-verify-token",
        {"json": {"email": "nobody@example.com"}},
    ),
    "request-verify-token: known address": (
        "POST",
        "/auth/request-verify-token",
        {"json": {"email": "alice@example.com"}},
    ),
    "verify: bad token": ("POST", "/auth/verify", {"json": {"token": "not-a-token"}}),
    "verify: no token": ("POST", "/auth/verify", {"json": {}}),
}


def error_code(response: httpx.Response) -> str | None:
    """The part of a response a frontend branches on: the error code, if any."""
    if response.status_code < 400:
        return None
    detail = response.json()["detail"]
    if isinstance(detail, str):
        return detail
    if isinstance(detail, dict):
        return str(detail["code"])
    return "<validation errors>"  # 422: FastAPI's list of errors


async def answers(client: httpx.AsyncClient) -> dict[str, tuple[int, str | None]]:
    result = {}
    for name, (method, path, kwargs) in BAD_REQUESTS.items():
        response = await client.request(method, path, **kwargs)
        result[name] = (response.status_code, error_code(response))
    return result


async def differences(
    client: httpx.AsyncClient, token: str, new_email: str
) -> dict[str, tuple[int, str | None]]:
    """The requests the page lists under "What changes", with their answers."""
    auth = {"Authorization": f"Bearer {token}"}
    probes: dict[str, Probe] = {
        "register: privileged field": (
            "POST",
            "/auth/register",
            {"json": {"email": "eve@example.com", "password": PASSWORD, "is_superuser": True}},
        ),
        "register: unknown field": (
            "POST",
            "/auth/register",
            {"json": {"email": "frank@example.com", "password": PASSWORD, "nickname": "F"}},
        ),
        "patch me: privileged field": (
            "PATCH",
            "/users/me",
            {"json": {"is_superuser": True}, "headers": auth},
        ),
        "patch me: new address without current_password": (
            "PATCH",
            "/users/me",
            {"json": {"email": new_email}, "headers": auth},
        ),
    }
    result = {}
    for name, (method, path, kwargs) in probes.items():
        response = await client.request(method, path, **kwargs)
        result[name] = (response.status_code, error_code(response))
    return result


# --- helpers on the shared database ------------------------------------------------------


async def stored_hash(engine: AsyncEngine, email: str) -> str:
    async with engine.connect() as conn:
        value = await conn.scalar(
            text('SELECT hashed_password FROM "user" WHERE email = :e'), {"e": email}
        )
    assert value is not None, email
    return str(value)


async def set_column(engine: AsyncEngine, email: str, **values: Any) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    table = engine.dialect.identifier_preparer.quote("user")  # `user` on MariaDB
    async with engine.begin() as conn:
        result = await conn.execute(
            text(f"UPDATE {table} SET {assignments} WHERE email = :e"),  # noqa: S608 - test names
            {**values, "e": email},
        )
    assert getattr(result, "rowcount", 1) == 1


def pwdlib_bcrypt_hash(password: str) -> str:
    from pwdlib import PasswordHash as PwdlibHash
    from pwdlib.hashers.bcrypt import BcryptHasher as PwdlibBcrypt

    return PwdlibHash((PwdlibBcrypt(rounds=4),)).hash(password)


async def register_with_fastapi_users(fu: httpx.AsyncClient, email: str) -> dict[str, Any]:
    response = await fu.post("/auth/register", json={"email": email, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> str:
    response = await client.post("/auth/jwt/login", data={"username": email, "password": password})
    assert response.status_code == 200, (email, response.text)
    body = response.json()
    assert body["token_type"] == "bearer"
    return str(body["access_token"])


def creds(name: str) -> dict[str, str]:
    return {"username": f"{name}@example.com", "password": PASSWORD}


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})


def kit_settings(**overrides: Any) -> UserKitSettings:
    return UserKitSettings(secret_key=SECRET, bcrypt_rounds=4, **overrides)


# --- the migration on PostgreSQL ---------------------------------------------------------


class TestMigrationOnPostgres:
    async def test_users_keep_their_passwords_and_the_frontend_contract(
        self, pg_engine: AsyncEngine, make_host: Callable[..., Any]
    ) -> None:
        async with pg_engine.begin() as conn:
            await conn.run_sync(FUBase.metadata.create_all)
        fu_app = fastapi_users_app(pg_engine)
        async with client_for(fu_app) as fu:
            alice = await register_with_fastapi_users(fu, "alice@example.com")
            await register_with_fastapi_users(fu, "bob@example.com")
            # email-validator lower-cases the domain and keeps the local part as typed
            strasse = await register_with_fastapi_users(fu, "Straße@Example.com")
            # full-width letters: one account with "carol@example.com" for the kit
            carol = await register_with_fastapi_users(fu, FULL_WIDTH_CAROL)
            # a look-alike of alice@example.com: two accounts for the kit too
            dotless = await register_with_fastapi_users(fu, DOTLESS_ALICE)
            await register_with_fastapi_users(fu, "inactive@example.com")
            await set_column(pg_engine, "inactive@example.com", is_active=False)
            await set_column(
                pg_engine, "bob@example.com", hashed_password=pwdlib_bcrypt_hash(PASSWORD)
            )
            await register_with_fastapi_users(fu, "dave@example.com")
            fu_token = await login(fu, "alice@example.com")
            assert (await me(fu, fu_token)).json() == alice
            fu_answers = await answers(fu)
            dave_token = await login(fu, "dave@example.com")
            fu_differences = await differences(fu, dave_token, "dave.new@example.com")
            short = {"email": "someone@example.com", "password": "short"}
            fu_refusal = (await fu.post("/auth/register", json=short)).json()["detail"]
            fu_login_fields = set((await fu.post("/auth/jwt/login", data=creds("alice"))).json())

        assert (await stored_hash(pg_engine, "alice@example.com")).startswith("$argon2id$")
        assert (await stored_hash(pg_engine, "bob@example.com")).startswith("$2b$")
        assert strasse["email"] == "Straße@example.com"
        assert carol["email"] == FULL_WIDTH_CAROL
        assert dotless["email"] == DOTLESS_ALICE

        # the documented migration, from the files the page includes
        script = doc_script("fill_email_keys")
        # the kit's own functions, not a copy that could drift from them
        assert script.canonical_email is canonical_email
        assert script.email_skeleton is email_skeleton
        await migrate(pg_engine, "postgresql")
        async with pg_engine.begin() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT id, email, email_key, email_skeleton, lower(email) AS lowered"
                        ' FROM "user"'
                    )
                )
            ).all()
            assert await conn.run_sync(_schema_differences) == []
        by_id = {str(row.id): row for row in rows}
        for row in rows:
            assert row.email_key == canonical_email(row.email), row.email
            assert row.email_skeleton == email_skeleton(row.email), row.email
        # lower-cased, not case-folded: ß stays
        assert by_id[strasse["id"]].email_key == "straße@example.com"
        # lower() would have missed this one: the kit looks up "carol@example.com"
        assert by_id[carol["id"]].email_key == "carol@example.com"
        assert by_id[carol["id"]].lowered != "carol@example.com"
        # look-alikes keep two accounts, with one skeleton
        assert by_id[dotless["id"]].email_key != by_id[alice["id"]].email_key
        assert by_id[dotless["id"]].email_skeleton == by_id[alice["id"]].email_skeleton

        host: Host = await make_host(settings=kit_settings(), database=pg_engine)
        kit_client = host.client

        # fastapi-users' tokens are not accepted: everyone logs in once more
        assert (await me(kit_client, fu_token)).status_code == 401

        for email, user in [
            ("alice@example.com", alice),
            ("bob@example.com", None),
            ("Straße@example.com", strasse),
            ("STRAẞE@example.com", strasse),  # capital sharp s: lower-cased to ß
            ("carol@example.com", carol),
            ("Carol@example.com", carol),
            (FULL_WIDTH_CAROL, carol),
            (DOTLESS_ALICE, dotless),
        ]:
            token = await login(kit_client, email)
            response = await me(kit_client, token)
            assert response.status_code == 200, response.text
            if user is not None:
                assert response.json() == user

        # ß and ss are two addresses: STRASSE@ is not Straße@
        response = await kit_client.post("/auth/jwt/login", data=creds("STRASSE"))
        assert (response.status_code, error_code(response)) == (400, "LOGIN_BAD_CREDENTIALS")

        # every old hash was upgraded at the first login, and verifies afterwards
        checked = await check_the_result(pg_engine)
        assert checked["alice@example.com"] == checked["bob@example.com"] == "bcrypt-sha256$"
        assert checked["inactive@example.com"] == "$argon2id$v=19"  # never logged in
        for email in ("alice@example.com", "bob@example.com", "Straße@example.com"):
            upgraded = await stored_hash(pg_engine, email)
            assert upgraded.startswith("bcrypt-sha256$$2b$04$"), email
            await login(kit_client, email)
            assert await stored_hash(pg_engine, email) == upgraded  # no second rehash

        # the same bad requests get the same status codes and error codes
        kit_answers = await answers(kit_client)
        assert kit_answers == fu_answers

        # success shapes: the kit's user objects have fastapi-users' fields
        response = await kit_client.post(
            "/auth/register", json={"email": "newcomer@example.com", "password": PASSWORD}
        )
        assert response.status_code == 201
        assert set(response.json()) == set(alice)
        # the migrated skeletons count: a new look-alike (a Cyrillic a) is refused
        response = await kit_client.post(
            "/auth/register", json={"email": "\u0430lice@example.com", "password": PASSWORD}
        )
        assert (response.status_code, error_code(response)) == (400, "REGISTER_EMAIL_LOOKALIKE")
        kit_login = (await kit_client.post("/auth/jwt/login", data=creds("alice"))).json()
        assert fu_login_fields == {"access_token", "token_type"}
        assert set(kit_login) == fu_login_fields | {"expires_in", "refresh_token"}

        # what the page lists under "What changes"
        assert fu_differences == {
            "register: privileged field": (201, None),  # ignored
            "register: unknown field": (201, None),  # ignored
            "patch me: privileged field": (200, None),  # ignored
            "patch me: new address without current_password": (200, None),
        }
        dave_token = await login(kit_client, "dave.new@example.com")
        kit_differences = await differences(kit_client, dave_token, "dave.newer@example.com")
        assert kit_differences == {
            "register: privileged field": (422, "<validation errors>"),
            "register: unknown field": (422, "<validation errors>"),
            "patch me: privileged field": (422, "<validation errors>"),
            "patch me: new address without current_password": (400, "CURRENT_PASSWORD_INVALID"),
        }
        kit_refusal = (await kit_client.post("/auth/register", json=short)).json()["detail"]
        assert fu_refusal["code"] == kit_refusal["code"] == "REGISTER_INVALID_PASSWORD"
        assert isinstance(fu_refusal["reason"], str)
        assert isinstance(kit_refusal["reason"], list)

    async def test_routes_fastapi_users_has_and_the_kit_shares(
        self, pg_engine: AsyncEngine, make_host: Callable[..., Any]
    ) -> None:
        fu_routes = _routes(fastapi_users_app(pg_engine))
        # Nothing migrated here: the kit creates its tables to start.
        host: Host = await make_host(settings=kit_settings(create_tables=True), database=pg_engine)
        kit_routes = _routes(host.app)
        shared = {
            ("POST", "/auth/register"),
            ("POST", "/auth/jwt/login"),
            ("POST", "/auth/jwt/logout"),
            ("POST", "/auth/forgot-password"),
            ("POST", "/auth/reset-password"),
            ("POST", "/auth/request-verify-token"),
            ("POST", "/auth/verify"),
            ("GET", "/users/me"),
            ("PATCH", "/users/me"),
        }
        assert shared <= fu_routes
        assert shared <= kit_routes
        # every route of fastapi-users' routers exists in the kit, admin ones included
        assert {("GET", "/users/{id}"), ("PATCH", "/users/{id}"), ("DELETE", "/users/{id}")} <= (
            fu_routes & kit_routes
        )
        assert fu_routes - kit_routes == set()

    async def test_addresses_that_collide_stop_the_migration(self, pg_engine: AsyncEngine) -> None:
        async with pg_engine.begin() as conn:
            await conn.run_sync(FUBase.metadata.create_all)
        async with client_for(fastapi_users_app(pg_engine)) as fu:
            # two accounts for fastapi-users (lower() keeps full-width letters), one for the kit
            await register_with_fastapi_users(fu, "carol@example.com")
            await register_with_fastapi_users(fu, FULL_WIDTH_CAROL)
        await run_sql(pg_engine, doc_sql("step1_postgresql"))
        both = rf"(?=.*'carol@example\.com')(?=.*'{re.escape(FULL_WIDTH_CAROL)}')"
        with pytest.raises(SystemExit, match=both):
            await doc_script("fill_email_keys").fill_email_keys(pg_engine)
        async with pg_engine.connect() as conn:  # nothing was written
            rows = (await conn.execute(text('SELECT email_key, email_skeleton FROM "user"'))).all()
        assert [tuple(row) for row in rows] == [(None, None), (None, None)]


def _routes(app: FastAPI) -> set[tuple[str, str]]:
    """Method and path of every operation in the app's OpenAPI document."""
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def _schema_differences(sync_conn: Any) -> list[Any]:
    """What Alembic's autogenerate would still change, against the kit's tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from fastapi_userkit.db.default import UserKitBase

    combined = MetaData()
    for metadata in (UserKitBase.metadata, SessionBase.metadata, RoleBase.metadata):
        for table in metadata.tables.values():
            table.to_metadata(combined)
    context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
    return list(compare_metadata(context, combined))


# --- the migration on SQLite (ids change spelling) ---------------------------------------


class TestMigrationOnSQLite:
    async def test_a_reader_migrates_with_the_pages_commands(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The page, followed in a folder holding fastapi-users' SQLite database, app.db."""
        monkeypatch.chdir(tmp_path)
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/app.db")
        try:
            async with engine.begin() as conn:
                await conn.run_sync(FUBase.metadata.create_all)
            async with client_for(fastapi_users_app(engine)) as fu:
                alice = await register_with_fastapi_users(fu, "alice@example.com")
            async with engine.connect() as conn:
                stored_id = await conn.scalar(text('SELECT id FROM "user"'))
            assert stored_id == alice["id"]  # 36 characters, with dashes

            # step 1, then steps 2 and 4 as the page runs them: its scripts, its commands
            await run_sql(engine, doc_sql("step1_sqlite"))
            await engine.dispose()
            env = shell_env()
            for script in ("fill_email_keys", "create_session_tables"):
                shutil.copy(STEPS / f"{script}.py", tmp_path)
                command = block(DOC, "bash", f"python {script}.py", "sqlite+aiosqlite").body
                result = bash(command, tmp_path, env)
                assert result.returncode == 0, result.stderr
                if script == "fill_email_keys":
                    await run_sql(engine, doc_sql("step3_sqlite"))
                    await engine.dispose()
            async with engine.connect() as conn:
                row = (
                    await conn.execute(text('SELECT id, email_key, email_skeleton FROM "user"'))
                ).one()
                tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            assert row.id == uuid.UUID(alice["id"]).hex  # what SQLAlchemy's Uuid stores
            assert row.email_key == canonical_email("alice@example.com")
            assert row.email_skeleton == email_skeleton("alice@example.com")
            assert {"userkit_session", "userkit_refresh_token"} <= tables

            # step 5: the page's environment, and its app
            exports = block(DOC, "bash", "export USERKIT_DATABASE_URL", "sqlite+aiosqlite").body
            for name, value in exported(exports, tmp_path, env).items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
            app = doc_script("main").app
            async with serve(app) as client:
                token = await login(client, "alice@example.com")
                response = await me(client, token)
            assert response.status_code == 200
            assert response.json() == alice
            assert await check_the_result(engine) == {"alice@example.com": "bcrypt-sha256$"}
        finally:
            await engine.dispose()


# --- the migration on MariaDB (ids change spelling, binary collations) -------------------


class TestMigrationOnMariaDB:
    async def test_ids_lose_their_dashes_and_users_log_in(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async with own_database(MARIADB_URL) as url:
            engine = create_async_engine(url)
            try:
                async with engine.begin() as conn:
                    await conn.run_sync(FUBase.metadata.create_all)
                async with client_for(fastapi_users_app(engine)) as fu:
                    alice = await register_with_fastapi_users(fu, "alice@example.com")
                    # (MariaDB's default collation already made look-alikes one address)
                    await register_with_fastapi_users(fu, "bob@example.com")
                await set_column(
                    engine, "bob@example.com", hashed_password=pwdlib_bcrypt_hash(PASSWORD)
                )
                # the page's steps, its scripts run with its MariaDB commands
                await run_sql(engine, doc_sql("step1_mysql"))
                await engine.dispose()
                for script in ("fill_email_keys", "create_session_tables"):
                    shutil.copy(STEPS / f"{script}.py", tmp_path)
                    command = block(DOC, "bash", f"python {script}.py", "mysql+asyncmy").body
                    command = command.replace("mysql+asyncmy://user:password@host/dbname", url)
                    result = bash(command, tmp_path, shell_env())
                    assert result.returncode == 0, result.stderr
                    if script == "fill_email_keys":
                        await run_sql(engine, doc_sql("step3_mysql"))
                        await engine.dispose()

                monkeypatch.chdir(tmp_path)
                monkeypatch.setenv("USERKIT_DATABASE_URL", url)
                monkeypatch.setenv("USERKIT_SECRET_KEY", SECRET)
                monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
                app = doc_script("main").app
                async with serve(app) as client:
                    for email, user in [
                        ("alice@example.com", alice),
                        ("Alice@Example.com", alice),
                        ("bob@example.com", None),
                    ]:
                        response = await me(client, await login(client, email))
                        assert response.status_code == 200, response.text
                        if user is not None:
                            assert response.json() == user
                checked = await check_the_result(engine)
                assert set(checked.values()) == {"bcrypt-sha256$"}
            finally:
                await engine.dispose()


# --- the [argon2] extra ------------------------------------------------------------------


@pytest.fixture
def sqlite_host(tmp_path: Path, make_host: Callable[..., Any]) -> Callable[[], Any]:
    """A kit on a SQLite file of its own, whatever database the suite runs on."""

    async def make() -> Host:
        url = f"sqlite+aiosqlite:///{tmp_path}/kit.db"
        return await make_host(settings=kit_settings(database_url=url))  # type: ignore[no-any-return]

    return make


class TestArgon2Hasher:
    def test_verifies_pwdlib_hashes(self) -> None:
        from pwdlib import PasswordHash as PwdlibHash

        hashed = PwdlibHash.recommended().hash("correct horse")  # fastapi-users' default
        hasher = Argon2Hasher()
        assert hasher.identify(hashed)
        assert hasher.verify("correct horse", hashed)
        assert not hasher.verify("wrong horse", hashed)

    @pytest.mark.parametrize(
        "hashed",
        [
            "$argon2id$",
            "$argon2id$v=19$m=65536,t=3,p=4$garbage",
            "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaA",
            "$argon2x$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
            "$argon2id$é",
            "$2b$12$notargon",
            "bcrypt-sha256$$2b$04$x",
            "",
        ],
    )
    def test_never_raises_on_bad_hashes(self, hashed: str) -> None:
        hasher = Argon2Hasher()
        assert hasher.verify("correct horse", hashed) is False
        assert hasher.identify(hashed) == hashed.startswith("$argon2")

    def test_writes_hashes_and_reports_old_parameters(self) -> None:
        import argon2

        hasher = Argon2Hasher(argon2.PasswordHasher(time_cost=1, memory_cost=1024))
        hashed = hasher.hash("correct horse")
        assert hashed.startswith("$argon2id$")
        assert hasher.verify("correct horse", hashed)
        assert not hasher.needs_rehash(hashed)
        assert Argon2Hasher().needs_rehash(hashed)
        assert Argon2Hasher().needs_rehash("$argon2id$garbage")

    def test_lone_surrogates_do_not_raise(self) -> None:
        hasher = Argon2Hasher(__import__("argon2").PasswordHasher(time_cost=1, memory_cost=1024))
        hashed = hasher.hash("correct horse")
        assert hasher.verify("\ud800", hashed) is False
        assert hasher.verify("\ud800", hasher.hash("\ud800"))

    async def test_verified_then_upgraded_to_the_current_hasher(self) -> None:
        from pwdlib import PasswordHash as PwdlibHash

        hashed = PwdlibHash.recommended().hash("correct horse")
        ph = PasswordHash([BcryptHasher(4), LegacyBcryptHasher(), Argon2Hasher()], concurrency=2)
        valid, new_hash = await ph.verify_and_update("correct horse", hashed)
        assert valid
        assert new_hash is not None and new_hash.startswith("bcrypt-sha256$")
        assert await ph.verify_and_update("wrong horse", hashed) == (False, None)

    async def test_the_kit_adds_it_when_argon2_cffi_is_installed(
        self, sqlite_host: Callable[[], Any]
    ) -> None:
        host: Host = await sqlite_host()
        hashers = host.kit._parts.password_hash.hashers
        assert [type(h) for h in hashers] == [BcryptHasher, LegacyBcryptHasher, Argon2Hasher]

    async def test_argon2_user_logs_in_through_the_kit(
        self, sqlite_host: Callable[[], Any]
    ) -> None:
        from pwdlib import PasswordHash as PwdlibHash

        host: Host = await sqlite_host()
        assert (await host.register("ada@example.com", PASSWORD)).status_code == 201
        user = await host.kit.users.get_by_email("ada@example.com")
        async with host.kit.database.open() as uow:
            await host.kit._parts.accounts.users(uow).update(
                await host.kit._parts.accounts.users(uow).get(user.id),
                {"hashed_password": PwdlibHash.recommended().hash(PASSWORD)},
            )
            await uow.commit()
        await host.login("ada@example.com", PASSWORD)
        user = await host.kit.users.get_by_email("ada@example.com")
        assert user.hashed_password.startswith("bcrypt-sha256$")

    def test_without_argon2_cffi(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(sys.modules, "argon2", None)
        with pytest.raises(ImportError, match=r'pip install "fastapi-userkit\[argon2\]"'):
            Argon2Hasher()

    async def test_the_kit_starts_without_argon2_cffi(
        self, monkeypatch: pytest.MonkeyPatch, sqlite_host: Callable[[], Any]
    ) -> None:
        monkeypatch.setitem(sys.modules, "argon2", None)
        host: Host = await sqlite_host()
        assert [type(h) for h in host.kit._parts.password_hash.hashers] == [
            BcryptHasher,
            LegacyBcryptHasher,
        ]
