"""Password policy: each rule reports its reason, and every reason is returned."""

import unicodedata
from collections.abc import Callable, Sequence

from fastapi_userkit.exceptions import InvalidPasswordError

PasswordRule = Callable[[str, str | None], str | None]
"""A rule takes the password and the account's e-mail (when known) and returns
why the password is refused, or `None`."""


def length_rule(minimum: int, maximum: int) -> PasswordRule:
    """Refuse passwords outside *minimum*..*maximum* characters (after NFKC)."""

    def rule(password: str, email: str | None = None) -> str | None:
        length = len(unicodedata.normalize("NFKC", password))
        if length < minimum:
            return f"Password must be at least {minimum} characters long."
        if length > maximum:
            return f"Password must be at most {maximum} characters long."
        return None

    return rule


def not_blank_rule(password: str, email: str | None = None) -> str | None:
    """Refuse passwords made only of whitespace."""
    if password.strip() == "":
        return "Password must not consist only of whitespace."
    return None


class PasswordPolicy:
    """A list of rules applied together.

    Args:
        rules: Rules to apply in order; all of them run, so the user sees every
            reason at once.
    """

    def __init__(self, rules: Sequence[PasswordRule]) -> None:
        self.rules = tuple(rules)

    @classmethod
    def default(cls, *, min_length: int = 8, max_length: int = 128) -> "PasswordPolicy":
        """The default policy: length bounds and no whitespace-only passwords."""
        return cls([length_rule(min_length, max_length), not_blank_rule])

    def reasons(self, password: str, email: str | None = None) -> list[str]:
        """Return every reason *password* is refused; empty when it is accepted."""
        return [r for rule in self.rules if (r := rule(password, email)) is not None]

    def check(self, password: str, email: str | None = None) -> None:
        """Raise `InvalidPasswordError` with every reason when *password* is refused."""
        reasons = self.reasons(password, email)
        if reasons:
            raise InvalidPasswordError(reasons)
