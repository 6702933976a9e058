"""The `userkit` command line, run for real as a subprocess."""

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from fastapi_userkit import UserKitSettings, include_user_router
from tests._terminal import converse

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

SECRET = "7c1f4e2a9b3d5f80a6e4c2b1d9f7e5a3c1b0d8f6e4a2c0b9d7f5e3a1c9b7d5f3"  # 64 hex characters
PASSWORD = "correct horse battery"
NEW_PASSWORD = "battery staple horse"
ADMIN = "admin@example.com"
TIMEOUT = 60.0
USERKIT_SCRIPT = Path(sys.executable).with_name("userkit")


def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/cli.db"


def cli_env(tmp_path: Path, extra: dict[str, str | None] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}
    env.update(
        USERKIT_DATABASE_URL=db_url(tmp_path),
        USERKIT_SECRET_KEY=SECRET,
        USERKIT_BCRYPT_ROUNDS="4",
    )
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def command(script: bool) -> list[str]:
    return [str(USERKIT_SCRIPT)] if script else [sys.executable, "-m", "fastapi_userkit"]


def run(
    tmp_path: Path,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str | None] | None = None,
    script: bool = False,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [*command(script), *args],
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(tmp_path, env),
        timeout=TIMEOUT,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    return result


def fails(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def create(tmp_path: Path, email: str = ADMIN, password: str = PASSWORD) -> str:
    result = ok(
        run(
            tmp_path,
            "create-superuser",
            "--email",
            email,
            "--password-stdin",
            stdin=password + "\n",
        )
    )
    return result.stdout.strip()


def users(tmp_path: Path, *args: str, **kwargs: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        ok(run(tmp_path, "list-users", "--json", *args, **kwargs)).stdout
    )
    return rows


def run_in_terminal(
    tmp_path: Path, args: list[str], dialogue: list[tuple[str, str]]
) -> tuple[int, str, str, bytes]:
    """Run the command with a pseudo-terminal as standard input, typing each answer
    once its prompt has appeared on stderr. Returns (code, stdout, stderr, echo).
    """
    pending = list(dialogue)
    seen = 0

    def reply(stderr: bytes, terminal: bytes) -> list[str]:
        nonlocal seen
        typed = []
        while pending:
            prompt = pending[0][0].encode()
            found = stderr.find(prompt, seen)
            if found < 0:
                break
            seen = found + len(prompt)
            typed.append(pending.pop(0)[1])
        return typed

    code, out, err, echo = converse(
        [*command(False), *args], cwd=tmp_path, env=cli_env(tmp_path), timeout=TIMEOUT, reply=reply
    )
    assert not pending, f"prompts never shown: {pending}; stderr: {err!r}"
    return code, out.decode(), err.decode(), echo


def settings(tmp_path: Path) -> UserKitSettings:
    return UserKitSettings(database_url=db_url(tmp_path), secret_key=SECRET, bcrypt_rounds=4)


async def can_log_in(tmp_path: Path, email: str, password: str) -> bool:
    kit = include_user_router(FastAPI(), settings=settings(tmp_path))
    await kit.startup()
    try:
        return await kit.users.authenticate(email, password) is not None
    finally:
        await kit.shutdown()


async def hashed_password(tmp_path: Path, email: str) -> str:
    kit = include_user_router(FastAPI(), settings=settings(tmp_path))
    await kit.startup()
    try:
        return str((await kit.users.get_by_email(email)).hashed_password)
    finally:
        await kit.shutdown()


# --------------------------------------------------------------------------- usage


def test_console_script_shows_every_command(tmp_path: Path) -> None:
    assert USERKIT_SCRIPT.exists(), "run `pip install -e .` to install the console script"
    result = ok(run(tmp_path, "--help", script=True))
    assert result.stdout.startswith("usage: userkit")
    for name in [
        "create-superuser",
        "set-password",
        "deactivate",
        "revoke-sessions",
        "reset-mfa",
        "list-users",
        "create-role",
        "delete-role",
        "grant-role",
        "revoke-role",
        "list-roles",
        "init-db",
    ]:
        assert name in result.stdout
    assert "development only" in ok(run(tmp_path, "init-db", "--help")).stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "required: COMMAND"),
        (["frobnicate"], "invalid choice"),
        (["list-users", "--limit", "0"], "--limit: must be at least 1"),
        (["list-users", "--offset", "x"], "not a whole number"),
        (["set-password"], "required: EMAIL"),
        (["create-superuser", "--password-stdin", "--password-env", "X"], "not allowed with"),
    ],
)
def test_bad_usage_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    fails(run(tmp_path, *args), 2, message)


