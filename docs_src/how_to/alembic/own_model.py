from myapp.models import Base  # your DeclarativeBase, with your user model

from fastapi_userkit.db.login_sessions import SessionBase

target_metadata = [Base.metadata, SessionBase.metadata]
