from fastapi import FastAPI
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from fastapi_userkit import include_user_router

app = FastAPI()
engine = create_async_engine("postgresql+asyncpg://app:secret@db/app")
sessions = async_sessionmaker(engine, expire_on_commit=False)
kit = include_user_router(app, database=sessions)
