"""E-mail addresses: what the kit accepts, the key an account is found by, and the
skeleton that tells look-alike addresses apart.

- `validate_address` refuses what e-mail validation alone lets through: display-name
  forms (`Eve <eve@example.com>`) and local parts over 64 octets (RFC 5321 §4.5.3.1.1).
- `canonical_email` is the account key. The domain is normalised by IDNA 2008 with
  UTS #46 processing, as mail systems resolve it, so `ß` and `ς` stay distinct
  letters (`aßets.example` is not `assets.example`); the local part is normalised to
  NFKC and lower-cased (never case-folded, which would also merge `ß` with `ss`).
- `email_skeleton` is a digest of the UTS #39 confusable skeleton of the key, with
  accents and invisible characters removed too: addresses that only look alike
  (a dotless `i`, a Cyrillic `a`, a combining accent) share it.
"""

import gzip
import hashlib
import unicodedata
from functools import cache
from importlib import resources

import idna

MAX_LOCAL_PART_OCTETS = 64
"""RFC 5321 §4.5.3.1.1: the longest local part, in octets."""

# Characters that render as nothing (Hangul fillers are letters that show as blanks).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0")


def _split(email: str) -> tuple[str, str]:
    local, at, domain = email.rpartition("@")
    return (local, domain) if at else (email, "")


def canonical_domain(domain: str) -> str:
    """Return *domain* as its IDNA 2008 / UTS #46 U-label form, in lower case.

    A domain IDNA refuses (it cannot receive mail anyway) falls back to NFKC and
    lower case, so that a lookup never fails.
    """
    try:
        return idna.decode(idna.encode(domain, uts46=True, transitional=False))
    except (idna.IDNAError, UnicodeError, ValueError):
        return unicodedata.normalize("NFKC", domain).lower()


def canonical_email(email: str) -> str:
    """Return the key two spellings share when they name the same account.

    `Alice@Example.com`, `ALICE@example.com`, full-width look-alikes and the
    punycode form of an internationalised domain map to one key; `x@aßets.example`
    and `x@assets.example` do not. The stored `email` keeps the spelling the user
    typed.
    """
    local, at, domain = email.strip().rpartition("@")
    if not at:  # not an address (a search term, say): the local-part rule only
        local, domain = domain, ""
    key = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", local).lower())
    return f"{key}{at}{canonical_domain(domain) if at else ''}"


@cache
def _prototypes() -> dict[str, str]:
    """Source character → prototype string, from Unicode's confusables.txt
    (`fastapi_userkit/data/confusables.txt.gz`, see `data/NOTICE`), read once.
    """
    source = resources.files("fastapi_userkit.data") / "confusables.txt.gz"
    table: dict[str, str] = {}
    for line in gzip.decompress(source.read_bytes()).decode("ascii").splitlines():
        char, _, target = line.partition("\t")
        table[chr(int(char, 16))] = "".join(chr(int(c, 16)) for c in target.split())
    return table


def _shown(text: str) -> str:
    # Decompose, then drop what does not change the shape at a glance: combining
    # marks (accents), format characters (zero-width joiners, bidi controls) and fillers.
    return "".join(
        c
        for c in unicodedata.normalize("NFD", text)
        if unicodedata.category(c) not in ("Mn", "Me", "Cf") and c not in _INVISIBLE
    )


def skeleton(text: str) -> str:
    """Return the confusable skeleton of *text* (UTS #39 §4, accents removed too)."""
    prototypes = _prototypes()
    mapped = "".join(prototypes.get(c, c) for c in _shown(text))
    return _shown(mapped)


def email_skeleton(email: str) -> str:
    """Return the digest stored in `email_skeleton`: equal for addresses that look
    alike once written down, such as `alice@x-corp.com` and the same with a dotless
    `i` (U+0131) or a Cyrillic `a` (U+0430).
    """
    shape = skeleton(canonical_email(email))
    return hashlib.sha256(shape.encode("utf-8", "surrogatepass")).hexdigest()


def validate_address(email: str) -> str:
    """Refuse a display-name form or an over-long local part (`ValueError`).

    Runs on the raw input before e-mail validation, so `Eve <eve@example.com>` is
    refused instead of being stored as `eve@example.com`.
    """
    if any(c in email for c in "<>"):
        raise ValueError("must be a bare address such as alice@example.com, without a name")
    local, _ = _split(email.strip())
    if len(local.encode("utf-8", "surrogatepass")) > MAX_LOCAL_PART_OCTETS:
        raise ValueError(f"the part before the @ must be at most {MAX_LOCAL_PART_OCTETS} bytes")
    return email
