from fastapi_userkit.db.default import UserKitBase
from fastapi_userkit.db.login_sessions import SessionBase

target_metadata = [UserKitBase.metadata, SessionBase.metadata]
