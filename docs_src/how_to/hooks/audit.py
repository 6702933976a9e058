# --8<-- [start:hooks]
import logging
from typing import Any

from fastapi import FastAPI, Request, Response

from fastapi_userkit import UserKitHooks, include_user_router

audit = logging.getLogger("myapp.audit")


async def send_new_login_warning(email: str) -> None:
    # Your own code: e-mail the owner, open a ticket, page someone...
    audit.warning("telling %r that their session may have been stolen", email)


class Hooks(UserKitHooks):
    async def on_after_register(self, user: Any, request: Request | None = None) -> None:
        audit.info("registered user=%s", user.id)

    async def on_after_login(
        self, user: Any, request: Request | None = None, response: Response | None = None
    ) -> None:
        audit.info("login user=%s", user.id)

    async def on_login_failed(self, email: str, request: Request | None = None) -> None:
        audit.info("failed login for %r", email)

    async def on_after_password_change(self, user: Any, request: Request | None = None) -> None:
        audit.info("password changed user=%s", user.id)

    async def on_refresh_token_reuse(self, user: Any, request: Request | None = None) -> None:
        audit.warning("refresh token reused user=%s", user.id if user else None)
        if user is not None:
            await send_new_login_warning(user.email)


# --8<-- [end:hooks]
# --8<-- [start:mount]
app = FastAPI()
kit = include_user_router(app, hooks=Hooks())
# --8<-- [end:mount]
