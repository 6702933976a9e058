"""Which addresses an account may take: not another account's, nor one that looks
like another account's.
"""

from typing import Any

from fastapi_userkit._email import canonical_email
from fastapi_userkit.exceptions import LookAlikeEmailError, UserAlreadyExistsError
from fastapi_userkit.protocols import UserStore


async def ensure_available(store: UserStore[Any], email: str, user: Any | None = None) -> None:
    """Refuse *email* when it names an account other than *user*, or looks like the
    address of one. Its own address, in any spelling, is always available to *user*.

    Raises:
        UserAlreadyExistsError: another account has this canonical address.
        LookAlikeEmailError: another account's address looks the same.
    """
    if user is not None and canonical_email(email) == user.email_key:
        return
    if await store.get_by_email(email) is not None:
        raise UserAlreadyExistsError()
    look_alike = await store.get_look_alike(email)
    if look_alike is not None and (user is None or look_alike.id != user.id):
        raise LookAlikeEmailError()


async def change_address(
    store: UserStore[Any], user: Any, values: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """Check a new `email` in *values* and say what the write must hold.

    Any change of the stored address, even of its spelling, clears `is_verified`
    unless *values* sets it; the same spelling is no change at all.

    Returns:
        The values to write, and the old address when the address changes.

    Raises:
        UserAlreadyExistsError: the address is another account's or looks like it.
    """
    changes = dict(values)
    if "email" not in changes:
        return changes, None
    if changes["email"] == user.email:
        del changes["email"]
        return changes, None
    await ensure_available(store, changes["email"], user)
    changes.setdefault("is_verified", False)
    return changes, user.email
