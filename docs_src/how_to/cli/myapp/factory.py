"""A kit made inside create_app(): `userkit --app myapp.factory:userkit_cli ...`"""

import logging
from typing import Any

from fastapi import FastAPI, Request

from fastapi_userkit import UserKit, UserKitHooks, include_user_router
from myapp.main import Member

log = logging.getLogger("myapp")


class Hooks(UserKitHooks):
    async def on_after_register(self, user: Any, request: Request | None = None) -> None:
        log.info("registered user=%s", user.id)


def create_app() -> FastAPI:
    app = FastAPI()
    include_user_router(app, user_model=Member, hooks=Hooks())
    return app


# --8<-- [start:cli]
def userkit_cli() -> UserKit:
    return include_user_router(FastAPI(), user_model=Member, hooks=Hooks())


# --8<-- [end:cli]
