from fastapi import FastAPI

from fastapi_userkit import include_user_router

app = FastAPI()
# USERKIT_DATABASE_URL names the database fastapi-users used; USERKIT_SECRET_KEY is set.
kit = include_user_router(app)
