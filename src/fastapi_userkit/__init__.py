"""A complete, secure user system for FastAPI apps in one call.

```python
app = FastAPI()
kit = include_user_router(app)
```

Every public name is importable from here. The other public modules are
`fastapi_userkit.testing`, `fastapi_userkit.db` (models and tables),
`fastapi_userkit.ratelimit`, `fastapi_userkit.contrib.*` (extras) and the modules
these names come from; modules whose name starts with `_` are private.
"""

from fastapi_userkit._accounts.role_service import RoleService as RoleService
from fastapi_userkit._accounts.users import UserService as UserService
from fastapi_userkit._build import UserStoreFactory as UserStoreFactory
from fastapi_userkit._email import canonical_email as canonical_email
from fastapi_userkit._email import email_skeleton as email_skeleton
from fastapi_userkit._kit import RouteGroup as RouteGroup
from fastapi_userkit._kit import UserKit as UserKit
from fastapi_userkit._kit import include_user_router as include_user_router
from fastapi_userkit.config import UserKitSettings as UserKitSettings
from fastapi_userkit.db.database import UnitOfWork as UnitOfWork
from fastapi_userkit.db.login_sessions import SQLSessionStore as SQLSessionStore
from fastapi_userkit.db.models import IntegerIdUserMixin as IntegerIdUserMixin
from fastapi_userkit.db.models import UserMixin as UserMixin
from fastapi_userkit.db.store import SQLAlchemyUserStore as SQLAlchemyUserStore
from fastapi_userkit.errors import ErrorCode as ErrorCode
from fastapi_userkit.events import SecurityEvent as SecurityEvent
from fastapi_userkit.events import SecurityEventName as SecurityEventName
from fastapi_userkit.exceptions import AlreadyVerifiedError as AlreadyVerifiedError
from fastapi_userkit.exceptions import BadChallengeError as BadChallengeError
from fastapi_userkit.exceptions import BadTokenError as BadTokenError
from fastapi_userkit.exceptions import ConfigurationError as ConfigurationError
from fastapi_userkit.exceptions import InsufficientScopeError as InsufficientScopeError
from fastapi_userkit.exceptions import InvalidCredentialsError as InvalidCredentialsError
from fastapi_userkit.exceptions import InvalidPasswordError as InvalidPasswordError
from fastapi_userkit.exceptions import LastSuperuserError as LastSuperuserError
from fastapi_userkit.exceptions import LookAlikeEmailError as LookAlikeEmailError
from fastapi_userkit.exceptions import MailDeliveryError as MailDeliveryError
from fastapi_userkit.exceptions import PasskeyNotFoundError as PasskeyNotFoundError
from fastapi_userkit.exceptions import RateLimiterUnavailableError as RateLimiterUnavailableError
from fastapi_userkit.exceptions import RefreshTokenReuseError as RefreshTokenReuseError
from fastapi_userkit.exceptions import RoleAlreadyExistsError as RoleAlreadyExistsError
from fastapi_userkit.exceptions import RoleNotFoundError as RoleNotFoundError
from fastapi_userkit.exceptions import SecondFactorRequiredError as SecondFactorRequiredError
from fastapi_userkit.exceptions import SecondFactorStateError as SecondFactorStateError
from fastapi_userkit.exceptions import SelfLockoutError as SelfLockoutError
from fastapi_userkit.exceptions import SessionNotFoundError as SessionNotFoundError
from fastapi_userkit.exceptions import SessionStoreUnavailableError as SessionStoreUnavailableError
from fastapi_userkit.exceptions import TooManyRequestsError as TooManyRequestsError
from fastapi_userkit.exceptions import UnavailableError as UnavailableError
from fastapi_userkit.exceptions import UnverifiedLoginError as UnverifiedLoginError
from fastapi_userkit.exceptions import UserAlreadyExistsError as UserAlreadyExistsError
from fastapi_userkit.exceptions import UserKitError as UserKitError
from fastapi_userkit.exceptions import UserNotFoundError as UserNotFoundError
from fastapi_userkit.exceptions import WrongCodeError as WrongCodeError
from fastapi_userkit.exceptions import WrongPasswordError as WrongPasswordError
from fastapi_userkit.hooks import UserKitHooks as UserKitHooks
from fastapi_userkit.login_sessions import LoginSession as LoginSession
from fastapi_userkit.login_sessions import MemorySessionStore as MemorySessionStore
from fastapi_userkit.login_sessions import SessionStore as SessionStore
from fastapi_userkit.login_sessions import SessionStoreProvider as SessionStoreProvider
from fastapi_userkit.mail import EmailMessage as EmailMessage
from fastapi_userkit.mail import EmailSender as EmailSender
from fastapi_userkit.mail import LoggingEmailSender as LoggingEmailSender
from fastapi_userkit.mail import SMTPEmailSender as SMTPEmailSender
from fastapi_userkit.mail_templates import EmailTemplates as EmailTemplates
from fastapi_userkit.passwords import BcryptHasher as BcryptHasher
from fastapi_userkit.passwords import PasswordHasher as PasswordHasher
from fastapi_userkit.policy import PasswordPolicy as PasswordPolicy
from fastapi_userkit.protocols import UserPage as UserPage
from fastapi_userkit.protocols import UserProtocol as UserProtocol
from fastapi_userkit.protocols import UserStore as UserStore
from fastapi_userkit.ratelimit import MemoryRateLimiter as MemoryRateLimiter
from fastapi_userkit.ratelimit import RateLimiter as RateLimiter
from fastapi_userkit.schemas import Email as Email
from fastapi_userkit.schemas import UserCreate as UserCreate
from fastapi_userkit.schemas import UserRead as UserRead
from fastapi_userkit.schemas import UserSchemas as UserSchemas
from fastapi_userkit.schemas import UserUpdate as UserUpdate

