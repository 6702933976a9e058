from myapp.models import Base  # your DeclarativeBase, with your user model

from fastapi_userkit.db.login_sessions import SessionBase
from fastapi_userkit.db.roles import RoleBase

target_metadata = [Base.metadata, SessionBase.metadata, RoleBase.metadata]
