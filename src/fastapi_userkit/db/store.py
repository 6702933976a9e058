"""`SQLAlchemyUserStore`: the default `UserStore`, on an `AsyncSession`."""

from typing import Any, Generic

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from fastapi_userkit._email import canonical_email
from fastapi_userkit.db.models import EMAIL_MAX_LENGTH
from fastapi_userkit.exceptions import UserAlreadyExistsError
from fastapi_userkit.protocols import UserStore, UserT


class SQLAlchemyUserStore(UserStore[UserT], Generic[UserT]):
    """Users in a SQLAlchemy table; flushes, never commits.

    Args:
        session: The session of the current unit of work.
        user_model: The mapped user class.
    """

    def __init__(self, session: AsyncSession, user_model: type[UserT]) -> None:
        self.session = session
        self.user_model = user_model

    async def get(self, user_id: Any) -> UserT | None:  # noqa: D102 - see UserStore
        return await self.session.get(self.user_model, user_id)

    async def get_by_email(self, email: str) -> UserT | None:  # noqa: D102
        if "\x00" in email or len(email) > EMAIL_MAX_LENGTH:
            return None  # cannot be stored, so cannot match; some databases reject NUL
        key = canonical_email(email)
        column: Any = self.user_model.email_key
        result = await self.session.execute(select(self.user_model).where(column == key))
        return result.scalar_one_or_none()

    async def create(self, values: dict[str, Any]) -> UserT:  # noqa: D102
        factory: Any = self.user_model
        user: UserT = factory(**values, email_key=canonical_email(values["email"]))
        self.session.add(user)
        await self._flush()
        return user

    async def update(self, user: UserT, values: dict[str, Any]) -> UserT:  # noqa: D102
        for name, value in values.items():
            setattr(user, name, value)
        if "email" in values:
            user.email_key = canonical_email(values["email"])
        await self._flush()
        return user

    async def replace_password_hash(  # noqa: D102
        self, user: UserT, expected: str, new: str
    ) -> bool:
        model: Any = self.user_model
        result = await self.session.execute(
            update(model)
            .where(model.id == user.id, model.hashed_password == expected)
            .values(hashed_password=new)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        set_committed_value(user, "hashed_password", new)
        return True

    async def delete(self, user: UserT) -> None:  # noqa: D102
        await self.session.delete(user)
        await self.session.flush()

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            # A concurrent insert of the same address lands here. Every driver
            # names the violated e-mail constraint or column in its message.
            if "email" in str(exc.orig).lower():
                raise UserAlreadyExistsError() from exc
            raise
