"""Every error fastapi-userkit raises on purpose, in one tree.

None of these know about HTTP: `fastapi_userkit.errors` translates them into
status codes and stable error codes, in one table.

```
UserKitError
├── ConfigurationError          raised while the kit is set up, never during a request
├── UserAlreadyExistsError      the canonical e-mail is taken
│   └── LookAlikeEmailError     another account's address looks the same (UTS #39 skeleton)
├── InvalidPasswordError        the password policy refused a password (every reason)
├── InvalidCredentialsError     unknown e-mail, wrong password or inactive user: one type on purpose
├── UnverifiedLoginError        verified logins are required and the address is not verified
├── WrongPasswordError          the current password given to confirm a change is wrong
├── BadTokenError               any token that cannot be trusted, whatever the cause
│   └── RefreshTokenReuseError  a spent refresh token came back; its session is revoked
├── AlreadyVerifiedError        the address is verified already
├── UserNotFoundError           a lookup by id found nothing
├── SessionNotFoundError        no live login session of the user has this id
├── LastSuperuserError          the change would leave no active superuser
├── SelfLockoutError            an admin would remove their own admin rights or account
├── RoleNotFoundError           no role has the given name
├── RoleAlreadyExistsError      the role name is taken
├── InsufficientScopeError      the caller lacks a scope the operation needs
├── SecondFactorRequiredError   the password was right; the login needs a second factor
├── BadChallengeError           an unknown, expired or spent second-factor challenge
├── WrongCodeError              a wrong, replayed or missing one-time or recovery code
├── SecondFactorStateError      the user has a second factor already, or has none
├── PasskeyNotFoundError        the user has no passkey with the given id
├── TooManyRequestsError        a rate limit is reached
├── UnavailableError            a back-end cannot be reached; nothing was done
│   ├── SessionStoreUnavailableError
│   └── RateLimiterUnavailableError
└── MailDeliveryError           the mail server refused or could not be reached
```
"""

from typing import Any

__all__ = [
    "AlreadyVerifiedError",
    "BadChallengeError",
    "BadTokenError",
    "ConfigurationError",
    "InsufficientScopeError",
    "InvalidCredentialsError",
    "InvalidPasswordError",
    "LastSuperuserError",
    "LookAlikeEmailError",
    "MailDeliveryError",
    "PasskeyNotFoundError",
    "RateLimiterUnavailableError",
    "RefreshTokenReuseError",
    "RoleAlreadyExistsError",
    "RoleNotFoundError",
    "SecondFactorRequiredError",
    "SecondFactorStateError",
    "SelfLockoutError",
    "SessionNotFoundError",
    "SessionStoreUnavailableError",
    "TooManyRequestsError",
    "UnavailableError",
    "UnverifiedLoginError",
    "UserAlreadyExistsError",
    "UserKitError",
    "UserNotFoundError",
    "WrongCodeError",
    "WrongPasswordError",
]


class UserKitError(Exception):
    """Base class of every error fastapi-userkit raises on purpose."""


class ConfigurationError(UserKitError):
    """The kit's configuration is unusable; the message says what to change."""


class UserAlreadyExistsError(UserKitError):
    """A user with the same canonical e-mail address already exists."""


class LookAlikeEmailError(UserAlreadyExistsError):
    """Another account's address looks like this one once written down (a dotless
    `i` for an `i`, a Cyrillic `a` for a Latin one): the two would be mistaken for
    each other. A subclass of `UserAlreadyExistsError`, so code that handles a taken
    address refuses it too.
    """


class InvalidPasswordError(UserKitError):
    """The password policy refused a password.

    Attributes:
        reasons: Every rule the password broke, as human-readable sentences.
    """

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class InvalidCredentialsError(UserKitError):
    """The e-mail/password pair does not identify an active user.

    Attributes:
        user_id: The account the address names, when there is one (wrong password
            or inactive user), for the security log; never shown to the client.
    """

    def __init__(self, *args: object, user_id: str | None = None) -> None:
        super().__init__(*args)
        self.user_id = user_id


class UnverifiedLoginError(UserKitError):
    """The credentials are right, but verified logins are required and the user's
    address is not verified yet.
    """


