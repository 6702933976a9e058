"""The documentation's shell commands, run for real: the tutorial's curl session against
its app under uvicorn, the `userkit` transcripts of the command-line guide, the `export`
blocks of every page, the key generation and rotation steps, and the commands that run
the files of docs_src/ (a script, a test suite, an app under uvicorn).

Commands that need the network, root or a deployment (pip install, a container's
entrypoint, a CI job, `make test`, `make bench`) are not run here.
"""

import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from fastapi_userkit import UserKitSettings, include_user_router
from tests._docs import (
    DOCS,
    DOCS_SRC,
    ROOT,
    Block,
    Server,
    bash,
    block,
    block_exactly,
    blocks,
    exported,
    free_port,
    pages,
    serve,
    shell_env,
)
from tests._terminal import converse
from tests.conftest import PASSWORD, POSTGRES_URL, own_database

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

TUTORIAL = DOCS / "tutorial" / "first-app.md"
CLI = DOCS / "how-to" / "cli.md"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def on_port(command: str, port: int) -> str:
    """*command* aimed at the test's server instead of the page's 127.0.0.1:8000."""
    return command.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")


# --- Your first app ---------------------------------------------------------------------------


def test_tutorial_with_uvicorn_and_curl(tmp_path: Path) -> None:
    folder = tmp_path / "userkit-tutorial"
    folder.mkdir()
    shutil.copy(DOCS_SRC / "tutorial" / "first_app" / "main.py", folder / "main.py")
    env = shell_env()
    port = free_port()
    start = block_exactly(TUTORIAL, "bash", "uvicorn main:app\n")

    def step(*containing: str) -> str:
        return on_port(block(TUTORIAL, "bash", *containing).body, port)

    register = step("/auth/register")
    login_form = step('-d "username=bob@example.com"')
    login_json = step("TOKEN=$(curl", '"access_token"]')
    me = step("curl http://127.0.0.1:8000/users/me")
    login_both = step("LOGIN=$(curl")
    sessions = step("/auth/sessions")
    refresh = step("/auth/jwt/refresh")
    logout = step("/auth/jwt/logout ")
    # the reference's refresh_token grant, with the refresh token of this session
    grant = block(DOCS / "reference" / "http-api.md", "bash", "grant_type=refresh_token").body
    grant = re.sub(r"refresh_token=\S+", 'refresh_token="$REFRESH"', on_port(grant, port))
    session = [
        register,
        login_form,
        login_json,
        me,
        login_both,
        sessions,
        refresh,
        refresh,  # "Send the same command a second time"
        me,
        login_both,  # "Log in again with the three commands at the start of this step"
        logout,
        me,
        login_both,
        grant,
    ]
    marker = "\n@@@@\n"
    script = "".join(f"{command}\necho; echo '@@@@'\n" for command in session)

    with Server(start.body, folder, env, port) as server:
        assert (folder / "userkit.db").exists()  # "A file userkit.db appears in the folder"
        result = bash(script, folder, env)
    assert result.returncode == 0, result.stderr
    out = [part.strip() for part in result.stdout.split(marker.strip())][: len(session)]
    bob = json.loads(out[0])
    assert {k: v for k, v in bob.items() if k != "id"} == {
        "email": "bob@example.com",
        "is_active": True,
        "is_superuser": False,
        "is_verified": False,
    }
    tokens = json.loads(out[1])
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (tokens["token_type"], tokens["expires_in"]) == ("bearer", 900)
    assert out[2] == ""  # the token went into $TOKEN
    assert json.loads(out[3]) == bob
    listed = json.loads(out[5])
    assert [s["current"] for s in listed].count(True) == 1
    assert set(json.loads(out[6])) == set(tokens)  # a new pair
    assert json.loads(out[7]) == {"detail": "REFRESH_TOKEN_REUSED"}
    assert json.loads(out[8]) == {"detail": "Unauthorized"}  # the whole session ended
    assert out[10] == ""  # 204
    assert json.loads(out[11]) == {"detail": "Unauthorized"}
    assert set(json.loads(out[13])) == set(tokens)
    assert "USERKIT_SECRET_KEY is not set" in server.output
    assert "Traceback" not in server.output


