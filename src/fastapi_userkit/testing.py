"""Helpers for the host's own tests.

```python
user, headers = await create_user_and_headers(kit, email="ann@example.com")
response = await client.get("/orders", headers=headers)

with override_current_user(app, kit, user):
    response = await client.get("/orders")  # no token needed
```
"""

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from fastapi_userkit._access_tokens import AccessClaims
from fastapi_userkit._accounts.login_sessions import Authentication
from fastapi_userkit.login_sessions import LoginSession

if TYPE_CHECKING:
    from fastapi_userkit._kit import UserKit

__all__ = [
    "create_user_and_headers",
    "override_current_user",
]


async def create_user_and_headers(
    kit: "UserKit[Any]",
    *,
    email: str,
    password: str | None = None,
    is_superuser: bool = False,
    is_verified: bool = True,
    **fields: Any,
) -> tuple[Any, dict[str, str]]:
    """Create a user and open a real login session for it.

    Returns:
        The user and the `Authorization` headers of a valid access token.
    """
    user = await kit.users.create(
        email=email,
        password=password or secrets.token_urlsafe(24),
        is_superuser=is_superuser,
        is_verified=is_verified,
        **fields,
    )
    tokens = await kit.users.open_session(user.id)
    return user, {"Authorization": f"Bearer {tokens.access_token}"}


@contextmanager
def override_current_user(app: FastAPI, kit: "UserKit[Any]", user: Any) -> Iterator[None]:
    """Make every current-user dependency of *kit* resolve to *user* (no token).

    The guards' own checks still apply: an inactive *user* still gets 401 and a
    non-superuser 403 where a superuser is required.
    """
    now = datetime.now(UTC)
    session = LoginSession(
        id="test-session",
        user_id=str(user.id),
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(days=1),
    )
    claims = AccessClaims(
        subject=str(user.id),
        token_version=user.token_version,
        session_id=session.id,
        token_id="test-token",  # noqa: S106 - an id, not a secret
        issued_at=now,
        expires_at=now + timedelta(days=1),
    )
    app.dependency_overrides[kit._parts.deps.authentication] = lambda: Authentication(
        user, session, claims
    )
    try:
        yield
    finally:
        app.dependency_overrides.pop(kit._parts.deps.authentication, None)
