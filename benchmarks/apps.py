"""The apps `harness.py` starts under uvicorn, one process each (`--factory`).

- `bare_app`: FastAPI alone, `GET /bare` and `GET /ping`.
- `kit_app`: fastapi-userkit, configured from the `USERKIT_*` environment only.
- `kit_scoped_app`: the same, plus `GET /signed-in` (`kit.current_user()`: what a
  check of scopes carried in the token would cost, the user being read for every
  request anyway) and `GET /scoped` (`kit.current_user(scopes=["bench:read"])`:
  the check of the live grants), both answering the same small JSON.
- `fastapi_users_app`: fastapi-users 15, set up the way its documentation's full
  SQLAlchemy example does (async SQLAlchemy user database, JWT strategy with a
  bearer transport, its default password helper, the auth, register, reset, verify
  and users routers); the database URL and secret come from `BENCH_FU_*`.

Every app also answers `GET /ping` with a small JSON: the probe polled while
logins flood the app, and the readiness check of the harness.
"""

import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import AuthenticationBackend, BearerTransport, JWTStrategy
from fastapi_users_db_sqlalchemy import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from fastapi_userkit import UserKitSettings, include_user_router


def add_ping(app: FastAPI) -> None:
    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}


def bare_app() -> FastAPI:
    """The floor: one JSON endpoint, no authentication, no database."""
    app = FastAPI()

    @app.get("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    add_ping(app)
    return app


def kit_app() -> FastAPI:
    """fastapi-userkit mounted with settings read from `USERKIT_*`."""
    app = FastAPI()
    include_user_router(app, settings=UserKitSettings())
    add_ping(app)
    return app


def kit_scoped_app() -> FastAPI:
    """fastapi-userkit with an unscoped and a scoped route answering alike."""
    app = FastAPI()
    kit = include_user_router(app, settings=UserKitSettings())
    signed_in = kit.current_user()
    scoped = kit.current_user(scopes=["bench:read"])

    @app.get("/signed-in")
    async def signed_in_route(user: Annotated[Any, Depends(signed_in)]) -> dict[str, bool]:
        return {"ok": user is not None}

    @app.get("/scoped")
    async def scoped_route(user: Annotated[Any, Depends(scoped)]) -> dict[str, bool]:
        return {"ok": user is not None}

    add_ping(app)
    return app


# --------------------------------------------------------------- fastapi-users


class FUBase(DeclarativeBase):
    pass


class FUUser(SQLAlchemyBaseUserTableUUID, FUBase):
    pass


class FUUserRead(schemas.BaseUser[uuid.UUID]):
    pass


class FUUserCreate(schemas.BaseUserCreate):
    pass


class FUUserUpdate(schemas.BaseUserUpdate):
    pass


def fastapi_users_app() -> FastAPI:
    """fastapi-users with SQLAlchemy and JWT bearer tokens, as its docs set it up."""
    database_url = os.environ["BENCH_FU_DATABASE_URL"]
    secret = os.environ["BENCH_FU_SECRET"]
    engine = create_async_engine(database_url)
    session_maker = async_sessionmaker(engine, expire_on_commit=False)

    async def get_async_session() -> AsyncGenerator[AsyncSession, None]:
        async with session_maker() as session:
            yield session

    async def get_user_db(
        session: Annotated[AsyncSession, Depends(get_async_session)],
    ) -> AsyncGenerator[SQLAlchemyUserDatabase[FUUser, uuid.UUID], None]:
        yield SQLAlchemyUserDatabase(session, FUUser)

    class UserManager(UUIDIDMixin, BaseUserManager[FUUser, uuid.UUID]):
        reset_password_token_secret = secret
        verification_token_secret = secret

    async def get_user_manager(
        user_db: Annotated[SQLAlchemyUserDatabase[FUUser, uuid.UUID], Depends(get_user_db)],
    ) -> AsyncGenerator[UserManager, None]:
        yield UserManager(user_db)

    def get_jwt_strategy() -> JWTStrategy[FUUser, uuid.UUID]:
        return JWTStrategy(secret=secret, lifetime_seconds=3600)

    auth_backend = AuthenticationBackend(
        name="jwt",
        transport=BearerTransport(tokenUrl="auth/jwt/login"),
        get_strategy=get_jwt_strategy,
    )
    users = FastAPIUsers[FUUser, uuid.UUID](get_user_manager, [auth_backend])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(FUBase.metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.include_router(users.get_auth_router(auth_backend), prefix="/auth/jwt", tags=["auth"])
    app.include_router(
        users.get_register_router(FUUserRead, FUUserCreate), prefix="/auth", tags=["auth"]
    )
    app.include_router(users.get_reset_password_router(), prefix="/auth", tags=["auth"])
    app.include_router(users.get_verify_router(FUUserRead), prefix="/auth", tags=["auth"])
    # The users router serves GET /users/me with current_user(active=True).
    app.include_router(users.get_users_router(FUUserRead, FUUserUpdate), prefix="/users")
    add_ping(app)
    return app
