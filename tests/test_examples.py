import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from examples.demo.main import create_app

from fastapi_userkit import UserKitSettings
from tests.conftest import PASSWORD, SECRET

# Independent of the database under test: runs in the SQLite pass only.
pytestmark = pytest.mark.single_pass

ROOT = Path(__file__).resolve().parent.parent


async def test_demo_app_in_process(tmp_path: Path) -> None:
    settings = UserKitSettings(
        secret_key=SECRET, bcrypt_rounds=4, database_url=f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    )
    app = create_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        assert (await client.get("/public")).json() == {"user": None}
        await client.post("/auth/register", json={"email": "d@example.com", "password": PASSWORD})
        token = (
            await client.post(
                "/auth/jwt/login", data={"username": "d@example.com", "password": PASSWORD}
            )
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/hello", headers=headers)).json() == {
            "message": "hello d@example.com"
        }
        assert (await client.get("/public", headers=headers)).json() == {"user": "d@example.com"}
        assert (await client.get("/hello")).status_code == 401
        docs = await client.get("/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_app_on_uvicorn_like_a_new_user(tmp_path: Path) -> None:
    """Start the demo the way `make demo` does (no secret set) and use it over HTTP."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERKIT_")}
    env["USERKIT_BCRYPT_ROUNDS"] = "4"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and app
        [
            sys.executable,
            "-m",
            "uvicorn",
            "main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--app-dir",
            str(ROOT / "examples" / "demo"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=5) as client:
            while True:
                try:
                    client.get("/openapi.json")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "demo app did not start"
                    assert process.poll() is None, "demo app exited"
                    time.sleep(0.1)
            r = client.post("/auth/register", json={"email": "u@example.com", "password": PASSWORD})
            assert r.status_code == 201, r.text
            # what Swagger UI's Authorize button sends
            r = client.post(
                "/auth/jwt/login",
                data={
                    "grant_type": "password",
                    "username": "u@example.com",
                    "password": PASSWORD,
                    "scope": "",
                },
            )
            assert r.status_code == 200, r.text
            token = r.json()["access_token"]
            me = client.get("/users/me", headers={"Authorization": f"Bearer {token}"})
            assert me.json()["email"] == "u@example.com"
            # malformed bodies never reach the server's log with the password in them
            for body in (
                b'{"current_password": "SECRET-typed-pw-77", "new_password": NaN}',
                b'[{"current_password": "SECRET-typed-pw-77"}, Infinity]',
            ):
                r = client.post(
                    "/users/me/password",
                    content=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                assert r.status_code == 422, r.text
                assert "SECRET-typed-pw-77" not in r.text
            flows = client.get("/openapi.json").json()["components"]["securitySchemes"]
            token_url = flows["OAuth2PasswordBearer"]["flows"]["password"]["tokenUrl"]
            assert (
                client.post(
                    f"/{token_url}", data={"username": "u@example.com", "password": PASSWORD}
                ).status_code
                == 200
            )
        assert (tmp_path / "demo.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output = process.communicate(timeout=15)[0].decode()
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0].decode()
    assert "USERKIT_SECRET_KEY is not set" in output
    assert "Traceback" not in output
    assert "SECRET-typed-pw-77" not in output


def test_typed_host_passes_mypy_strict() -> None:
    """`include_user_router` is generic in the user model: the example host's
    `assert_type` calls hold under `mypy --strict`."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "examples/typed_host/main.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_typed_host_serves_its_own_model(tmp_path: Path) -> None:
    from examples.typed_host.main import create_app as create_typed_app

    settings = UserKitSettings(
        secret_key=SECRET, bcrypt_rounds=4, database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db"
    )
    app, kit = create_typed_app(settings)
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://t"
        ) as client,
    ):
        await kit.users.create(email="t@example.com", password=PASSWORD)
        tokens = await kit.users.open_session((await kit.users.get_by_email("t@example.com")).id)
        headers = {"Authorization": f"Bearer {tokens.access_token}"}
        assert (await client.get("/me/name", headers=headers)).json() == {"display_name": None}
        assert (await client.post("/me/name?name=x", headers=headers)).json() == {
            "email": "t@example.com"
        }
