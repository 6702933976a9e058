from typing import Annotated

from fastapi import Depends, FastAPI
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit import IntegerIdUserMixin, include_user_router


class Base(DeclarativeBase):
    pass


class Account(IntegerIdUserMixin, Base):
    display_name: Mapped[str | None] = mapped_column(String(100), default=None)


app = FastAPI()
kit = include_user_router(app, user_model=Account)

CurrentAccount = Annotated[Account, Depends(kit.current_user())]


@app.get("/me/name")
async def my_name(account: CurrentAccount) -> str | None:
    return account.display_name
