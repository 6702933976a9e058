import hashlib

import httpx
from fastapi import FastAPI

from fastapi_userkit import UserKitHooks, include_user_router


class Hooks(UserKitHooks):
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def validate_password(self, password: str, email: str | None) -> list[str]:
        sha1 = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False)
        digest = sha1.hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        response = await self.client.get(
            f"https://api.pwnedpasswords.com/range/{prefix}", headers={"Add-Padding": "true"}
        )
        response.raise_for_status()
        for line in response.text.splitlines():
            candidate, _, count = line.partition(":")
            if candidate == suffix and int(count) > 0:
                return ["Password has appeared in a data breach; choose another one."]
        return []


app = FastAPI()
hibp = httpx.AsyncClient(timeout=3.0)
kit = include_user_router(app, hooks=Hooks(hibp))
