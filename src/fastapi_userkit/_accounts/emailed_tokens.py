"""Reading an e-mailed token back: the active user it names, if the account is
still in the state the token was issued for.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi_userkit._accounts.context import Call, Origin
from fastapi_userkit._accounts.login_sessions import StoreFactory
from fastapi_userkit._action_tokens import ActionClaims, ActionTokenCodec, Purpose, account_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.exceptions import BadTokenError


@dataclass(frozen=True, slots=True)
class EmailedTokens:
    """Issues and reads the tokens sent by e-mail (reset, verification, e-mail change).

    Attributes:
        codec: Signs and verifies the tokens.
        users: The user store of a unit of work.
        parse_id: Turns a token's `sub` into a user id.
        ttls: The lifetime of each purpose's tokens, in seconds.
    """

    codec: ActionTokenCodec
    users: StoreFactory
    parse_id: Callable[[str], Any]
    ttls: dict[Purpose, int]

    def issue(self, purpose: Purpose, user: Any | None, *, email: str | None = None) -> str:
        """A token for *purpose*, bound to *user*'s present state; for `None` a token
        for nobody, made all the same so that every address costs the same work.
        """
        return self.codec.issue(
            purpose,
            subject=str(user.id) if user is not None else "-",
            state=account_state(user) if user is not None else "-",
            ttl=self.ttls[purpose],
            email=email,
        )

    async def offer(
        self,
        uow: UnitOfWork,
        purpose: Purpose,
        email: str,
        origin: Origin,
        *,
        eligible: Callable[[Any], bool],
        deliver: Callable[[Any, str], tuple[Call, ...]],
        with_email: bool = False,
    ) -> None:
        """Mail a *purpose* link to *email*'s account if it is *eligible*.

        The same work and answer for every address, so that the timing tells
        nothing: one lookup, one signed token (for nobody when there is no eligible
        account), and one task after the response, which runs what *deliver* gives
        for the account and its token (its e-mail and hook), or nothing.
        """
        user = await self.users(uow).get_by_email(email)
        found = user if user is not None and eligible(user) else None
        address = (found.email if found is not None else "-") if with_email else None
        token = self.issue(purpose, found, email=address)
        origin.later.add(*(deliver(found, token) if found is not None else ()))

    async def read(self, uow: UnitOfWork, purpose: Purpose, token: str) -> tuple[ActionClaims, Any]:
        """Return the claims of *token* and the active user it names.

        The write that uses the token must still be conditioned on
        `bound_state(user)`: the account may change between this read and that write.

        Raises:
            BadTokenError: bad or expired token, unknown or inactive user, or account
                state (address, password, token version) changed since it was issued.
        """
        claims = self.codec.read(purpose, token)
        user = await self.users(uow).get(self.parse_id(claims.subject))
        if user is None or not user.is_active or not claims.bound_to(purpose, account_state(user)):
            raise BadTokenError("the token does not match an active account")
        return claims, user
