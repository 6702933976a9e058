"""Time-based one-time passwords (RFC 6238, on HOTP of RFC 4226).

The parameters are the ones every authenticator app supports: HMAC-SHA1, six
digits, 30-second steps. A code is accepted for the current step and one step
either side (clock drift), and only for a step later than the last one accepted,
so each code is usable once and an observed code cannot be replayed.
"""

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
SECRET_BYTES = 20
"""160 bits, the HMAC-SHA1 output size that RFC 4226 recommends."""


def new_secret() -> str:
    """A fresh random secret, in base32 without padding (as apps expect it)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    padded = secret.upper() + "=" * (-len(secret) % 8)
    return base64.b32decode(padded)


def code_at(secret: str, step: int) -> str:
    """The code of time step *step* (RFC 4226 §5.3 dynamic truncation)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def step_at(timestamp: float) -> int:
    """The time step of a Unix *timestamp*."""
    return int(timestamp // STEP_SECONDS)


def is_code(text: str) -> bool:
    """Whether *text* has the shape of a TOTP code (six ASCII digits)."""
    return len(text) == DIGITS and text.isascii() and text.isdigit()


def matching_step(secret: str, code: str, timestamp: float, *, after: int | None) -> int | None:
    """The time step whose code is *code*, within the drift window around
    *timestamp* and later than *after*; `None` if there is none. Every candidate is
    compared in constant time.
    """
    if not is_code(code):
        return None
    now = step_at(timestamp)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), code) and (after is None or step > after):
            found = step if found is None else found
    return found


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    """The `otpauth://` URI authenticator apps read from a QR code (the Key Uri
    Format): the label is `issuer:account`, and the issuer is repeated as a parameter.
    """
    label = quote(f"{issuer}:{account}", safe="@:")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_SECONDS,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"
