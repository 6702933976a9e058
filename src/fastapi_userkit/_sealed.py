"""Secrets at rest: TOTP secrets sealed with AES-256-GCM, recovery codes hashed
with a keyed hash. Needs the `cryptography` package (the `[mfa]` extra).

Each configured key (the current one first, then older ones) is stretched with
HKDF-SHA256 into one key for sealing and one for hashing. A sealed value names
the key that sealed it (the first 8 hex digits of a digest of that key), and its
associated data is the owner's user id, so a value copied to another user's row
does not open. Old keys open what they sealed; `SecretBox.opened` says when a
value should be sealed again with the current key.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fastapi_userkit.exceptions import ConfigurationError

_VERSION = "v1"
_NONCE_BYTES = 12


def _derive(material: bytes, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"fastapi-userkit second factors",
        info=purpose,
    ).derive(material)


@dataclass(frozen=True, slots=True)
class _Key:
    id: str
    seal: AESGCM
    mac: bytes


class SecretBox:
    """Seals and opens small secrets, and hashes recovery codes.

    Args:
        keys: Key material, the current key first; each at least 32 bytes.
    """

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ConfigurationError("second factors need an encryption key")
        self._keys = [
            _Key(
                id=hashlib.sha256(b"userkit-key-id:" + material).hexdigest()[:8],
                seal=AESGCM(_derive(material, b"seal")),
                mac=_derive(material, b"recovery-code"),
            )
            for material in keys
        ]

    def __repr__(self) -> str:
        return f"SecretBox(keys={len(self._keys)})"

    def seal(self, plaintext: str, owner: str) -> str:
        """*plaintext* encrypted for the user *owner* with the current key."""
        key = self._keys[0]
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = key.seal.encrypt(nonce, plaintext.encode(), owner.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{_VERSION}:{key.id}:{body}"

    def opened(self, value: str, owner: str) -> tuple[str, bool]:
        """Open *value*, sealed for *owner*; return the plaintext and whether it was
        sealed with an older key.

        Raises:
            ValueError: malformed, sealed for another user, or by no known key.
        """
        version, key_id, body = [*value.split(":", 2), "", ""][:3]
        if version != _VERSION:
            raise ValueError("unknown sealed format")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise ValueError("malformed sealed value") from exc
        for index, key in enumerate(self._keys):
            if key.id != key_id:
                continue
            try:
                plain = key.seal.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], owner.encode())
            except InvalidTag as exc:
                raise ValueError("sealed value does not open") from exc
            return plain.decode(), index > 0
        raise ValueError("sealed by an unknown key")

    def code_hashes(self, code: str) -> list[str]:
        """The hashes *code* may be stored under, the current key's first."""
        return [hmac.new(key.mac, code.encode(), hashlib.sha256).hexdigest() for key in self._keys]
