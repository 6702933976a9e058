from fastapi import FastAPI

from fastapi_userkit import include_user_router
from fastapi_userkit.contrib.redis import RedisSessionStore

app = FastAPI()
store = RedisSessionStore("redis://redis.internal:6379/0", prefix="myapp:userkit:")
kit = include_user_router(app, session_store=store)
