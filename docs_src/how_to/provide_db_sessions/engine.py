from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from fastapi_userkit import include_user_router

app = FastAPI()
engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
kit = include_user_router(app, database=engine)