__version__ = "0.1.0.dev0"

from fastapi_userkit.roles import ADMIN_SCOPE as ADMIN_SCOPE
from fastapi_userkit.roles import Access as Access
from fastapi_userkit.roles import Role as Role

__all__ = [
    "ADMIN_SCOPE",
    "Access",
    "AlreadyVerifiedError",
    "BadChallengeError",
    "BadTokenError",
    "BcryptHasher",
    "ConfigurationError",
    "Email",
    "EmailMessage",
    "EmailSender",
    "EmailTemplates",
    "ErrorCode",
    "InsufficientScopeError",
    "IntegerIdUserMixin",
    "InvalidCredentialsError",
    "InvalidPasswordError",
    "LastSuperuserError",
    "LoggingEmailSender",
    "LoginSession",
    "LookAlikeEmailError",
    "MailDeliveryError",
    "MemoryRateLimiter",
    "MemorySessionStore",
    "PasskeyNotFoundError",
    "PasswordHasher",
    "PasswordPolicy",
    "RateLimiter",
    "RateLimiterUnavailableError",
    "RefreshTokenReuseError",
    "Role",
    "RoleAlreadyExistsError",
    "RoleNotFoundError",
    "RoleService",
    "RouteGroup",
    "SMTPEmailSender",
    "SQLAlchemyUserStore",
    "SQLSessionStore",
    "SecondFactorRequiredError",
    "SecondFactorStateError",
    "SecurityEvent",
    "SecurityEventName",
    "SelfLockoutError",
    "SessionNotFoundError",
    "SessionStore",
    "SessionStoreProvider",
    "SessionStoreUnavailableError",
    "TooManyRequestsError",
    "UnavailableError",
    "UnitOfWork",
    "UnverifiedLoginError",
    "UserAlreadyExistsError",
    "UserCreate",
    "UserKit",
    "UserKitError",
    "UserKitHooks",
    "UserKitSettings",
    "UserMixin",
    "UserNotFoundError",
    "UserPage",
    "UserProtocol",
    "UserRead",
    "UserSchemas",
    "UserService",
    "UserStore",
    "UserStoreFactory",
    "UserUpdate",
    "WrongCodeError",
    "WrongPasswordError",
    "canonical_email",
    "email_skeleton",
    "include_user_router",
]
