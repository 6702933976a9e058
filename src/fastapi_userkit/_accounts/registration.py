"""Creating an account: `POST /auth/register`, `kit.users.create()` and the
`userkit create-superuser` command.
"""

from dataclasses import KW_ONLY, dataclass
from typing import Any

from fastapi_userkit._accounts.addresses import ensure_available
from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.login_sessions import StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import LookAlikeEmailError, UserAlreadyExistsError
from fastapi_userkit.hooks import UserKitHooks, run_after_hook


@dataclass(frozen=True, slots=True)
class Registration:
    """Creates accounts.

    Attributes:
        users: The user store of a unit of work.
        credentials: Checks and hashes the password.
        throttle: The per-IP registration limit and the owner-notice limit.
        mail: For the notice to the owner of a taken address.
        hooks: For `on_after_register`.
        prevent_enumeration: Answer alike for new and taken addresses.
    """

    users: StoreFactory
    credentials: Credentials
    throttle: Throttle
    mail: AccountMail
    hooks: UserKitHooks
    _: KW_ONLY
    prevent_enumeration: bool

    async def create(self, uow: UnitOfWork, values: dict[str, Any], origin: Origin) -> Any:
        """Create a user from *values* (`email`, `password`, flags, the host's own
        columns): check the policy and the address, hash, insert, commit, then run
        `on_after_register` (in a request; a `kit.users` call inside the caller's own
        transaction leaves it to the caller).

        Raises:
            InvalidPasswordError: the policy refused the password.
            UserAlreadyExistsError: the address is taken (`LookAlikeEmailError`: it
                looks like another account's).
        """
        fields = dict(values)
        email, password = fields.pop("email"), fields.pop("password")
        store = self.users(uow)
        # Policy and address first: a taken address costs no hash here, so that the
        # enumeration-safe path spends exactly one, as a new account does.
        await self.credentials.policy.check(password, email)
        await ensure_available(store, email)
        hashed = await self.credentials.hashing.hash(password)
        user = await store.create({**fields, "email": email, "hashed_password": hashed})
        await uow.commit()
        if origin.request is not None or uow.owned:
            await run_after_hook(
                "on_after_register", self.hooks.on_after_register(user, origin.request)
            )
            await record(self.hooks, origin, SecurityEventName.REGISTER, "success", user=user)
        return user

    async def register(self, uow: UnitOfWork, values: dict[str, Any], origin: Origin) -> Any:
        """Sign up (`POST /auth/register`): count the attempt per client IP, then
        `create`.

        With `prevent_enumeration`, a taken address (or one that looks like another
        account's) creates nothing and costs the same hashing work; the owner of a
        taken one gets the `registration_attempt` notice after the response, at most
        as often as the notice limit allows.

        Returns:
            The new user, or `None` when nothing was created (enumeration-safe mode).

        Raises:
            TooManyRequestsError: the per-IP limit is reached.
            InvalidPasswordError: the policy refused the password.
            UserAlreadyExistsError: the address is taken (not in enumeration-safe mode).
        """
        counted = await self.throttle.count(origin, "register")
        try:
            async with self.throttle.unless_answered(counted):
                return await self.create(uow, values, origin)
        except UserAlreadyExistsError as exc:
            if not self.prevent_enumeration:
                raise
            await self.credentials.hashing.hash(values["password"])
            if not isinstance(exc, LookAlikeEmailError) and (
                await self.throttle.allow_notice("register", values["email"])
            ):
                owner = await self._owner_address(uow, values["email"])
                origin.later.add(lambda: self.mail.registration_attempt(owner))
            return None

    async def _owner_address(self, uow: UnitOfWork, email: str) -> str:
        # The notice goes to the stored address (the typed one may differ in case).
        await uow.rollback()  # a lost insert race leaves the session failed
        try:
            existing = await self.users(uow).get_by_email(email)
        except Exception:  # best effort: the address as typed reaches the owner too
            return email
        return existing.email if existing is not None else email
