from fastapi import FastAPI

from fastapi_userkit import include_user_router

app = FastAPI()
kit = include_user_router(app)


@app.get("/orders")
async def list_orders(user: kit.CurrentUser) -> list[dict[str, str]]:
    return []