def test_tutorial_with_a_secret_key(tmp_path: Path) -> None:
    shutil.copy(DOCS_SRC / "tutorial" / "first_app" / "main.py", tmp_path / "main.py")
    start = block(TUTORIAL, "bash", "export USERKIT_SECRET_KEY", "uvicorn main:app").body
    with (
        Server(start, tmp_path, shell_env(), free_port()) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        response = client.post(
            "/auth/register", json={"email": "bob@example.com", "password": PASSWORD}
        )
        assert response.status_code == 201
    assert "USERKIT_SECRET_KEY is not set" not in server.output
    assert "Traceback" not in server.output


# --- Use your own user model, and Manage users from code --------------------------------------


def test_own_user_model_with_uvicorn_and_curl(tmp_path: Path) -> None:
    page = DOCS / "how-to" / "own-user-model.md"
    shutil.copytree(DOCS_SRC / "how_to" / "own_user_model" / "myapp", tmp_path / "myapp")
    env = shell_env(USERKIT_BCRYPT_ROUNDS="4")
    port = free_port()
    start = block(page, "bash", "uvicorn myapp.main:app").body
    curl = on_port(block(page, "bash", "curl -X POST").body, port)
    expected = json.loads(block(page, "json", '"display_name": "Ada"').body)
    with Server(start, tmp_path, env, port):
        result = bash(curl, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected

    fresh = tmp_path / "fresh"
    shutil.copytree(tmp_path / "myapp", fresh / "myapp")
    result = bash(block(page, "bash", "python -m myapp.seed").body, fresh, env)
    assert (result.returncode, result.stdout) == (0, "created 1\n"), result.stderr


def test_users_service_script(tmp_path: Path) -> None:
    page = DOCS / "how-to" / "users-service.md"
    source = DOCS_SRC / "how_to" / "users_service"
    shutil.copytree(source / "myapp", tmp_path / "myapp")
    shutil.copy(source / "create_superuser.py", tmp_path)
    env = shell_env(USERKIT_BCRYPT_ROUNDS="4")
    result = bash(block(page, "bash", "python create_superuser.py").body, tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(rf"created {UUID.pattern}\n", result.stdout)
    listed = bash("userkit list-users --json", tmp_path, env)
    assert [(u["email"], u["is_superuser"]) for u in json.loads(listed.stdout)] == [
        ("admin@example.com", True)
    ]


# --- Test your app -------------------------------------------------------------------------------


def test_testing_guide_runs_with_pytest(tmp_path: Path) -> None:
    page = DOCS / "how-to" / "testing.md"
    source = DOCS_SRC / "how_to" / "testing"
    shutil.copytree(source / "myapp", tmp_path / "myapp")
    for name in ("conftest.py", "test_orders.py", "test_override.py"):
        shutil.copy(source / name, tmp_path)
    # what the page asks of the reader's pytest configuration
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\n")
    command = block_exactly(page, "bash", "pytest\n").body
    result = bash(command, tmp_path, shell_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


# --- every block of `export USERKIT_...` lines builds valid settings ----------------------------

#: Variables of the `userkit` command and of the example Alembic environment, not settings.
NOT_SETTINGS = {
    "USERKIT_APP",
    "USERKIT_SUPERUSER_EMAIL",
    "USERKIT_SUPERUSER_PASSWORD",
    "USERKIT_ALEMBIC_SCHEMA",
}


def _export_blocks() -> list[Block]:
    found = []
    for page in pages():
        for candidate in blocks(page, "bash"):
            lines = [
                line
                for line in candidate.body.splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
            if lines and all(line.startswith("export USERKIT_") for line in lines):
                found.append(candidate)
    return found


@pytest.mark.parametrize("exports", _export_blocks(), ids=str)
def test_export_blocks_are_valid_settings(
    exports: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = exported(exports.body, tmp_path, shell_env())
    assert variables, "the block sets nothing"
    fields = {f"USERKIT_{name.upper()}" for name in UserKitSettings.model_fields}
    unknown = set(variables) - fields - NOT_SETTINGS
    assert not unknown, f"not settings of the kit: {unknown}"
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    UserKitSettings()  # refuses a malformed value


# --- Rotate signing keys, and the secret key ---------------------------------------------------


def test_openssl_rand_gives_a_valid_secret_key(tmp_path: Path) -> None:
    commands = {
        b.body
        for page in pages()
        for b in blocks(page, "bash")
        if b.body.strip() == "openssl rand -hex 32"
    }
    assert commands, "no page shows the command any more"
    for command in commands:
        result = bash(command, tmp_path, shell_env())
        key = result.stdout.strip()
        assert re.fullmatch("[0-9a-f]{64}", key)
        assert UserKitSettings(secret_key=key).secret_key is not None


ROTATE = DOCS / "how-to" / "rotate-keys.md"


@pytest.mark.parametrize(
    ("algorithm", "command"),
    [
        ("EdDSA", "-algorithm ed25519"),
        ("ES256", "ec_paramgen_curve:P-256"),
        ("RS256", "rsa_keygen_bits:3072"),
    ],
)
async def test_generated_key_pairs_sign_and_publish(
    algorithm: str, command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = bash(block(ROTATE, "bash", command).body, tmp_path, shell_env())
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "signing.pub.pem").exists()
    configure = block(ROTATE, "bash", "USERKIT_JWT_PRIVATE_KEY_FILE=/run/secrets/signing.pem")
    configuration = _configuration(configure.body, tmp_path, {"/run/secrets/": f"{tmp_path}/"})
    assert configuration == {
        "USERKIT_JWT_ALGORITHM": "EdDSA",
        "USERKIT_JWT_PRIVATE_KEY_FILE": f"{tmp_path}/signing.pem",
    }
    configuration["USERKIT_JWT_ALGORITHM"] = algorithm  # the page's example names EdDSA
    for name, value in configuration.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("USERKIT_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/app.db")
    monkeypatch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
    app = FastAPI()
    include_user_router(app)
    async with serve(app) as client:
        (key,) = (await client.get("/auth/jwks.json")).json()["keys"]
    assert key["alg"] == algorithm


def _configuration(page_block: str, tmp_path: Path, placeholders: dict[str, str]) -> dict[str, str]:
    """The USERKIT_* variables a step of the rotation leaves set, in a shell that had
    every variable of the step before it."""
    for placeholder, value in placeholders.items():
        page_block = page_block.replace(placeholder, value)
    return exported(f"set -a\n{page_block}", tmp_path, shell_env())


class _Fleet:
    """Processes that share one database, each with its own key configuration."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch

    async def accepts(self, configuration: dict[str, str], token: str) -> bool:
        async with self._client(configuration) as client:
            response = await client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
        return response.status_code == 200

    async def token(self, configuration: dict[str, str]) -> str:
        async with self._client(configuration) as client:
            await client.post(
                "/auth/register", json={"email": "a@example.com", "password": PASSWORD}
            )
            response = await client.post(
                "/auth/jwt/login", data={"username": "a@example.com", "password": PASSWORD}
            )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def _client(self, configuration: dict[str, str]) -> Any:
        with self.monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("USERKIT_")]:
                patch.delenv(name)
            for name, value in configuration.items():
                patch.setenv(name, value)
            patch.setenv("USERKIT_DATABASE_URL", f"sqlite+aiosqlite:///{self.tmp_path}/app.db")
            patch.setenv("USERKIT_BCRYPT_ROUNDS", "4")
            app = FastAPI()
            include_user_router(app)
        return serve(app)


async def test_rotate_an_hmac_key_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = {"<old key>": secrets.token_hex(32), "<new key>": secrets.token_hex(32)}
    steps = [
        _configuration(block(ROTATE, "bash", *lines).body, tmp_path, keys)
        for lines in [
            ('USERKIT_SECRET_KEY="<old key>"', "'[\"<new key>\"]'"),
            ('USERKIT_SECRET_KEY="<new key>"', "'[\"<old key>\"]'"),
            ('USERKIT_SECRET_KEY="<new key>"', "unset USERKIT_PREVIOUS_SECRET_KEYS"),
        ]
    ]
    before = {"USERKIT_SECRET_KEY": keys["<old key>"]}
    fleet = _Fleet(tmp_path, monkeypatch)
    old_token = await fleet.token(before)
    # step 2: every process accepts the new key, and still signs with the old one
    assert await fleet.accepts(steps[0], old_token)
    # step 3: signs with the new key; a process still at step 2 accepts its tokens
    new_token = await fleet.token(steps[1])
    assert await fleet.accepts(steps[1], old_token)
    assert await fleet.accepts(steps[0], new_token)
    assert not await fleet.accepts(before, new_token)  # why step 2 exists
    # step 4: the old key is gone
    assert steps[2] == {"USERKIT_SECRET_KEY": keys["<new key>"]}
    assert await fleet.accepts(steps[2], new_token)
    assert not await fleet.accepts(steps[2], old_token)


async def test_rotate_a_private_key_step_by_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keygen = block(ROTATE, "bash", "-algorithm ed25519").body
    for name in ("old", "new"):
        script = keygen.replace("signing.", f"{name}.")
        assert bash(script, tmp_path, shell_env()).returncode == 0
    paths = {"/run/secrets/": f"{tmp_path}/"}
    steps = [
        _configuration(block(ROTATE, "bash", *lines).body, tmp_path, paths)
        for lines in [
            ("PRIVATE_KEY_FILE=/run/secrets/old.pem", "new.pub.pem"),
            ("PRIVATE_KEY_FILE=/run/secrets/new.pem", "old.pub.pem"),
            ("PRIVATE_KEY_FILE=/run/secrets/new.pem", "unset USERKIT_JWT_PUBLIC_KEY_FILES"),
        ]
    ]
    algorithm = {"USERKIT_JWT_ALGORITHM": "EdDSA"}
    before = {**algorithm, "USERKIT_JWT_PRIVATE_KEY_FILE": f"{tmp_path}/old.pem"}
    steps = [{**algorithm, **step} for step in steps]
    fleet = _Fleet(tmp_path, monkeypatch)
    old_token = await fleet.token(before)
    assert await fleet.accepts(steps[0], old_token)
    new_token = await fleet.token(steps[1])
    assert await fleet.accepts(steps[1], old_token)
    assert await fleet.accepts(steps[0], new_token)
    assert not await fleet.accepts(before, new_token)
    assert await fleet.accepts(steps[2], new_token)
    assert not await fleet.accepts(steps[2], old_token)


# --- Manage the schema with Alembic -------------------------------------------------------------


def test_alembic_init_creates_an_async_environment(tmp_path: Path) -> None:
    page = DOCS / "how-to" / "alembic.md"
    result = bash(block(page, "bash", "alembic init -t async").body, tmp_path, shell_env())
    assert result.returncode == 0, result.stderr
    assert "async_engine_from_config" in (tmp_path / "migrations" / "env.py").read_text()


async def test_alembic_steps_in_a_project_of_your_own(tmp_path: Path) -> None:
    """Steps 3 and 4 of the page, in a project whose environment is the example's: the
    first migration autogenerated against an empty database, its SQL read offline, then
    applied, and `alembic check` satisfied."""
    page = DOCS / "how-to" / "alembic.md"
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples" / "alembic", project)
    for revision in (project / "migrations" / "versions").glob("*.py"):
        revision.unlink()  # a project that has no migration yet
    generate = block(page, "bash", "alembic revision --autogenerate").body
    offline = block_exactly(page, "bash", "alembic upgrade head --sql\n").body
    apply = block_exactly(page, "bash", "alembic upgrade head\n").body
    async with own_database(POSTGRES_URL) as url:
        env = shell_env(USERKIT_DATABASE_URL=url)
        for command in (generate, offline, apply, "alembic check"):
            result = bash(command, project, env)
            assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
            if command == offline:
                assert 'CREATE TABLE "user"' in result.stdout
        (migration,) = (project / "migrations" / "versions").glob("*userkit_initial.py")
        text = migration.read_text()
        for index in ("ix_user_email_key", "ix_user_email_skeleton", "ix_userkit_session_user_id"):
            assert index in text
        assert bash("alembic downgrade base", project, env).returncode == 0


async def test_alembic_example_against_a_database_of_your_own(tmp_path: Path) -> None:
    page = DOCS / "how-to" / "alembic.md"
    commands = block(page, "bash", "examples/alembic/alembic.ini upgrade head").body
    page_url = "postgresql+asyncpg://app@127.0.0.1:5432/app"
    assert page_url in commands
    async with own_database(POSTGRES_URL) as url:
        result = bash(commands.replace(page_url, url), ROOT, shell_env())
        assert result.returncode == 0, result.stdout + result.stderr
        downgrade = bash(
            "alembic -c examples/alembic/alembic.ini downgrade base",
            ROOT,
            shell_env(USERKIT_DATABASE_URL=url),
        )
        assert downgrade.returncode == 0, downgrade.stderr
    assert "No new upgrade operations detected." in result.stdout + result.stderr


# --- Manage users from the command line: the transcripts ----------------------------------------

#: The passwords the reader types at the hidden prompts (the page does not show them), and
#: the variables its `--password-env` examples name.
TYPED_PASSWORD = "a long passphrase typed at the prompt"
PROMPTS = ("E-mail: ", "Password: ", "Password (again): ")


@pytest.fixture
def cli_session(tmp_path: Path) -> "CliSession":
    setup = block(CLI, "bash", "export USERKIT_DATABASE_URL=sqlite+aiosqlite:///./dev.db").body
    env = shell_env(
        NEW_PASSWORD="another new passphrase",
        ADMIN_PASSWORD="the passphrase of the ci pipeline",
    )
    return CliSession(tmp_path, env, setup)


class CliSession:
    """A terminal session: each command runs in bash, with the variables that the commands
    before it exported, in a folder that starts empty."""

    def __init__(self, tmp_path: Path, env: dict[str, str], setup: str) -> None:
        self.tmp_path = tmp_path
        self.base_env = env
        self.setup = setup

    def folder(self, name: str) -> Path:
        folder = self.tmp_path / name
        if not folder.exists():
            folder.mkdir()
            result = bash(f"set -a\n{self.setup}\nexport -p > .state", folder, self.base_env)
            assert result.returncode == 0, result.stderr
        return folder

    def run(self, folder: Path, command: str, answers: list[str]) -> tuple[str, str]:
        script = f". ./.state\nset -a\n{command}\nstatus=$?\nexport -p > .state\nexit $status\n"
        if not answers:
            result = subprocess.run(  # noqa: S603 - our own documentation's commands
                ["bash", "-c", script],  # noqa: S607
                cwd=folder,
                env=self.base_env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            return result.stdout, result.stderr
        return _in_terminal(script, folder, self.base_env, answers)


def _in_terminal(
    script: str, folder: Path, env: dict[str, str], answers: list[str]
) -> tuple[str, str]:
    """Run *script* with a pseudo-terminal as standard input, typing each answer once a
    prompt has appeared, on standard error or on the terminal."""
    pending = list(answers)
    prompts_seen = 0

    def reply(stderr: bytes, terminal: bytes) -> list[str]:
        nonlocal prompts_seen
        # getpass prompts on the terminal when it is bash's controlling one, else on stderr
        seen = stderr.decode(errors="replace") + terminal.decode(errors="replace")
        shown = sum(seen.count(prompt) for prompt in PROMPTS)
        typed = []
        while pending and shown > prompts_seen:
            typed.append(pending.pop(0))
            prompts_seen += 1
        return typed

    _, out, err, _ = converse(["bash", "-c", script], cwd=folder, env=env, timeout=120, reply=reply)
    assert not pending, f"prompts never shown: {err!r}"
    return out.decode(), err.decode()


def _transcript(body: str) -> list[tuple[str, list[str]]]:
    """The commands of a ```console block (after `$ `), each with the lines it printed."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before the first command: {line!r}"
            steps[-1][1].append(line)
    return steps


def _normalise(lines: list[str]) -> list[str]:
    return [UUID.sub("<uuid>", line).rstrip() for line in lines]


def _folder_of(heading: str) -> str:
    """The pages' examples ran in three folders: the main one, a project with its own
    `myapp` (`--app`), and a fresh one for the CI example."""
    if "--app" in heading:
        return "app"
    if "Automate it" in heading:
        return "ci"
    return "main"


def _console_blocks_with_headings() -> list[tuple[str, Block]]:
    text = CLI.read_text("utf-8")
    found = []
    for console in blocks(CLI, "console"):
        before = "\n".join(text.splitlines()[: console.line])
        headings = re.findall(r"^## (.+)$", before, flags=re.M)
        found.append((headings[-1] if headings else "", console))
    return found


def test_cli_transcripts(cli_session: CliSession) -> None:
    app_folder = cli_session.folder("app")
    shutil.copytree(DOCS_SRC / "how_to" / "cli" / "myapp", app_folder / "myapp")
    checked = 0
    differences = []
    for heading, console in _console_blocks_with_headings():
        folder = cli_session.folder(_folder_of(heading))
        for command, printed in _transcript(console.body):
            answers = []
            expected = []
            for line in printed:
                if line.startswith("E-mail: "):
                    answers.append(line.removeprefix("E-mail: "))
                elif line in ("Password:", "Password (again):"):
                    answers.append(TYPED_PASSWORD)
                elif line:
                    expected.append(line)
            stdout, stderr = cli_session.run(folder, command, answers)
            for prompt in PROMPTS:
                stderr = stderr.replace(prompt, "")
            actual = stdout.splitlines() + [line for line in stderr.splitlines() if line]
            if _normalise(actual) != _normalise(expected):
                differences.append((f"{console}: $ {command}", actual, expected))
            checked += 1
    assert differences == [], "\n".join(
        f"{w}\n  got:      {a}\n  expected: {e}" for w, a, e in differences
    )
    assert checked >= 25


def test_cli_dependency_kit_needs_its_own_function(cli_session: CliSession) -> None:
    """The error the page quotes, and its fix, with the page's own module."""
    folder = cli_session.folder("dependency")
    shutil.copytree(DOCS_SRC / "how_to" / "cli" / "myapp", folder / "myapp")
    quoted = block(CLI, "text", "takes its sessions from a request dependency").body.strip()
    add = "create-superuser --email admin@example.com --password-stdin"
    _, stderr = cli_session.run(
        folder, f"printf 'a long passphrase\\n' | userkit --app myapp.dependency:kit {add}", []
    )
    # (importing the module built its kit too, which warns about production first)
    assert stderr.strip().splitlines()[-1] == quoted
    stdout, stderr = cli_session.run(
        folder,
        f"printf 'a long passphrase\\n' | userkit --app myapp.dependency:userkit_cli {add}",
        [],
    )
    assert stdout == "1\n", stderr
    assert stderr.splitlines()[-1] == "userkit: created superuser admin@example.com"
    # the factory's kit, on the database of the environment
    factory = "userkit --app myapp.factory:userkit_cli"
    stdout, stderr = cli_session.run(
        folder, f"printf 'a long passphrase\\n' | {factory} {add.replace('admin@', 'ops@')}", []
    )
    assert stdout == "1\n", stderr
    stdout, stderr = cli_session.run(folder, f"{factory} list-users --json", [])
    assert [u["email"] for u in json.loads(stdout)] == ["ops@example.com"], stderr
