from fastapi import FastAPI

from fastapi_userkit import UserKitSettings, include_user_router

app = FastAPI()
settings = UserKitSettings(rate_limit_login_account="50/3600", login_trusted_ip_days=14)
kit = include_user_router(app, settings=settings)