def test_weak_secret_exits_2_without_echoing_it(tmp_path: Path) -> None:
    weak = "changeme-changeme-changeme-changeme"
    result = run(tmp_path, "list-users", env={"USERKIT_SECRET_KEY": weak})
    fails(result, 2, "USERKIT_SECRET_KEY")
    assert "placeholder" in result.stderr
    assert weak not in result.stderr


# --------------------------------------------------------------------------- create-superuser


async def test_superuser_from_stdin_logs_in_through_the_app(tmp_path: Path) -> None:
    result = ok(
        run(
            tmp_path,
            "create-superuser",
            "--email",
            ADMIN,
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
    )
    user_id = result.stdout.strip()
    uuid.UUID(user_id)
    assert PASSWORD not in result.stdout + result.stderr

    app = FastAPI()
    include_user_router(app, settings=settings(tmp_path))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        login = await client.post("/auth/jwt/login", data={"username": ADMIN, "password": PASSWORD})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = (await client.get("/users/me", headers=headers)).json()
    assert me["id"] == user_id
    assert me["is_superuser"] is True
    assert me["is_verified"] is True
    assert me["is_active"] is True


async def test_superuser_from_environment_with_console_script(tmp_path: Path) -> None:
    env = {"USERKIT_SUPERUSER_EMAIL": ADMIN, "USERKIT_SUPERUSER_PASSWORD": PASSWORD}
    result = ok(run(tmp_path, "create-superuser", env=env, script=True))
    assert PASSWORD not in result.stdout + result.stderr
    assert users(tmp_path) == [
        {
            "id": result.stdout.strip(),
            "email": ADMIN,
            "is_active": True,
            "is_superuser": True,
            "is_verified": True,
        }
    ]
    assert await can_log_in(tmp_path, ADMIN, PASSWORD)


async def test_superuser_password_from_named_variable(tmp_path: Path) -> None:
    ok(
        run(
            tmp_path,
            "create-superuser",
            "--email",
            ADMIN,
            "--password-env",
            "ADMIN_PW",
            env={"ADMIN_PW": PASSWORD},
        )
    )
    assert await can_log_in(tmp_path, ADMIN, PASSWORD)
    fails(
        run(tmp_path, "create-superuser", "--email", "b@example.com", "--password-env", "NOPE"),
        2,
        "NOPE is not set",
    )


async def test_interactive_prompt_hides_the_password(tmp_path: Path) -> None:
    code, stdout, stderr, echo = run_in_terminal(
        tmp_path,
        ["create-superuser"],
        [("E-mail: ", ADMIN), ("Password: ", PASSWORD), ("Password (again): ", PASSWORD)],
    )
    assert code == 0, stderr
    uuid.UUID(stdout.strip())
    assert PASSWORD.encode() not in echo  # the terminal did not echo it
    assert ADMIN.encode() in echo  # while the e-mail address was echoed as typed
    assert PASSWORD not in stdout + stderr
    assert await can_log_in(tmp_path, ADMIN, PASSWORD)


def test_interactive_prompts_must_match(tmp_path: Path) -> None:
    code, _, stderr, _ = run_in_terminal(
        tmp_path,
        ["create-superuser", "--email", ADMIN],
        [("Password: ", PASSWORD), ("Password (again): ", PASSWORD + "!")],
    )
    assert code == 2
    assert "do not match" in stderr
    assert PASSWORD not in stderr
    assert users(tmp_path) == []


def test_no_password_without_a_terminal_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path, "create-superuser", "--email", ADMIN)
    fails(result, 2, "not a terminal")
    assert "--password-stdin" in result.stderr
    fails(
        run(tmp_path, "create-superuser", "--password-stdin", stdin=PASSWORD + "\n"), 2, "--email"
    )
    fails(
        run(tmp_path, "create-superuser", "--email", ADMIN, "--password-stdin", stdin=""),
        2,
        "no password",
    )
    assert users(tmp_path) == []


