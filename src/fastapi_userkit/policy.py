"""Password policy: each rule reports its reasons, and every reason is returned.

Rules are small synchronous functions; validators are coroutines for checks that
need I/O, such as a breached-password service. `PasswordPolicy.check` runs all of
them and raises one `InvalidPasswordError` listing every reason. The pattern
detection behind `predictable_rule` lives in `fastapi_userkit._patterns`.
"""

import gzip
import string
import unicodedata
from collections.abc import Awaitable, Callable, Collection, Sequence
from functools import cache
from importlib import resources
from types import MappingProxyType

from fastapi_userkit._patterns import Piece, decompose
from fastapi_userkit.exceptions import InvalidPasswordError

__all__ = [
    "MIN_LOCAL_PART",
    "MIN_UNPREDICTABLE",
    "PasswordPolicy",
    "PasswordRule",
    "PasswordValidator",
    "common_password_rule",
    "common_passwords",
    "composition_rules",
    "email_rule",
    "fold",
    "length_rule",
    "not_blank_rule",
    "predictable_rule",
]

PasswordRule = Callable[[str, str | None], str | list[str] | None]
"""A rule takes the password and the account's e-mail (when known) and returns
why the password is refused: one reason, or a list of reasons for a rule that
checks several things. `None` (or an empty list) accepts the password."""

PasswordValidator = Callable[[str, str | None], Awaitable[list[str]]]
"""An async validator takes the password and the account's e-mail (when known)
and returns every reason the password is refused (empty when accepted)."""

MIN_LOCAL_PART = 3
"""Shortest e-mail local part that a password may not contain."""

MIN_UNPREDICTABLE = 4
"""Fewest characters that must be left once the predictable pieces are removed."""

# One reason per kind of piece, so the user learns what to avoid; none quotes the
# password, since reasons may end up in logs.
_PREDICTABLE_REASONS = MappingProxyType(
    {
        Piece.REPETITION: "Password must not be built from repeated characters or words "
        "such as 'aaaa' or 'abcabc'.",
        Piece.SEQUENCE: "Password must not be built from sequences of letters or digits "
        "such as 'abcd' or '4321'.",
        Piece.KEYBOARD: "Password must not be built from keyboard patterns such as 'qwerty'.",
        Piece.YEAR: "Password must not be built from years such as '2024'.",
        Piece.CONTEXT: "Password must not contain the name of this service.",
    }
)
_COMMON_WITH_PATTERNS = (
    "Password is too common: it is one of the most used passwords "
    "with predictable characters added."
)


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
    """Refuse passwords outside *minimum*..*maximum* characters, counted both as
    typed (code points, as the `minLength`/`maxLength` the schema publishes count
    them) and after NFKC, which can lengthen (`ﬀ` is `ff`) or shorten a password.
    """

    def rule(password: str, email: str | None = None) -> str | None:
        lengths = (len(password), len(unicodedata.normalize("NFKC", password)))
        if min(lengths) < minimum:
            return f"Password must be at least {minimum} characters long."
        if max(lengths) > maximum:
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


def predictable_rule(words: Collection[str], context_words: Sequence[str] = ()) -> PasswordRule:
    """Refuse passwords that are mostly predictable pieces (NIST SP 800-63B).

    The NFKC-case-folded password is scanned left to right, and the longest
    predictable piece at each position is removed: a run of one character
    repeated (3 or more), an ascending or descending sequence of letters or
    digits (3 or more, such as `abc`, `4321` or `7890`), a keyboard walk on a US
    QWERTY keyboard (4 keys or more, each next to the previous one, diagonals and
    shifted symbols included, without going straight back), a year from 1900 to
    2099, or one of *context_words*. A password that is a repetition of a shorter
    unit (`hellohello`) is judged by its unit.

    The password is refused when fewer than `MIN_UNPREDICTABLE` characters are
    left, whitespace not counted, or when what is left is in *words*, as it is or
    without the punctuation at its ends. The reasons are one per kind of piece
    found, then one saying that the password is too common when what is left is.

    A password without any such piece, one that is in *words* as a whole, and
    one made only of whitespace are left to the other rules (`length_rule`,
    `common_password_rule`, `not_blank_rule`), so that no reason is given twice.

    Args:
        words: Case-folded common passwords, e.g. `common_passwords()`.
        context_words: Words specific to the service, such as its name; matched
            case-insensitively, and only when 3 characters or longer.
    """
    context = tuple(fold(word) for word in context_words)

    def rule(password: str, email: str | None = None) -> list[str]:
        folded = fold(password)
        if not folded.strip() or folded in words:
            return []
        found = decompose(folded, context)
        if not found.pieces:
            return []
        rest = "".join(found.rest.split())
        # separators left around the pieces (`password-2024!`) do not make a
        # common password any less common
        common = rest in words or rest.strip(string.punctuation) in words
        if len(rest) >= MIN_UNPREDICTABLE and not common:
            return []
        reasons = [_PREDICTABLE_REASONS[piece] for piece in found.pieces]
        return [*reasons, _COMMON_WITH_PATTERNS] if common else reasons

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
        lengths: The shortest and longest password the rules accept, when known:
            published in the API's schema, so clients (and fuzzers) can tell.
    """

    def __init__(
        self,
        rules: Sequence[PasswordRule],
        *,
        validators: Sequence[PasswordValidator] = (),
        lengths: tuple[int, int] | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.validators = tuple(validators)
        self.lengths = lengths

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
        context_words: Sequence[str] = (),
        validators: Sequence[PasswordValidator] = (),
    ) -> "PasswordPolicy":
        """The default policy, as the kit's settings describe it.

        Length bounds, no whitespace-only password, not the e-mail address nor its
        local part, not a bundled common password nor one made mostly of
        predictable pieces (unless *common_list* is false; the list is loaded
        here), and the composition rules asked for.

        Args:
            min_length: Shortest password accepted, in characters.
            max_length: Longest password accepted, in characters.
            common_list: Refuse the bundled common passwords.
            require_lower: Require a lower-case letter.
            require_upper: Require an upper-case letter.
            require_digit: Require a digit.
            require_symbol: Require a character that is not a letter or digit.
            context_words: Words specific to the service, such as its name, that
                count as predictable (see `predictable_rule`).
            validators: Async validators, e.g. a breached-password service.
        """
        rules = [length_rule(min_length, max_length), not_blank_rule, email_rule]
        if common_list:
            words = common_passwords()
            rules += [common_password_rule(words), predictable_rule(words, context_words)]
        rules += composition_rules(
            lower=require_lower, upper=require_upper, digit=require_digit, symbol=require_symbol
        )
        return cls(rules, validators=validators, lengths=(min_length, max_length))

    async def reasons(self, password: str, email: str | None = None) -> list[str]:
        """Return every reason *password* is refused; empty when it is accepted."""
        found: list[str] = []
        for rule in self.rules:
            reasons = rule(password, email)
            if isinstance(reasons, str):
                found.append(reasons)
            elif reasons is not None:
                found += reasons
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
