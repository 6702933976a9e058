"""Password policy: each rule reports its reason, and every reason is returned.

Rules are small synchronous functions; validators are coroutines for checks that
need I/O, such as a breached-password service. `PasswordPolicy.check` runs all of
them and raises one `InvalidPasswordError` listing every reason.
"""

import gzip
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Sequence
from functools import cache
from importlib import resources

from fastapi_userkit.exceptions import InvalidPasswordError

PasswordRule = Callable[[str, str | None], str | None]
"""A rule takes the password and the account's e-mail (when known) and returns
why the password is refused, or `None`."""

PasswordValidator = Callable[[str, str | None], Awaitable[list[str]]]
"""An async validator takes the password and the account's e-mail (when known)
and returns every reason the password is refused (empty when accepted)."""

MIN_LOCAL_PART = 3
"""Shortest e-mail local part that a password may not contain."""


def fold(text: str) -> str:
    """Return *text* NFKC-normalised and case-folded, for case-insensitive matching."""
    return unicodedata.normalize("NFKC", text).casefold()


@cache
def common_passwords() -> frozenset[str]:
    """Return the bundled list of the 20,000 most common passwords, case-folded.

    The list (`fastapi_userkit/data/common_passwords.txt.gz`, see `data/NOTICE`)
    is read on the first call only, then kept.
    """
    source = resources.files("fastapi_userkit.data") / "common_passwords.txt.gz"
    return frozenset(gzip.decompress(source.read_bytes()).decode("utf-8").splitlines())


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


def email_rule(password: str, email: str | None = None) -> str | None:
    """Refuse the e-mail address itself, or a password containing its local part.

    The local part (before the last `@`) counts only when it has at least three
    characters. Comparisons are NFKC-normalised and case-insensitive.
    """
    if not email:
        return None
    folded, address = fold(password), fold(email)
    if folded == address:
        return "Password must not be your e-mail address."
    local = address.rpartition("@")[0]
    if len(local) >= MIN_LOCAL_PART and local in folded:
        return "Password must not contain the part of your e-mail address before the @."
    return None


def common_password_rule(words: Collection[str]) -> PasswordRule:
    """Refuse passwords whose NFKC-case-folded form is in *words*.

    Args:
        words: Case-folded passwords to refuse, e.g. `common_passwords()`.
    """

    def rule(password: str, email: str | None = None) -> str | None:
        if fold(password) in words:
            return "Password is too common: it is one of the most used passwords."
        return None

    return rule


def _class_rule(present: Callable[[str], bool], name: str) -> PasswordRule:
    def rule(password: str, email: str | None = None) -> str | None:
        if any(present(c) for c in unicodedata.normalize("NFKC", password)):
            return None
        return f"Password must contain {name}."

    return rule


def composition_rules(
    *, lower: bool = False, upper: bool = False, digit: bool = False, symbol: bool = False
) -> list[PasswordRule]:
    """One rule per required character class, so each missing class is its own reason.

    NIST SP 800-63B advises against composition rules; they are all off by default.

    Args:
        lower: Require a lower-case letter.
        upper: Require an upper-case letter.
        digit: Require a digit.
        symbol: Require a symbol: any character that is not a letter or a digit
            (a space counts).
    """
    classes: list[tuple[bool, Callable[[str], bool], str]] = [
        (lower, str.islower, "a lower-case letter"),
        (upper, str.isupper, "an upper-case letter"),
        (digit, str.isdigit, "a digit"),
        (symbol, lambda c: not c.isalnum(), "a symbol (a character other than a letter or digit)"),
    ]
    return [_class_rule(present, name) for wanted, present, name in classes if wanted]


class PasswordPolicy:
    """Rules and async validators applied together.

    Args:
        rules: Rules to apply in order; all of them run, so the user sees every
            reason at once.
        validators: Async validators run after the rules, in order, whatever the
            rules found. An exception they raise propagates (the request fails).
    """

    def __init__(
        self, rules: Sequence[PasswordRule], *, validators: Sequence[PasswordValidator] = ()
    ) -> None:
        self.rules = tuple(rules)
        self.validators = tuple(validators)

    @classmethod
    def default(
        cls,
        *,
        min_length: int = 8,
        max_length: int = 128,
        common_list: bool = True,
        require_lower: bool = False,
        require_upper: bool = False,
        require_digit: bool = False,
        require_symbol: bool = False,
        validators: Sequence[PasswordValidator] = (),
    ) -> "PasswordPolicy":
        """The default policy, as the kit's settings describe it.

        Length bounds, no whitespace-only password, not the e-mail address nor its
        local part, not a bundled common password (unless *common_list* is false;
        the list is loaded here), and the composition rules asked for.

        Args:
            min_length: Shortest password accepted, in characters.
            max_length: Longest password accepted, in characters.
            common_list: Refuse the bundled common passwords.
            require_lower: Require a lower-case letter.
            require_upper: Require an upper-case letter.
            require_digit: Require a digit.
            require_symbol: Require a character that is not a letter or digit.
            validators: Async validators, e.g. a breached-password service.
        """
        rules = [length_rule(min_length, max_length), not_blank_rule, email_rule]
        if common_list:
            rules.append(common_password_rule(common_passwords()))
        rules += composition_rules(
            lower=require_lower, upper=require_upper, digit=require_digit, symbol=require_symbol
        )
        return cls(rules, validators=validators)

    async def reasons(self, password: str, email: str | None = None) -> list[str]:
        """Return every reason *password* is refused; empty when it is accepted."""
        found = [r for rule in self.rules if (r := rule(password, email)) is not None]
        for validator in self.validators:
            found += await validator(password, email)
        return found

    async def check(self, password: str, email: str | None = None) -> None:
        """Raise `InvalidPasswordError` with every reason when *password* is refused.

        Raises:
            InvalidPasswordError: a rule or validator refused the password.
        """
        reasons = await self.reasons(password, email)
        if reasons:
            raise InvalidPasswordError(reasons)
