from fastapi_userkit.db.default import UserKitBase
from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase

target_metadata = [UserKitBase.metadata, SessionBase.metadata, RoleBase.metadata]