def test_bad_email_exits_2(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "create-superuser",
        "--email",
        "not-an-address",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    fails(result, 2, "not a valid e-mail address")


def test_refused_password_lists_every_reason(tmp_path: Path) -> None:
    result = run(
        tmp_path, "create-superuser", "--email", ADMIN, "--password-stdin", stdin="12345\n"
    )
    fails(result, 1, "the password was refused")
    assert "at least 8 characters" in result.stderr
    assert "too common" in result.stderr
    assert users(tmp_path) == []


def test_existing_address_exits_1(tmp_path: Path) -> None:
    create(tmp_path)
    result = run(
        tmp_path,
        "create-superuser",
        "--email",
        ADMIN.upper(),
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    fails(result, 1, "already exists")
    assert len(users(tmp_path)) == 1


# --------------------------------------------------------------------------- other commands


async def test_set_password_ends_sessions(tmp_path: Path) -> None:
    create(tmp_path)
    result = ok(run(tmp_path, "set-password", ADMIN, "--password-stdin", stdin=NEW_PASSWORD + "\n"))
    assert NEW_PASSWORD not in result.stdout + result.stderr
    assert not await can_log_in(tmp_path, ADMIN, PASSWORD)
    assert await can_log_in(tmp_path, ADMIN, NEW_PASSWORD)
    ok(run(tmp_path, "set-password", ADMIN, "--password-env", "PW", env={"PW": PASSWORD}))
    assert await can_log_in(tmp_path, ADMIN, PASSWORD)
    fails(
        run(tmp_path, "set-password", ADMIN, "--password-stdin", stdin="12345\n"), 1, "too common"
    )
    fails(run(tmp_path, "set-password", ADMIN), 2, "not a terminal")


def test_set_password_prompts_on_a_terminal(tmp_path: Path) -> None:
    create(tmp_path)
    code, _, stderr, echo = run_in_terminal(
        tmp_path,
        ["set-password", ADMIN],
        [("Password: ", NEW_PASSWORD), ("Password (again): ", NEW_PASSWORD)],
    )
    assert code == 0, stderr
    assert NEW_PASSWORD.encode() not in echo


async def test_revoke_sessions_and_deactivate_stop_issued_tokens(tmp_path: Path) -> None:
    create(tmp_path)
    app = FastAPI()
    include_user_router(app, settings=settings(tmp_path))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):

        async def login() -> dict[str, str]:
            response = await client.post(
                "/auth/jwt/login", data={"username": ADMIN, "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        headers = await login()
        assert (await client.get("/users/me", headers=headers)).status_code == 200
        ok(run(tmp_path, "revoke-sessions", ADMIN))
        assert (await client.get("/users/me", headers=headers)).status_code == 401

        headers = await login()
        ok(run(tmp_path, "deactivate", ADMIN))
        assert (await client.get("/users/me", headers=headers)).status_code == 401
        refused = await client.post(
            "/auth/jwt/login", data={"username": ADMIN, "password": PASSWORD}
        )
        assert refused.status_code == 400
    assert users(tmp_path)[0]["is_active"] is False


async def test_reset_mfa_removes_an_enrolled_second_factor(tmp_path: Path) -> None:
    import pyotp

    create(tmp_path)
    mfa = {"USERKIT_MFA_ENABLED": "true"}
    app = FastAPI()
    include_user_router(app, settings=settings(tmp_path).model_copy(update={"mfa_enabled": True}))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        form = {"username": ADMIN, "password": PASSWORD}
        login = await client.post("/auth/jwt/login", data=form)
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        secret = (await client.post("/auth/mfa/totp", headers=headers)).json()["secret"]
        code = pyotp.TOTP(secret).now()
        confirmed = await client.post(
            "/auth/mfa/totp/confirm", headers=headers, json={"code": code}
        )
        assert confirmed.status_code == 200, confirmed.text
        assert (await client.post("/auth/jwt/login", data=form)).status_code == 403
        fails(run(tmp_path, "reset-mfa", ADMIN), 1, "second factors are off")
        done = ok(run(tmp_path, "reset-mfa", ADMIN, env=mfa))
        assert done.stdout.strip() == (
            f"removed the second factors of {ADMIN}; it logs in with its password alone"
        )
        assert (await client.post("/auth/jwt/login", data=form)).status_code == 200
        fails(run(tmp_path, "reset-mfa", ADMIN, env=mfa), 1, "has no second factor")


@pytest.mark.parametrize("name", ["set-password", "deactivate", "revoke-sessions"])
def test_unknown_user_exits_1(tmp_path: Path, name: str) -> None:
    create(tmp_path)
    extra = ["--password-stdin"] if name == "set-password" else []
    stdin = NEW_PASSWORD + "\n" if extra else None
    result = run(tmp_path, name, "nobody@example.com", *extra, stdin=stdin)
    fails(result, 1, "no user with e-mail nobody@example.com")
    fails(run(tmp_path, name, "nobody", *extra, stdin=stdin), 2, "not a valid e-mail address")


async def test_list_users_table_json_and_paging(tmp_path: Path) -> None:
    ids = {email: create(tmp_path, email) for email in ["c@example.com", "a@example.com"]}
    ok(run(tmp_path, "deactivate", "c@example.com"))
    hashes = [await hashed_password(tmp_path, email) for email in ids]

    table = ok(run(tmp_path, "list-users")).stdout
    lines = table.splitlines()
    assert lines[0].split() == ["id", "email", "active", "superuser", "verified"]
    assert lines[1].split() == [ids["a@example.com"], "a@example.com", "yes", "yes", "yes"]
    assert lines[2].split() == [ids["c@example.com"], "c@example.com", "no", "yes", "yes"]

    rows = users(tmp_path)
    assert [row["email"] for row in rows] == ["a@example.com", "c@example.com"]
    assert set(rows[0]) == {"id", "email", "is_active", "is_superuser", "is_verified"}
    assert [row["email"] for row in users(tmp_path, "--limit", "1", "--offset", "1")] == [
        "c@example.com"
    ]
    assert users(tmp_path, "--offset", "2") == []
    for output in [table, json.dumps(rows)]:
        assert "$2b$" not in output
        for hashed in hashes:
            assert hashed not in output


def test_commands_sign_nothing_so_need_no_key_and_warn_of_none(tmp_path: Path) -> None:
    no_key: dict[str, str | None] = {"USERKIT_SECRET_KEY": None}
    created = ok(
        run(
            tmp_path,
            "create-superuser",
            "--email",
            ADMIN,
            "--password-stdin",
            stdin=PASSWORD + "\n",
            env=no_key,
        )
    )
    listed = ok(run(tmp_path, "list-users", env=no_key))
    assert ADMIN in listed.stdout
    for result in (created, listed):
        assert "USERKIT_SECRET_KEY" not in result.stderr, result.stderr


# --------------------------------------------------------------------------- init-db


def test_init_db_creates_the_kit_tables(tmp_path: Path) -> None:
    env: dict[str, str | None] = {"USERKIT_CREATE_TABLES": "false"}
    fails(run(tmp_path, "list-users", env=env), 1, "no such table")
    result = ok(run(tmp_path, "init-db", env=env))
    assert "user, userkit_session, userkit_refresh_token" in result.stdout
    assert "development" in result.stderr
    ok(run(tmp_path, "init-db", env=env))  # again: nothing to do
    with sqlite3.connect(tmp_path / "cli.db") as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"user", "userkit_session", "userkit_refresh_token"} <= names
    assert ok(run(tmp_path, "list-users", "--json", env=env)).stdout.strip() == "[]"


# --------------------------------------------------------------------------- --app


HOST_MODULE = """
from fastapi import FastAPI
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import IntegerIdUserMixin, MemorySessionStore, UserKitSettings
from fastapi_userkit import include_user_router


class Base(DeclarativeBase):
    pass


class Member(IntegerIdUserMixin, Base):
    __tablename__ = "member"
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)


app = FastAPI()
kit = include_user_router(
    app,
    settings=UserKitSettings(
        database_url="sqlite+aiosqlite:///./host.db",
        secret_key="{secret}",
        bcrypt_rounds=4,
        create_tables=False,
    ),
    user_model=Member,
    session_store=MemorySessionStore(),
)


def make_kit():
    return kit


def make_with(argument):
    return kit
"""


def test_app_option_uses_the_hosts_kit(tmp_path: Path) -> None:
    (tmp_path / "hostapp.py").write_text(textwrap.dedent(HOST_MODULE).replace("{secret}", SECRET))
    # Whatever USERKIT_* says, the host's kit (its settings, model and database) is used.
    env: dict[str, str | None] = {"USERKIT_SECRET_KEY": None, "USERKIT_DATABASE_URL": None}
    app = ["--app", "hostapp:kit"]
    result = ok(run(tmp_path, *app, "init-db", env=env))
    assert result.stdout.strip() == (  # sessions are not in SQL here
        "tables ready: member, userkit_role, userkit_role_scope, userkit_user_role"
    )
    user_id = ok(
        run(
            tmp_path,
            *app,
            "create-superuser",
            "--email",
            ADMIN,
            "--password-stdin",
            stdin=PASSWORD + "\n",
            env=env,
        )
    ).stdout.strip()
    assert user_id == "1"
    rows = users(tmp_path, "--app", "hostapp:make_kit", env=env)
    assert rows == [
        {"id": "1", "email": ADMIN, "is_active": True, "is_superuser": True, "is_verified": True}
    ]
    assert users(tmp_path, env={**env, "USERKIT_APP": "hostapp:kit"}) == rows
    ok(
        run(
            tmp_path,
            "set-password",
            ADMIN,
            "--app",
            "hostapp:kit",
            "--password-stdin",
            stdin=NEW_PASSWORD + "\n",
            env=env,
        )
    )
    ok(run(tmp_path, "deactivate", ADMIN, *app, env=env))
    assert users(tmp_path, *app, env=env)[0]["is_active"] is False
    assert not (tmp_path / "cli.db").exists()


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("hostapp", "module:attribute"),
        ("missing_module:kit", "cannot import 'missing_module'"),
        ("hostapp:nothing", "no attribute 'nothing'"),
        ("hostapp:app", "is a FastAPI app"),
        ("hostapp:make_with", "needs arguments"),
        ("hostapp:__name__", "is a str, not a UserKit"),
    ],
)
def test_app_option_errors_exit_2(tmp_path: Path, reference: str, message: str) -> None:
    (tmp_path / "hostapp.py").write_text(textwrap.dedent(HOST_MODULE).replace("{secret}", SECRET))
    fails(run(tmp_path, "--app", reference, "list-users"), 2, message)


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        "list-users",
        env={"USERKIT_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
    )
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "error:" in result.stderr
    assert "Traceback" not in result.stderr


