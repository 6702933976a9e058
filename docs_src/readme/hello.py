from fastapi import FastAPI

from fastapi_userkit import include_user_router

app = FastAPI()
kit = include_user_router(app)  # SQLite file by default


@app.get("/hello")
async def hello(user: kit.CurrentUser) -> str:
    return f"hello {user.email}"