class WrongPasswordError(UserKitError):
    """The current password given to confirm a sensitive change is missing or wrong."""


class BadTokenError(UserKitError):
    """A token is malformed, expired, of the wrong kind or signed with a foreign key."""


class RefreshTokenReuseError(BadTokenError):
    """A refresh token that was already rotated was presented again; its session
    has been revoked.

    Attributes:
        session: The revoked `LoginSession`.
    """

    def __init__(self, session: Any) -> None:
        super().__init__("refresh token reused; session revoked")
        self.session = session


class AlreadyVerifiedError(UserKitError):
    """The address a verification token is for is verified already."""


class UserNotFoundError(UserKitError):
    """No user has the given id."""


class SessionNotFoundError(UserKitError):
    """No live login session of the user has the given id."""


class LastSuperuserError(UserKitError):
    """The change would demote, deactivate or delete the last active superuser."""


class SelfLockoutError(UserKitError):
    """Through the admin routes, an admin would take away their own superuser flag,
    their own `users:admin` scope, their own active status or their own account.
    Another admin, or the `userkit` command, can still do it.
    """


class RoleNotFoundError(UserKitError):
    """No role has the given name."""


class RoleAlreadyExistsError(UserKitError):
    """A role with the given name exists already."""


class InsufficientScopeError(UserKitError):
    """The caller lacks a scope the operation needs (an admin who is not a superuser
    grants, revokes or defines a role with scopes they do not hold themselves, or
    changes a superuser's account).

    Attributes:
        scopes: The scopes the operation needs.
    """

    def __init__(self, scopes: tuple[str, ...]) -> None:
        super().__init__(f"needs the scopes: {' '.join(scopes)}" if scopes else "needs a superuser")
        self.scopes = scopes


class SecondFactorRequiredError(UserKitError):
    """The password was right and the user has a second factor: the login goes on
    at `.../login/mfa` with *challenge* and a code. Not a failure.

    Attributes:
        challenge: The single-purpose challenge token (never an access token).
        expires_in: Its lifetime in seconds.
        methods: The kinds of code the user can give (`totp`, `recovery_code`).
    """

    def __init__(self, challenge: str, expires_in: int, methods: tuple[str, ...]) -> None:
        super().__init__("a second factor is needed")
        self.challenge = challenge
        self.expires_in = expires_in
        self.methods = methods


class BadChallengeError(UserKitError):
    """A second-factor challenge that is unknown, expired, spent (its login
    completed, or another code was used since), or whose user changed or is gone.
    """


class WrongCodeError(UserKitError):
    """A one-time or recovery code that is wrong, used already, or missing where
    the user's second factor is required.

    Attributes:
        missing: No code was given at all.
    """

    def __init__(self, *, missing: bool = False) -> None:
        super().__init__("a code is required" if missing else "wrong or spent code")
        self.missing = missing


class SecondFactorStateError(UserKitError):
    """The operation does not fit the user's second factors: enrolling when one is
    enabled already (`enabled=True`), or confirming, disabling or regenerating
    codes without one (`enabled=False`).
    """

    def __init__(self, *, enabled: bool) -> None:
        super().__init__("a second factor is enabled already" if enabled else "no second factor")
        self.enabled = enabled


class PasskeyNotFoundError(UserKitError):
    """The user has no passkey with the given credential id."""


class TooManyRequestsError(UserKitError):
    """A rate limit is reached.

    Attributes:
        retry_after: Seconds until the limit's window ends.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached; retry after {retry_after} s")
        self.retry_after = retry_after


class UnavailableError(UserKitError):
    """A back-end the request needs cannot be reached; nothing was done."""


class SessionStoreUnavailableError(UnavailableError):
    """The session store cannot be reached; requests fail closed (503)."""


class RateLimiterUnavailableError(UnavailableError):
    """The shared rate limiter cannot be reached; requests are refused rather than
    let through unlimited (503).
    """


class MailDeliveryError(UserKitError):
    """The SMTP server could not be reached, refused the login or refused the message.

    The message names the server and the cause, never the password.
    """
