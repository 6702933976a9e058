"""A host whose types mypy checks: `include_user_router` is generic in the user
model, so `kit.users` returns the host's own class and the current-user
dependency is typed with it. `tests/test_examples.py` runs `mypy --strict` here.
"""

from typing import Annotated, assert_type

from fastapi import Depends, FastAPI
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import UserKit, UserKitSettings, UserMixin, UserPage, include_user_router
from fastapi_userkit.db.default import User


class Base(DeclarativeBase):
    pass


class Account(UserMixin, Base):
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)


def create_app(settings: UserKitSettings | None = None) -> tuple[FastAPI, UserKit[Account]]:
    app = FastAPI(title="Typed host")
    kit = include_user_router(app, settings=settings, user_model=Account)
    assert_type(kit, UserKit[Account])

    # The alias recipe: a type mypy understands, resolved by the kit at run time.
    CurrentAccount = Annotated[Account, Depends(kit.current_user())]  # noqa: N806 - a type

    @app.get("/me/name")
    async def my_name(account: CurrentAccount) -> dict[str, str | None]:
        return {"display_name": account.display_name}

    @app.post("/me/name")
    async def rename(account: CurrentAccount, name: str) -> dict[str, str | None]:
        found = await kit.users.get(account.id)
        assert_type(found, Account)
        return {"email": found.email}

    return app, kit


async def first_page(kit: UserKit[Account]) -> list[str]:
    page = await kit.users.list(limit=10)
    assert_type(page, UserPage[Account])
    return [account.email for account in page.items]


def default_model() -> None:
    kit = include_user_router(FastAPI())
    assert_type(kit, UserKit[User])
