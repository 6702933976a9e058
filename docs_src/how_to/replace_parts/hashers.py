from fastapi import FastAPI

from fastapi_userkit import BcryptHasher, include_user_router
from fastapi_userkit.contrib.argon2 import Argon2Hasher

app = FastAPI()
kit = include_user_router(app, password_hashers=[Argon2Hasher(), BcryptHasher(12)])
