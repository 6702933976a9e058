"""Password hashing: pluggable hashers, run off the event loop in a bounded pool.

The default `BcryptHasher` pre-hashes the NFKC-normalised password with
HMAC-SHA256 and base64 before bcrypt, so a password of any length counts in full
(bcrypt alone reads 72 bytes and bcrypt 5 raises past them) and NUL bytes are
harmless. Hashes look like `bcrypt-sha256$$2b$12$...`.

`LegacyBcryptHasher` verifies plain `$2b$` hashes, as written by fastapi-users,
pwdlib or passlib; a successful login upgrades them to the current hasher.
"""

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import anyio
import anyio.to_thread
import bcrypt

__all__ = [
    "BcryptHasher",
    "LegacyBcryptHasher",
    "PasswordHash",
    "PasswordHasher",
]

T = TypeVar("T")

_PREHASH_KEY = b"fastapi-userkit bcrypt-sha256 v1"
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


class PasswordHasher(Protocol):
    """One hashing scheme. Its methods are synchronous and CPU-heavy: callers run
    them through `PasswordHash`, never on the event loop.
    """

    def identify(self, hashed: str) -> bool:
        """Return whether *hashed* was produced by this scheme."""
        ...

    def hash(self, password: str) -> str:
        """Return a new salted hash of *password*."""
        ...

    def verify(self, password: str, hashed: str) -> bool:
        """Return whether *password* matches *hashed*; never raise for a mismatch."""
        ...

    def needs_rehash(self, hashed: str) -> bool:
        """Return whether *hashed* uses outdated parameters of this scheme."""
        ...


def _bcrypt_cost(hashed: str) -> int | None:
    parts = hashed.split("$")
    # "$2b$12$<53 chars>" splits into ["", "2b", "12", "<salt+hash>"]
    if len(parts) != 4 or not parts[2].isdigit():
        return None
    return int(parts[2])


class BcryptHasher(PasswordHasher):
    """bcrypt over an HMAC-SHA256 pre-hash: no 72-byte limit, no truncation.

    Args:
        rounds: bcrypt cost factor (log2 of the iterations), 4 to 31.
    """

    prefix = "bcrypt-sha256$"

    def __init__(self, rounds: int = 12) -> None:
        self.rounds = rounds

    @staticmethod
    def _prehash(password: str) -> bytes:
        normalized = unicodedata.normalize("NFKC", password).encode("utf-8", "surrogatepass")
        digest = hmac.new(_PREHASH_KEY, normalized, hashlib.sha256).digest()
        return base64.b64encode(digest)

    def identify(self, hashed: str) -> bool:  # noqa: D102 - documented on the protocol
        return hashed.startswith(self.prefix)

    def hash(self, password: str) -> str:  # noqa: D102
        salt = bcrypt.gensalt(rounds=self.rounds)
        return self.prefix + bcrypt.hashpw(self._prehash(password), salt).decode("ascii")

    def verify(self, password: str, hashed: str) -> bool:  # noqa: D102
        if not self.identify(hashed):
            return False
        try:
            return bcrypt.checkpw(self._prehash(password), hashed[len(self.prefix) :].encode())
        except ValueError:
            return False

    def needs_rehash(self, hashed: str) -> bool:  # noqa: D102
        return _bcrypt_cost(hashed[len(self.prefix) :]) != self.rounds


class LegacyBcryptHasher(PasswordHasher):
    """Verifies plain bcrypt hashes (`$2a$`, `$2b$`, `$2y$`) written by other libraries.

    It never writes hashes: on a successful login the hash is upgraded to the
    current hasher. Passwords are cut at bcrypt's 72 bytes *only* to reproduce
    how such hashes were made.
    """

    def identify(self, hashed: str) -> bool:  # noqa: D102
        return hashed.startswith(_BCRYPT_PREFIXES)

    def hash(self, password: str) -> str:  # noqa: D102
        raise TypeError("LegacyBcryptHasher only verifies; it never writes new hashes")

    def verify(self, password: str, hashed: str) -> bool:  # noqa: D102
        if not self.identify(hashed):
            return False
        secret = password.encode("utf-8", "surrogatepass")[:72]
        try:
            return bcrypt.checkpw(secret, hashed.encode())
        except ValueError:
            return False

    def needs_rehash(self, hashed: str) -> bool:  # noqa: D102
        return True


class PasswordHash:
    """Hashes and verifies passwords in a thread pool bounded by *concurrency*.

    The first hasher is current and writes every new hash; the others only
    verify, and a hash they verify is reported as needing an upgrade.

    Args:
        hashers: Current hasher first, then legacy ones.
        concurrency: Most hashes running at once; the rest wait their turn.
    """

    def __init__(self, hashers: Sequence[PasswordHasher], concurrency: int) -> None:
        if not hashers:
            raise ValueError("PasswordHash needs at least one hasher")
        self.hashers = tuple(hashers)
        self.concurrency = concurrency
        self._limiter: anyio.CapacityLimiter | None = None
        self._dummy_hash: str | None = None

    @property
    def current(self) -> PasswordHasher:
        """The hasher that writes new hashes."""
        return self.hashers[0]

    async def _run(self, func: Callable[..., T], *args: str) -> T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        return await anyio.to_thread.run_sync(func, *args, limiter=self._limiter)

    async def hash(self, password: str) -> str:
        """Return a new hash of *password* with the current hasher."""
        return await self._run(self.current.hash, password)

    def _verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        for index, hasher in enumerate(self.hashers):
            if hasher.identify(hashed):
                if not hasher.verify(password, hashed):
                    return False, None
                if index == 0 and not hasher.needs_rehash(hashed):
                    return True, None
                return True, self.current.hash(password)
        return False, None

    async def verify_and_update(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """Check *password* against *hashed*.

        Returns:
            `(valid, new_hash)`: *new_hash* is set when the password is valid and
            the stored hash uses an old scheme or cost, so the caller should store it.
        """
        return await self._run(self._verify_and_update, password, hashed)

    async def dummy_verify(self, password: str) -> None:
        """Spend the time of one verification, for requests about unknown users."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("fastapi-userkit timing equaliser")
        await self._run(self.current.verify, password, self._dummy_hash)

    async def warm_up(self) -> None:
        """Prepare the dummy hash, so the first unknown-user login costs one hash."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("fastapi-userkit timing equaliser")
