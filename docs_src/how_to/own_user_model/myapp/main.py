from fastapi import FastAPI

from fastapi_userkit import UserSchemas, include_user_router
from myapp.models import User
from myapp.schemas import MyUserCreate, MyUserRead, MyUserUpdate

app = FastAPI()
kit = include_user_router(
    app,
    user_model=User,
    schemas=UserSchemas(read=MyUserRead, create=MyUserCreate, update=MyUserUpdate),
)
