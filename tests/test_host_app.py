from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.middleware.base import BaseHTTPMiddleware

from tests.conftest import Host


class TeapotError(Exception):
    pass


async def test_host_lifespan_routes_handlers_and_middleware_survive(make_host: Any) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        events.append("host-start")
        yield {"greeting": "hi"}
        events.append("host-stop")

    app = FastAPI(lifespan=lifespan)

    @app.get("/own")
    async def own(request: Request) -> dict[str, Any]:
        return {"state": request.state.greeting}

    @app.get("/teapot")
    async def teapot() -> None:
        raise TeapotError()

    @app.exception_handler(TeapotError)
    async def handle(request: Request, exc: TeapotError) -> JSONResponse:
        return JSONResponse({"detail": "teapot"}, status_code=418)

    async def tag(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers["X-Host"] = "yes"
        return response

    app.add_middleware(BaseHTTPMiddleware, dispatch=tag)

    h: Host = await make_host(app)
    assert events == ["host-start"]
    assert (await h.client.get("/own")).json() == {"state": "hi"}
    teapot_response = await h.client.get("/teapot")
    assert teapot_response.status_code == 418
    registered = await h.register()
    assert registered.status_code == 201
    assert registered.headers["x-host"] == "yes"
    # the host's own lifespan state is visible to the kit's routes' app too
    assert (await h.client.get("/users/me")).status_code == 401


async def test_kit_startup_runs_before_host_lifespan(make_host: Any) -> None:
    holder: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # a host may create its first admin while starting up
        user = await holder["kit"].users.create(
            email="admin@example.com", password="boss passphrase 1", is_superuser=True
        )
        holder["admin"] = user.id
        yield

    app = FastAPI(lifespan=lifespan)
    from fastapi_userkit import include_user_router

    original = include_user_router

    def capture(app: FastAPI, **kwargs: Any) -> Any:
        holder["kit"] = original(app, **kwargs)
        return holder["kit"]

    import tests.conftest as conftest

    conftest.include_user_router = capture  # type: ignore[attr-defined]
    try:
        h: Host = await make_host(app)
    finally:
        conftest.include_user_router = original  # type: ignore[attr-defined]
    assert await h.login("admin@example.com", "boss passphrase 1")


async def test_prefix(make_host: Any) -> None:
    h: Host = await make_host(prefix="/api/v1")
    response = await h.client.post(
        "/api/v1/auth/register", json={"email": "p@example.com", "password": "long enough"}
    )
    assert response.status_code == 201
    login = await h.client.post(
        "/api/v1/auth/jwt/login", data={"username": "p@example.com", "password": "long enough"}
    )
    token = login.json()["access_token"]
    me = await h.client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    schema = (await h.client.get("/openapi.json")).json()
    flows = schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "api/v1/auth/jwt/login"


async def test_two_kits_do_not_share_state(
    make_host: Any, make_settings: Any, tmp_path: Any
) -> None:
    a: Host = await make_host()
    b: Host = await make_host(
        settings=make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/other.db")
    )
    assert (await a.register()).status_code == 201
    assert (await b.register()).status_code == 201  # separate databases, separate users
    assert a.kit._parts.password_hash is not b.kit._parts.password_hash


async def test_route_names_for_url_for(host: Host) -> None:
    paths = {
        name: host.app.url_path_for(name)
        for name in (
            "register:register",
            "auth:jwt.login",
            "users:current_user",
            "users:patch_current_user",
        )
    }
    assert paths == {
        "register:register": "/auth/register",
        "auth:jwt.login": "/auth/jwt/login",
        "users:current_user": "/users/me",
        "users:patch_current_user": "/users/me",
    }
