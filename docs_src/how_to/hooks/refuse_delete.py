from typing import Any

from fastapi import FastAPI, HTTPException, Request

from fastapi_userkit import UserKitHooks, include_user_router


class Hooks(UserKitHooks):
    async def on_before_delete(self, user: Any, request: Request | None = None) -> None:
        if user.is_superuser:
            raise HTTPException(status_code=409, detail="SUPERUSER_CANNOT_BE_DELETED")


app = FastAPI()
kit = include_user_router(app, hooks=Hooks())