def test_roles_from_the_command_line(tmp_path: Path) -> None:
    create(tmp_path)
    assert ok(run(tmp_path, "create-role", "editor", "a:read", "a:write")).stdout == (
        "role editor grants: a:read a:write\n"
    )
    ok(run(tmp_path, "create-role", "editor", "a:read", "--description", "Reads"))
    assert ok(run(tmp_path, "grant-role", ADMIN, "editor")).stdout == f"{ADMIN} holds editor\n"
    again = ok(run(tmp_path, "grant-role", ADMIN, "editor")).stdout
    assert again == f"{ADMIN} holds editor already\n"
    listed = json.loads(ok(run(tmp_path, "list-roles", "--user", ADMIN, "--json")).stdout)
    assert listed == [{"name": "editor", "scopes": ["a:read"], "description": "Reads"}]
    revoked = ok(run(tmp_path, "revoke-role", ADMIN, "editor")).stdout
    assert revoked == f"{ADMIN} no longer holds editor\n"
    assert json.loads(ok(run(tmp_path, "list-roles", "--user", ADMIN, "--json")).stdout) == []
    fails(run(tmp_path, "grant-role", ADMIN, "nope"), 1, "no role named nope")
    fails(run(tmp_path, "grant-role", "nobody@example.com", "editor"), 1, "no user with e-mail")
    fails(run(tmp_path, "create-role", "bad name"), 2, "invalid role name")
    fails(run(tmp_path, "create-role", "ok", "has space"), 2, "invalid scope")
    ok(run(tmp_path, "delete-role", "editor"))
    fails(run(tmp_path, "delete-role", "editor"), 1, "no role named editor")
    assert json.loads(ok(run(tmp_path, "list-roles", "--json")).stdout) == []
