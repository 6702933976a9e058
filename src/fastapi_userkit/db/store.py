"""`SQLAlchemyUserStore`: the default `UserStore`, on an `AsyncSession`."""

from collections.abc import Collection
from typing import Any, Generic

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from fastapi_userkit._email import canonical_email, email_skeleton
from fastapi_userkit.db.models import EMAIL_MAX_LENGTH
from fastapi_userkit.exceptions import UserAlreadyExistsError
from fastapi_userkit.protocols import UserPage, UserStore, UserT

__all__ = [
    "SQLAlchemyUserStore",
]


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

    async def get_look_alike(self, email: str) -> UserT | None:  # noqa: D102
        if "\x00" in email or len(email) > EMAIL_MAX_LENGTH:
            return None
        model: Any = self.user_model
        result = await self.session.execute(
            select(model)
            .where(
                model.email_skeleton == email_skeleton(email),
                model.email_key != canonical_email(email),
            )
            .limit(1)
        )
        found: UserT | None = result.scalar_one_or_none()
        return found

    async def create(self, values: dict[str, Any]) -> UserT:  # noqa: D102
        factory: Any = self.user_model
        user: UserT = factory(**self._with_keys(values))
        self.session.add(user)
        await self._flush()
        return user

    async def update(self, user: UserT, values: dict[str, Any]) -> UserT:  # noqa: D102
        for name, value in self._with_keys(values).items():
            setattr(user, name, value)
            # Written even when equal to the loaded value: another transaction may
            # have changed the row since (e.g. `is_verified` beside a new address).
            flag_modified(user, name)
        await self._flush()
        return user

    async def update_if(  # noqa: D102
        self, user: UserT, expected: dict[str, Any], values: dict[str, Any]
    ) -> bool:
        model: Any = self.user_model
        changes = self._with_keys(values)
        conditions = [getattr(model, name) == value for name, value in expected.items()]
        try:
            result = await self.session.execute(
                update(model)
                .where(model.id == user.id, *conditions)
                .values(**changes)
                .execution_options(synchronize_session=False)
            )
        except IntegrityError as exc:
            _raise_if_taken(exc)
            raise
        if getattr(result, "rowcount", 0) != 1:
            return False
        for name, value in changes.items():
            set_committed_value(user, name, value)
        return True

    async def bump_token_version(self, user: UserT) -> None:  # noqa: D102
        model: Any = self.user_model
        await self.session.execute(
            update(model)
            .where(model.id == user.id)
            .values(token_version=model.token_version + 1)
            .execution_options(synchronize_session=False)
        )
        set_committed_value(user, "token_version", user.token_version + 1)

    @staticmethod
    def _with_keys(values: dict[str, Any]) -> dict[str, Any]:
        if "email" not in values:
            return values
        email = values["email"]
        return {
            **values,
            "email_key": canonical_email(email),
            "email_skeleton": email_skeleton(email),
        }

    async def lock_superusers(self) -> list[Any]:  # noqa: D102
        model: Any = self.user_model
        result = await self.session.execute(
            select(model.id)
            .where(model.is_superuser.is_(True), model.is_active.is_(True))
            .order_by(model.id)  # one locking order for every caller: no deadlock
            .with_for_update()
        )
        return list(result.scalars())

    async def list(  # noqa: D102
        self,
        *,
        offset: int,
        limit: int,
        search: str | None,
        ids: Collection[Any] | None = None,
    ) -> UserPage[UserT]:
        model: Any = self.user_model
        where = []
        if ids is not None:
            where.append(model.id.in_(list(ids)))
        if search:
            pattern = canonical_email(search.replace("\x00", ""))
            escaped = pattern.replace("!", "!!").replace("%", "!%").replace("_", "!_")
            where.append(model.email_key.like(f"%{escaped}%", escape="!"))
        total = await self.session.scalar(select(func.count()).select_from(model).where(*where))
        rows = await self.session.scalars(
            select(model)
            .where(*where)
            .order_by(model.email_key, model.id)
            .offset(offset)
            .limit(limit)
        )
        return UserPage(items=list(rows), total=int(total or 0))

    async def delete(self, user: UserT) -> None:  # noqa: D102
        await self.session.delete(user)
        await self.session.flush()

    async def _flush(self) -> None:
        try:
            await self.session.flush()
        except IntegrityError as exc:
            _raise_if_taken(exc)
            raise


def _raise_if_taken(exc: IntegrityError) -> None:
    # A concurrent insert of the same address lands here. Every driver names the
    # violated e-mail constraint or column in its message.
    if "email" in str(exc.orig).lower():
        raise UserAlreadyExistsError() from exc
