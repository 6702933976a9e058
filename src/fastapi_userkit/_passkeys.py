"""Passkeys (WebAuthn Level 3) through the `webauthn` package (the `[mfa]` extra):
the options a browser needs, and the checks of what it sends back.

The relying party is the site: its id (a registrable domain such as `example.com`)
and the origins its pages are served from. Credentials are registered as
discoverable (`residentKey: required`) with user verification, so that one works
both as a second factor and for a passwordless login. Attestation is not asked
for: the kit trusts the user's choice of authenticator, as the browsers' passkey
managers expect.
"""

import json
import secrets
from dataclasses import dataclass
from typing import Any

from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from fastapi_userkit.exceptions import WrongCodeError

CHALLENGE_BYTES = 32
MAX_CREDENTIAL_ID_BYTES = 256


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """The site passkeys are registered for."""

    id: str
    name: str
    origins: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewPasskey:
    """A verified registration."""

    credential_id: str
    public_key: str
    sign_count: int
    transports: str


def decoded(text: str) -> bytes:
    """*text* (base64url) as bytes."""
    return base64url_to_bytes(text)


def new_challenge() -> tuple[bytes, str]:
    """A fresh random challenge, as bytes and base64url."""
    raw = secrets.token_bytes(CHALLENGE_BYTES)
    return raw, bytes_to_base64url(raw)


def _transports(text: str) -> list[AuthenticatorTransport]:
    known = {t.value: t for t in AuthenticatorTransport}
    return [known[name] for name in text.split(",") if name in known]


def registration_options(
    party: RelyingParty,
    *,
    user_id: str,
    user_name: str,
    challenge: bytes,
    existing: list[tuple[str, str]],
) -> dict[str, Any]:
    """The `PublicKeyCredentialCreationOptions` (JSON) for a new passkey of a user,
    excluding the credentials (id, transports) they have.
    """
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=party.name,
        user_id=user_id.encode(),
        user_name=user_name,
        user_display_name=user_name,
        challenge=challenge,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(credential), transports=_transports(transports)
            )
            for credential, transports in existing
        ],
    )
    return json.loads(options_to_json(options))  # type: ignore[no-any-return]


def authentication_options(
    party: RelyingParty, *, challenge: bytes, allowed: list[tuple[str, str]]
) -> dict[str, Any]:
    """The `PublicKeyCredentialRequestOptions` (JSON): any discoverable credential
    of the site when *allowed* is empty, else these (id, transports).
    """
    options = generate_authentication_options(
        rp_id=party.id,
        challenge=challenge,
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(credential), transports=_transports(transports)
            )
            for credential, transports in allowed
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return json.loads(options_to_json(options))  # type: ignore[no-any-return]


def verify_registration(
    party: RelyingParty, credential: dict[str, Any], challenge: bytes
) -> NewPasskey:
    """Check a registration response.

    Raises:
        WrongCodeError: it does not verify (wrong challenge, origin or RP id, no user
            verification, a malformed or too long credential).
    """
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=party.id,
            expected_origin=list(party.origins),
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise WrongCodeError() from exc
    if len(verified.credential_id) > MAX_CREDENTIAL_ID_BYTES:
        raise WrongCodeError()
    response = credential.get("response")
    reported = (response.get("transports") if isinstance(response, dict) else None) or []
    known = {t.value for t in AuthenticatorTransport}
    transports = ",".join(t for t in reported if isinstance(t, str) and t in known)
    return NewPasskey(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=bytes_to_base64url(verified.credential_public_key),
        sign_count=verified.sign_count,
        transports=transports[:255],
    )


def credential_id_of(credential: dict[str, Any]) -> str | None:
    """The id an assertion names, in base64url, or `None` if it names none."""
    raw = credential.get("rawId") or credential.get("id")
    if not isinstance(raw, str) or not raw or len(raw) > 344:
        return None
    try:
        return bytes_to_base64url(base64url_to_bytes(raw))
    except ValueError:
        return None


def user_handle_of(credential: dict[str, Any]) -> str | None:
    """The user handle an assertion carries (the user id it was registered for)."""
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if not isinstance(handle, str) or not handle:
        return None
    try:
        return base64url_to_bytes(handle).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def verify_assertion(
    party: RelyingParty,
    credential: dict[str, Any],
    challenge: bytes,
    *,
    public_key: str,
    sign_count: int,
) -> int:
    """Check an assertion against the stored passkey; return its new sign count.

    Raises:
        WrongCodeError: it does not verify (signature, challenge, origin, RP id,
            user verification, or a sign count that went backwards: a cloned key).
    """
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=party.id,
            expected_origin=list(party.origins),
            credential_public_key=base64url_to_bytes(public_key),
            credential_current_sign_count=sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise WrongCodeError() from exc
    return int(verified.new_sign_count)
