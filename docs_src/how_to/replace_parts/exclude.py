from fastapi import FastAPI

from fastapi_userkit import include_user_router

app = FastAPI()
kit = include_user_router(app, exclude={"admin", "delete"})
