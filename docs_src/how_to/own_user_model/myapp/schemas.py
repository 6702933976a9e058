from fastapi_userkit import UserCreate, UserRead, UserUpdate


class MyUserRead(UserRead):
    display_name: str | None = None


class MyUserCreate(UserCreate):
    display_name: str | None = None


class MyUserUpdate(UserUpdate):
    display_name: str | None = None
