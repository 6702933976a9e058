import logging
import uuid
from typing import Any

from fastapi import FastAPI, HTTPException, Request

from fastapi_userkit import UserKitHooks, include_user_router

log = logging.getLogger("myapp")
UNPAID: set[uuid.UUID] = set()  # stands in for your billing system


async def has_unpaid_invoices(user_id: uuid.UUID) -> bool:
    return user_id in UNPAID


async def erase_user_files(user_id: uuid.UUID) -> None:
    log.info("erasing the files of user=%s", user_id)


class Hooks(UserKitHooks):
    async def on_before_delete(self, user: Any, request: Request | None = None) -> None:
        if user.is_superuser:
            raise HTTPException(status_code=409, detail="SUPERUSER_CANNOT_BE_DELETED")
        if await has_unpaid_invoices(user.id):
            raise HTTPException(status_code=409, detail="UNPAID_INVOICES")

    async def on_after_delete(self, user: Any, request: Request | None = None) -> None:
        await erase_user_files(user.id)


app = FastAPI()
kit = include_user_router(app, hooks=Hooks())
