"""Checks shared by the routers."""

from typing import TYPE_CHECKING, Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError

from fastapi_userkit.action_tokens import ActionClaims, Purpose, account_state
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.errors import ErrorCode, http_error
from fastapi_userkit.exceptions import BadTokenError, LastSuperuserError
from fastapi_userkit.manager import removes_superuser
from fastapi_userkit.schemas import PRIVILEGED_FIELDS

if TYPE_CHECKING:
    from fastapi_userkit._integration import UserKit


def refuse_privileged(values: dict[str, Any]) -> None:
    """Refuse a self-service body that sets a privileged field, as FastAPI refuses
    unknown fields (422), even if a host schema lets the field through.
    """
    privileged = sorted(PRIVILEGED_FIELDS & values.keys())
    if privileged:
        raise RequestValidationError(
            [
                {
                    "type": "extra_forbidden",
                    "loc": ("body", name),
                    "msg": "Extra inputs are not permitted",
                    "input": values[name],
                }
                for name in privileged
            ]
        )


async def action_user(
    kit: "UserKit[Any]", uow: UnitOfWork, purpose: Purpose, token: str
) -> tuple[ActionClaims, Any]:
    """Return the claims of an e-mailed *token* and the active user it names.

    The caller's write must still be conditioned on `bound_state(user)`: the
    account may change between this read and that write.

    Raises:
        BadTokenError: bad or expired token, unknown or inactive user, or account
            state (address, password, token version) changed since it was issued.
    """
    claims = kit.action_tokens.read(purpose, token)
    user = await kit.store(uow).get(kit.parse_id(claims.subject))
    if user is None or not user.is_active or not claims.bound_to(purpose, account_state(user)):
        raise BadTokenError("the token does not match an active account")
    return claims, user


async def current_password_ok(
    kit: "UserKit[Any]", uow: UnitOfWork, request: Request, user: Any, password: str | None
) -> bool:
    """Check the caller's current password under the login limits: a stolen session
    cannot guess it faster than a login form could (429 when a limit is full).
    """
    if password is None:
        return False
    counted = await kit.throttle.reserve_login(request, user.email)
    if await kit.manager(uow).check_password(user, password):
        await kit.throttle.login_succeeded(request, user.email, counted)
        return True
    await kit.throttle.login_failed(request, user.email, counted)
    return False


async def delete_account(kit: "UserKit[Any]", uow: UnitOfWork, user: Any) -> None:
    """End every session of *user*, delete it and commit; refuse (400
    `LAST_SUPERUSER`) to delete the last active superuser.
    """

    async def delete() -> None:
        await kit.store(uow).delete(user)

    try:
        if removes_superuser(user):
            await kit.manager(uow).keep_a_superuser(delete)
        else:
            await delete()
    except LastSuperuserError:
        raise http_error(status.HTTP_400_BAD_REQUEST, ErrorCode.LAST_SUPERUSER) from None
    # Only once the deletion is allowed: a Redis session store is not rolled back.
    await kit.session_store.bind(uow).revoke_all(str(user.id))
    await uow.commit()
