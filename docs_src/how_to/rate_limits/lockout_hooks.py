import logging

from fastapi import FastAPI, Request

from fastapi_userkit import UserKitHooks, include_user_router

security_log = logging.getLogger("myapp.security")


class Hooks(UserKitHooks):
    async def on_lockout(self, key: str, request: Request | None = None) -> None:
        security_log.warning("rate limit reached: %r", key)

    async def on_login_failed(self, email: str, request: Request | None = None) -> None:
        security_log.info("failed login for %r", email)


app = FastAPI()
kit = include_user_router(app, hooks=Hooks())
