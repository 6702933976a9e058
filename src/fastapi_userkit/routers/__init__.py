"""Router factories; `include_user_router()` mounts them all."""

from fastapi_userkit.routers.account import create_account_router as create_account_router
from fastapi_userkit.routers.admin import create_admin_router as create_admin_router
from fastapi_userkit.routers.auth import create_auth_router as create_auth_router
from fastapi_userkit.routers.cookie import create_cookie_router as create_cookie_router
from fastapi_userkit.routers.register import create_register_router as create_register_router
from fastapi_userkit.routers.reset import create_reset_router as create_reset_router
from fastapi_userkit.routers.sessions import create_sessions_router as create_sessions_router
from fastapi_userkit.routers.users import create_users_router as create_users_router
from fastapi_userkit.routers.verify import create_verify_router as create_verify_router

__all__ = [
    "create_account_router",
    "create_admin_router",
    "create_auth_router",
    "create_cookie_router",
    "create_register_router",
    "create_reset_router",
    "create_sessions_router",
    "create_users_router",
    "create_verify_router",
]
