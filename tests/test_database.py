from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI, HTTPException
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import ConfigurationError, UserMixin
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase
from tests.conftest import PASSWORD, Host


class Base(DeclarativeBase):
    pass


class Account(UserMixin, Base):
    pass


class Note(Base):
    __tablename__ = "note"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(100))


async def _roundtrip(h: Host) -> None:
    assert (await h.register()).status_code == 201
    headers = {"Authorization": f"Bearer {await h.login()}"}
    me = await h.client.get("/users/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[Any]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


class TestProviders:
    async def test_url(self, make_host, database_url: str) -> None:  # type: ignore[no-untyped-def]
        h: Host = await make_host(database=database_url)
        await _roundtrip(h)

    async def test_engine_is_not_disposed_by_the_kit(self, make_host, engine) -> None:  # type: ignore[no-untyped-def]
        h: Host = await make_host(database=engine)
        await _roundtrip(h)
        await h.kit.shutdown()
        async with engine.connect() as conn:  # still usable: the host owns it
            count = await conn.scalar(select(func.count()).select_from(h.kit.user_model))
        assert count == 1

    async def test_sessionmaker(self, make_host, engine) -> None:  # type: ignore[no-untyped-def]
        maker = async_sessionmaker(engine, expire_on_commit=True)  # the kit copes with either
        h: Host = await make_host(database=maker)
        await _roundtrip(h)
        user = await h.kit.users.create(email="bob@example.com", password=PASSWORD)
        assert user.email == "bob@example.com"  # attributes usable after the commit

    async def test_only_the_kit_tables_are_created(self, make_host, engine) -> None:  # type: ignore[no-untyped-def]
        h: Host = await make_host(database=engine, user_model=Account)
        await _roundtrip(h)
        async with engine.connect() as conn:
            names = await conn.run_sync(
                lambda c: __import__("sqlalchemy").inspect(c).get_table_names()
            )
        assert sorted(names) == [
            "user",
            "userkit_refresh_token",
            "userkit_role",
            "userkit_role_scope",
            "userkit_session",
            "userkit_user_role",
        ]

    async def test_create_tables_false(self, make_host, make_settings, engine) -> None:  # type: ignore[no-untyped-def]
        h: Host = await make_host(database=engine, settings=make_settings(create_tables=False))
        async with engine.connect() as conn:
            names = await conn.run_sync(
                lambda c: __import__("sqlalchemy").inspect(c).get_table_names()
            )
        assert names == []
        assert h.kit.database.dialect_name == engine.dialect.name


class TestHostSessionDependency:
    @pytest.fixture
    async def setup(self, make_host, engine) -> Any:  # type: ignore[no-untyped-def]
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.run_sync(SessionBase.metadata.create_all)
            await conn.run_sync(RoleBase.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        commits: list[bool] = []

        async def get_db() -> AsyncIterator[AsyncSession]:
            async with maker() as session:
                async with session.begin():
                    yield session
                commits.append(True)

        app = FastAPI()
        h: Host = await make_host(app, database=get_db, user_model=Account)
        kit = h.kit

        @app.post("/signup-with-note")
        async def signup_with_note(
            session: Annotated[AsyncSession, Depends(get_db)], fail: bool = False
        ) -> dict[str, str]:
            user = await kit.users.create(
                email="noted@example.com", password=PASSWORD, db_session=session
            )
            session.add(Note(text=f"welcome {user.email}"))
            if fail:
                raise HTTPException(status_code=409, detail="host said no")
            return {"id": str(user.id)}

        @app.get("/same-session")
        async def same_session(
            session: Annotated[AsyncSession, Depends(get_db)],
            user: kit.CurrentUser,  # type: ignore[name-defined]
        ) -> bool:
            return user in session

        return h, maker, commits

    async def test_routes_work_and_host_commits(self, setup: Any) -> None:
        h, _, commits = setup
        await _roundtrip(h)
        assert commits  # the host's dependency committed, not the kit

    async def test_kit_writes_join_the_host_transaction(self, setup: Any) -> None:
        h, maker, _ = setup
        failed = await h.client.post("/signup-with-note", params={"fail": True})
        assert failed.status_code == 409
        async with maker() as session:
            assert await session.scalar(select(func.count()).select_from(Note)) == 0
            assert await session.scalar(select(func.count()).select_from(Account)) == 0
        ok = await h.client.post("/signup-with-note")
        assert ok.status_code == 200
        async with maker() as session:
            assert await session.scalar(select(func.count()).select_from(Note)) == 1
            assert await session.scalar(select(func.count()).select_from(Account)) == 1

    async def test_current_user_shares_the_host_session(self, setup: Any) -> None:
        h, _, _ = setup
        headers = await h.headers()
        assert (await h.client.get("/same-session", headers=headers)).json() is True

    async def test_kit_never_commits_behind_the_host(self, make_host, engine) -> None:  # type: ignore[no-untyped-def]
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            await conn.run_sync(SessionBase.metadata.create_all)
            await conn.run_sync(RoleBase.metadata.create_all)
        maker = async_sessionmaker(engine, expire_on_commit=False)

        async def get_db_without_commit() -> AsyncIterator[AsyncSession]:
            async with maker() as session:
                yield session  # closed without commit: everything rolls back

        h: Host = await make_host(database=get_db_without_commit, user_model=Account)
        assert (await h.register()).status_code == 201
        async with maker() as session:
            assert await session.scalar(select(func.count()).select_from(Account)) == 0

    async def test_users_service_needs_a_session(self, setup: Any) -> None:
        h, maker, _ = setup
        with pytest.raises(ConfigurationError, match="db_session="):
            await h.kit.users.create(email="x@example.com", password=PASSWORD)
        async with maker() as session, session.begin():
            user = await h.kit.users.create(
                email="x@example.com", password=PASSWORD, db_session=session
            )
        async with maker() as session:
            assert (await h.kit.users.get(user.id, db_session=session)).email == "x@example.com"
