"""Canonical form of e-mail addresses, used for lookups and uniqueness."""

import unicodedata


def canonical_email(email: str) -> str:
    """Return the key two addresses share when they name the same account.

    Addresses are compared after Unicode NFKC normalisation and case folding,
    so `Alice@Example.com`, `ALICE@example.COM` and full-width look-alikes map to
    one key. The stored `email` keeps the spelling the user typed.
    """
    folded = unicodedata.normalize("NFKC", email.strip()).casefold()
    return unicodedata.normalize("NFKC", folded)
