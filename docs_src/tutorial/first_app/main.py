from fastapi import FastAPI

from fastapi_userkit import include_user_router

app = FastAPI()
kit = include_user_router(app)


@app.get("/hello")
async def hello(user: kit.CurrentUser) -> dict[str, str]:
    return {"message": f"hello {user.email}"}
