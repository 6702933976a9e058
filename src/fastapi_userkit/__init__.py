"""A complete, secure user system for FastAPI apps in one call.

```python
app = FastAPI()
kit = include_user_router(app)
```
"""

from fastapi_userkit._email import canonical_email as canonical_email
from fastapi_userkit._email import email_skeleton as email_skeleton
from fastapi_userkit._integration import UserKit as UserKit
from fastapi_userkit._integration import include_user_router as include_user_router
from fastapi_userkit.config import UserKitSettings as UserKitSettings
from fastapi_userkit.db.database import UnitOfWork as UnitOfWork
from fastapi_userkit.db.models import IntegerIdUserMixin as IntegerIdUserMixin
from fastapi_userkit.db.models import UserMixin as UserMixin
from fastapi_userkit.db.sessions import SQLSessionStore as SQLSessionStore
from fastapi_userkit.errors import ErrorCode as ErrorCode
from fastapi_userkit.exceptions import BadTokenError as BadTokenError
from fastapi_userkit.exceptions import ConfigurationError as ConfigurationError
from fastapi_userkit.exceptions import InvalidCredentialsError as InvalidCredentialsError
from fastapi_userkit.exceptions import InvalidPasswordError as InvalidPasswordError
from fastapi_userkit.exceptions import LookAlikeEmailError as LookAlikeEmailError
from fastapi_userkit.exceptions import UserAlreadyExistsError as UserAlreadyExistsError
from fastapi_userkit.exceptions import UserKitError as UserKitError
from fastapi_userkit.exceptions import UserNotFoundError as UserNotFoundError
from fastapi_userkit.hooks import UserKitHooks as UserKitHooks
from fastapi_userkit.mail import EmailMessage as EmailMessage
from fastapi_userkit.mail import EmailSender as EmailSender
from fastapi_userkit.mail import LoggingEmailSender as LoggingEmailSender
from fastapi_userkit.mail import MailDeliveryError as MailDeliveryError
from fastapi_userkit.mail import SMTPEmailSender as SMTPEmailSender
from fastapi_userkit.mail_templates import EmailTemplates as EmailTemplates
from fastapi_userkit.passwords import BcryptHasher as BcryptHasher
from fastapi_userkit.passwords import PasswordHasher as PasswordHasher
from fastapi_userkit.protocols import UserProtocol as UserProtocol
from fastapi_userkit.protocols import UserStore as UserStore
from fastapi_userkit.schemas import Email as Email
from fastapi_userkit.schemas import UserCreate as UserCreate
from fastapi_userkit.schemas import UserRead as UserRead
from fastapi_userkit.schemas import UserSchemas as UserSchemas
from fastapi_userkit.schemas import UserUpdate as UserUpdate
from fastapi_userkit.service import UserService as UserService
from fastapi_userkit.sessions import LoginSession as LoginSession
from fastapi_userkit.sessions import MemorySessionStore as MemorySessionStore
from fastapi_userkit.sessions import RefreshTokenReuseError as RefreshTokenReuseError
from fastapi_userkit.sessions import SessionStore as SessionStore
from fastapi_userkit.sessions import SessionStoreProvider as SessionStoreProvider
from fastapi_userkit.sessions import SessionStoreUnavailableError as SessionStoreUnavailableError

__version__ = "0.1.0.dev0"

__all__ = [
    "BadTokenError",
    "BcryptHasher",
    "ConfigurationError",
    "Email",
    "EmailMessage",
    "EmailSender",
    "EmailTemplates",
    "ErrorCode",
    "IntegerIdUserMixin",
    "InvalidCredentialsError",
    "InvalidPasswordError",
    "LoggingEmailSender",
    "LoginSession",
    "LookAlikeEmailError",
    "MailDeliveryError",
    "MemorySessionStore",
    "PasswordHasher",
    "RefreshTokenReuseError",
    "SMTPEmailSender",
    "SQLSessionStore",
    "SessionStore",
    "SessionStoreProvider",
    "SessionStoreUnavailableError",
    "UnitOfWork",
    "UserAlreadyExistsError",
    "UserCreate",
    "UserKit",
    "UserKitError",
    "UserKitHooks",
    "UserKitSettings",
    "UserMixin",
    "UserNotFoundError",
    "UserProtocol",
    "UserRead",
    "UserSchemas",
    "UserService",
    "UserStore",
    "UserUpdate",
    "canonical_email",
    "email_skeleton",
    "include_user_router",
]
