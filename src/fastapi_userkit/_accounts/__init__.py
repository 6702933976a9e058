"""The accounts layer: every account flow as one operation, in a module named after
its concept.

Each operation owns its flow's order: validate, write, commit, then end sessions,
send e-mail (after the response) and run hooks, as its docstring says. The HTTP
routers and `kit.users` only call operations; operations use the stores and the
primitives (hashing, tokens, mail) they are built with, and nothing above them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi_userkit._access_tokens import AccessTokenCodec
from fastapi_userkit._accounts.administration import Administration
from fastapi_userkit._accounts.credentials import Credentials
from fastapi_userkit._accounts.deletion import Deletion
from fastapi_userkit._accounts.email_change import EmailChange
from fastapi_userkit._accounts.emailed_tokens import EmailedTokens
from fastapi_userkit._accounts.login import Login
from fastapi_userkit._accounts.login_sessions import LoginSessions, StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._accounts.passwords import Passwords
from fastapi_userkit._accounts.profile import Profile
from fastapi_userkit._accounts.registration import Registration
from fastapi_userkit._accounts.reset import PasswordReset
from fastapi_userkit._accounts.roles import Roles
from fastapi_userkit._accounts.second_factors import SecondFactors
from fastapi_userkit._accounts.throttle import Throttle
from fastapi_userkit._accounts.verification import Verification
from fastapi_userkit._action_tokens import ActionTokenCodec, Purpose
from fastapi_userkit.db._authentication_read import AuthenticationRead
from fastapi_userkit.db.database import Database
from fastapi_userkit.hooks import UserKitHooks
from fastapi_userkit.login_sessions import SessionStoreProvider
from fastapi_userkit.passwords import PasswordHash
from fastapi_userkit.policy import PasswordPolicy


@dataclass(frozen=True, slots=True)
class Accounts:
    """Every account operation of one kit, grouped by concept."""

    users: StoreFactory
    credentials: Credentials
    sessions: LoginSessions
    login: Login
    registration: Registration
    passwords: Passwords
    reset: PasswordReset
    verification: Verification
    emails: EmailChange
    profile: Profile
    deletion: Deletion
    administration: Administration
    roles: Roles
    hooks: UserKitHooks
    factors: SecondFactors | None = None
    """The second factors, when `mfa_enabled` is on."""


def build_accounts(
    *,
    database: Database,
    users: StoreFactory,
    parse_id: Callable[[str], Any],
    user_model: type[Any],
    hashing: PasswordHash,
    policy: PasswordPolicy,
    throttle: Throttle,
    access_tokens: AccessTokenCodec,
    action_tokens: ActionTokenCodec,
    session_store: SessionStoreProvider,
    mail: AccountMail,
    hooks: UserKitHooks,
    session_ttl: int,
    refresh_ttl: int,
    token_ttls: dict[Purpose, int],
    prevent_enumeration: bool,
    require_verified: bool,
    direct_read: AuthenticationRead | None = None,
    factors: SecondFactors | None = None,
) -> Accounts:
    """Wire the operations together from the kit's parts."""
    credentials = Credentials(hashing, policy, throttle)
    sessions = LoginSessions(
        access_tokens=access_tokens,
        store=session_store,
        users=users,
        parse_id=parse_id,
        user_model=user_model,
        hooks=hooks,
        session_ttl=session_ttl,
        refresh_ttl=refresh_ttl,
        direct_read=direct_read,
    )
    tokens = EmailedTokens(action_tokens, users, parse_id, token_ttls)
    passwords = Passwords(credentials, sessions, users, mail, hooks)
    emails = EmailChange(users, tokens, credentials, mail, hooks)
    deletion = Deletion(users, credentials, sessions, mail, hooks, factors)
    return Accounts(
        users=users,
        credentials=credentials,
        sessions=sessions,
        login=Login(
            users,
            credentials,
            sessions,
            throttle,
            hooks,
            require_verified=require_verified,
            factors=factors,
        ),
        registration=Registration(
            users, credentials, throttle, mail, hooks, prevent_enumeration=prevent_enumeration
        ),
        passwords=passwords,
        reset=PasswordReset(users, tokens, credentials, sessions, throttle, mail, hooks),
        verification=Verification(users, tokens, throttle, mail, hooks),
        emails=emails,
        profile=Profile(credentials, emails, passwords, hooks),
        deletion=deletion,
        administration=Administration(
            users, parse_id, credentials, emails, passwords, sessions, deletion, hooks
        ),
        roles=Roles(database, users, parse_id, hooks),
        hooks=hooks,
        factors=factors,
    )
