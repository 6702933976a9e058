"""The seams of fastapi-userkit: structural types a host may implement itself."""

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

__all__ = [
    "ModelT",
    "UserPage",
    "UserProtocol",
    "UserStore",
    "UserT",
]


class UserProtocol(Protocol):
    """What the kit needs from a user object (an ORM row in the default store)."""

    id: Any
    email: str
    email_key: str
    email_skeleton: str
    hashed_password: str
    is_active: bool
    is_superuser: bool
    is_verified: bool
    token_version: int


UserT = TypeVar("UserT", bound=UserProtocol)

ModelT = TypeVar("ModelT")
"""The host's user model in `UserKit[ModelT]` and `UserService[ModelT]`. Unbound:
mypy does not see a SQLAlchemy model's `Mapped[...]` columns as the plain attributes
`UserProtocol` names, though instances have them."""


@dataclass(frozen=True, slots=True)
class UserPage(Generic[ModelT]):
    """One page of users, and how many users match in all."""

    items: list[ModelT]
    total: int


class UserStore(Protocol[UserT]):
    """Persistence of users. Implementations flush but never commit: the caller
    owns the transaction.
    """

    async def get(self, user_id: Any) -> UserT | None:
        """Return the user with *user_id*, or `None`."""
        ...

    async def get_by_email(self, email: str) -> UserT | None:
        """Return the user whose canonical e-mail equals that of *email*, or `None`."""
        ...

    async def get_look_alike(self, email: str) -> UserT | None:
        """Return a user whose address looks like *email* (same `email_skeleton`)
        without being the same account (another canonical e-mail), or `None`.
        """
        ...

    async def create(self, values: dict[str, Any]) -> UserT:
        """Insert a user; raise `UserAlreadyExistsError` if the e-mail is taken."""
        ...

    async def update(self, user: UserT, values: dict[str, Any]) -> UserT:
        """Apply *values* to *user*; raise `UserAlreadyExistsError` on an e-mail clash."""
        ...

    async def update_if(
        self, user: UserT, expected: dict[str, Any], values: dict[str, Any]
    ) -> bool:
        """Apply *values* to *user* only if its stored columns still equal *expected*,
        in one atomic write; return whether it was applied. Raise
        `UserAlreadyExistsError` on an e-mail clash.
        """
        ...

    async def bump_token_version(self, user: UserT) -> None:
        """Add one to *user*'s token version in the database (atomically)."""
        ...

    async def lock_superusers(self) -> list[Any]:
        """Return the ids of the active superusers, and lock their rows until the
        transaction ends where the database can (`SELECT ... FOR UPDATE`).
        """
        ...

    async def delete(self, user: UserT) -> None:
        """Delete *user*."""
        ...

    async def list(self, *, offset: int, limit: int, search: str | None) -> UserPage[UserT]:
        """Users in the order of their canonical address, *limit* from *offset*, only
        those whose canonical address contains *search* (literally) when given.

        `GET /users?role=...` also passes `ids=` (a collection of user ids): only
        those users. A store without that keyword serves every other listing.
        """
        ...
