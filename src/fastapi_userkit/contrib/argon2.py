"""Argon2 password hashes (extra `[argon2]`), as written by fastapi-users and pwdlib.

With argon2-cffi installed (`pip install "fastapi-userkit[argon2]"`), the kit
verifies `$argon2id$...` hashes next to its own and upgrades them to the current
hasher on the next successful login. Without it, those users cannot log in until
they reset their password.
"""

from typing import TYPE_CHECKING

from fastapi_userkit.passwords import PasswordHasher

if TYPE_CHECKING:
    import argon2

__all__ = [
    "Argon2Hasher",
]

_PREFIX = "$argon2"


def _encode(password: str) -> bytes:
    # UTF-8, as argon2-cffi and pwdlib encode a str; a lone surrogate (which they
    # could never have hashed) must not raise.
    return password.encode("utf-8", "surrogatepass")


class Argon2Hasher(PasswordHasher):
    """Argon2 through argon2-cffi: verifies `$argon2i$`, `$argon2d$` and `$argon2id$`
    hashes and writes argon2id ones.

    The kit adds one after its bcrypt hashers when argon2-cffi is installed, to
    verify (and so upgrade) hashes another library wrote; it can write hashes too.

    Args:
        hasher: A configured `argon2.PasswordHasher`; argon2-cffi's defaults
            (RFC 9106 low-memory profile) when omitted. `needs_rehash()` compares
            a hash with its parameters.

    Raises:
        ImportError: argon2-cffi is not installed.
    """

    def __init__(self, hasher: "argon2.PasswordHasher | None" = None) -> None:
        try:
            import argon2
            from argon2 import exceptions
        except ImportError as exc:
            raise ImportError(
                'Argon2Hasher needs argon2-cffi: pip install "fastapi-userkit[argon2]"'
            ) from exc
        self._hasher = hasher if hasher is not None else argon2.PasswordHasher()
        # VerifyMismatchError is a VerificationError; InvalidHashError (a malformed
        # hash) and UnsupportedParametersError are ValueErrors.
        self._failures: tuple[type[Exception], ...] = (exceptions.VerificationError, ValueError)

    def identify(self, hashed: str) -> bool:  # noqa: D102 - documented on the protocol
        return hashed.startswith(_PREFIX)

    def hash(self, password: str) -> str:  # noqa: D102
        return self._hasher.hash(_encode(password))

    def verify(self, password: str, hashed: str) -> bool:  # noqa: D102
        if not self.identify(hashed):
            return False
        try:
            return self._hasher.verify(hashed, _encode(password))
        except self._failures:
            return False

    def needs_rehash(self, hashed: str) -> bool:  # noqa: D102
        try:
            return self._hasher.check_needs_rehash(hashed)
        except self._failures:
            return True
