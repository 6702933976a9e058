"""Router factories: each turns HTTP into calls of account operations and back;
`include_user_router()` mounts them.
"""

from fastapi_userkit.routers.account import create_deletion_router as create_deletion_router
from fastapi_userkit.routers.account import (
    create_email_change_router as create_email_change_router,
)
from fastapi_userkit.routers.admin import create_admin_router as create_admin_router
from fastapi_userkit.routers.auth import create_auth_router as create_auth_router
from fastapi_userkit.routers.cookie import create_cookie_router as create_cookie_router
from fastapi_userkit.routers.jwks import create_jwks_router as create_jwks_router
from fastapi_userkit.routers.mfa import create_mfa_router as create_mfa_router
from fastapi_userkit.routers.register import create_register_router as create_register_router
from fastapi_userkit.routers.reset import create_reset_router as create_reset_router
from fastapi_userkit.routers.roles import create_roles_router as create_roles_router
from fastapi_userkit.routers.sessions import create_sessions_router as create_sessions_router
from fastapi_userkit.routers.users import create_users_router as create_users_router
from fastapi_userkit.routers.verify import create_verify_router as create_verify_router

__all__ = [
    "create_admin_router",
    "create_auth_router",
    "create_cookie_router",
    "create_deletion_router",
    "create_email_change_router",
    "create_jwks_router",
    "create_mfa_router",
    "create_register_router",
    "create_reset_router",
    "create_roles_router",
    "create_sessions_router",
    "create_users_router",
    "create_verify_router",
]
