import os

from fastapi import FastAPI

from fastapi_userkit import UserKitSettings, include_user_router

new_key = os.environ["NEW_SECRET_KEY"]  # from your secret manager
old_key = os.environ["OLD_SECRET_KEY"]

settings = UserKitSettings(secret_key=new_key, previous_secret_keys=[old_key])
app = FastAPI()
kit = include_user_router(app, settings=settings)
