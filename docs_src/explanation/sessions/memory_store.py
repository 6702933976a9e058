from fastapi import FastAPI

from fastapi_userkit import MemorySessionStore, include_user_router

app = FastAPI()
kit = include_user_router(app, session_store=MemorySessionStore())
