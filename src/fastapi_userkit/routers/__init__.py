"""Router factories; `include_user_router()` mounts them all."""

from fastapi_userkit.routers.auth import create_auth_router as create_auth_router
from fastapi_userkit.routers.cookie import create_cookie_router as create_cookie_router
from fastapi_userkit.routers.register import create_register_router as create_register_router
from fastapi_userkit.routers.sessions import create_sessions_router as create_sessions_router
from fastapi_userkit.routers.users import create_users_router as create_users_router

__all__ = [
    "create_auth_router",
    "create_cookie_router",
    "create_register_router",
    "create_sessions_router",
    "create_users_router",
]
