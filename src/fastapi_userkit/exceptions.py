"""Domain errors raised by fastapi-userkit.

None of these know about HTTP: the routers translate them into status codes and
stable error codes (see `fastapi_userkit.errors`).

```
UserKitError
├── ConfigurationError        raised while the kit is set up, never during a request
├── UserAlreadyExistsError    the canonical e-mail is taken
│   └── LookAlikeEmailError   another account's address looks the same (UTS #39 skeleton)
├── InvalidPasswordError      the password policy refused a password (every reason)
├── InvalidCredentialsError   unknown e-mail, wrong password or inactive user: one type on purpose
├── BadTokenError             any token that cannot be trusted, whatever the cause
├── UserNotFoundError         a lookup by id found nothing
└── LastSuperuserError        the change would leave no active superuser
```
"""


class UserKitError(Exception):
    """Base class of every error fastapi-userkit raises on purpose."""


class ConfigurationError(UserKitError):
    """The kit's configuration is unusable; the message says what to change."""


class UserAlreadyExistsError(UserKitError):
    """A user with the same canonical e-mail address already exists."""


class LookAlikeEmailError(UserAlreadyExistsError):
    """Another account's address looks like this one once written down (a dotless
    `i` for an `i`, a Cyrillic `a` for a Latin one): the two would be mistaken for
    each other. A subclass of
    `UserAlreadyExistsError`, so code that handles a taken address refuses it too.
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
    """The e-mail/password pair does not identify an active user."""


class BadTokenError(UserKitError):
    """A token is malformed, expired, of the wrong kind or signed with a foreign key."""


class UserNotFoundError(UserKitError):
    """No user has the given id."""


class LastSuperuserError(UserKitError):
    """The change would demote, deactivate or delete the last active superuser."""
