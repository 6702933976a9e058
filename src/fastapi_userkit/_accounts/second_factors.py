"""Second factors: an authenticator app (TOTP), passkeys (WebAuthn) and recovery
codes, the challenge of a two-step login, and the checks of login and
re-authentication.

Enrolment: `begin_totp` stores a new secret, unconfirmed; `confirm_totp` takes a
first code from the app, enables it and returns the recovery codes, shown once.
From then on a password login ends in a challenge (`challenge`), and the session
opens only when `Login.complete` gets a code (`spend`). Every code is spent by one
conditional write, so it works once. Removing the factors (`remove`) is for the
user (after a fresh authentication), an admin, or the `userkit` command.

Side effects, in order: the write, commit, then the e-mail notice (after the
response), the hook and the security event.
"""

import base64
import hashlib
import io
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi_userkit._accounts.audit import record
from fastapi_userkit._accounts.context import Origin
from fastapi_userkit._accounts.login_sessions import StoreFactory
from fastapi_userkit._accounts.notices import AccountMail
from fastapi_userkit._action_tokens import ActionTokenCodec, Purpose, account_state
from fastapi_userkit._totp import is_code, matching_step, new_secret, provisioning_uri
from fastapi_userkit.db.database import UnitOfWork
from fastapi_userkit.db.mfa import PasskeyRow, SQLMfaStore, TotpRow
from fastapi_userkit.events import SecurityEventName
from fastapi_userkit.exceptions import (
    BadChallengeError,
    BadTokenError,
    ConfigurationError,
    PasskeyNotFoundError,
    SecondFactorStateError,
    WrongCodeError,
)
from fastapi_userkit.hooks import UserKitHooks, run_after_hook

if TYPE_CHECKING:  # needs the [mfa] extra, imported only when second factors are on
    from fastapi_userkit._passkeys import RelyingParty
    from fastapi_userkit._sealed import SecretBox

RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz"
"""Letters only (never a six-digit TOTP code), without the look-alikes i, l and o."""
RECOVERY_LENGTH = 10
"""About 45 bits each: unguessable under the login limits, and stored keyed-hashed."""
MAX_CODE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """What the user needs to add the kit to an authenticator app."""

    secret: str
    """The base32 secret, for typing in by hand."""
    uri: str
    """The `otpauth://` provisioning URI."""
    qr_code: str
    """The URI as a QR code: an SVG image in a `data:` URI, for an `<img src>`."""


@dataclass(frozen=True, slots=True)
class FactorStatus:
    """A user's second factors."""

    totp: bool
    """An authenticator app is confirmed: logins take a code."""
    totp_pending: bool
    """An enrolment was started and not confirmed."""
    passkeys: int
    recovery_codes_left: int

    @property
    def enabled(self) -> bool:
        """Whether logins take a second factor."""
        return self.totp or self.passkeys > 0

    def methods(self) -> tuple[str, ...]:
        """The kinds of proof a login takes; empty: the password alone."""
        found = (
            ("totp", self.totp),
            ("passkey", self.passkeys > 0),
            ("recovery_code", self.enabled and self.recovery_codes_left > 0),
        )
        return tuple(name for name, present in found if present)


@dataclass(frozen=True, slots=True)
class _Found:
    """The second-factor rows of one user, as read."""

    totp: TotpRow | None
    passkeys: list[PasskeyRow]
    codes_left: int

    def status(self) -> FactorStatus:
        row = self.totp
        return FactorStatus(
            totp=row is not None and row.confirmed_at is not None,
            totp_pending=row is not None and row.confirmed_at is None,
            passkeys=len(self.passkeys),
            recovery_codes_left=self.codes_left,
        )

    def state(self, user: Any) -> str:
        """The account and second-factor state a challenge is bound to: any code
        accepted since (a later TOTP step, one recovery code fewer, a passkey's new
        challenge) spends it.
        """
        row = self.totp
        step = "" if row is None else f"{row.confirmed_at is not None}:{row.last_step}"
        used = ",".join(sorted(p.last_challenge or "" for p in self.passkeys))
        return f"{account_state(user)}\x00{step}\x00{self.codes_left}\x00{used}"


def normalized(code: str) -> str:
    """A code as typed, without spaces or dashes, in lower case."""
    return "".join(code.split()).replace("-", "").lower()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def _qr_code(uri: str) -> str:
    import segno  # the [mfa] extra

    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, border=4, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@dataclass(frozen=True, slots=True)
class SecondFactors:
    """The second factors of one kit.

    Attributes:
        users: The user store of a unit of work.
        parse_id: Turns a stored id into a user id.
        box: Seals TOTP secrets, hashes recovery codes.
        challenges: Issues and reads the login challenges.
        challenge_ttl: Their lifetime, in seconds.
        issuer: The name authenticator apps show.
        recovery_codes: How many recovery codes a user gets.
        mail: For the notices.
        hooks: For `on_after_mfa_enabled` and `on_after_mfa_disabled`.
        rp_id: The WebAuthn relying party id; `None`: the request's host.
        rp_origins: The origins passkeys are used from; empty: `https://<rp_id>`, or
            the request's own origin without *rp_id*.
    """

    users: StoreFactory
    parse_id: Callable[[str], Any]
    box: "SecretBox"
    challenges: ActionTokenCodec
    challenge_ttl: int
    issuer: str
    recovery_codes: int
    mail: AccountMail
    hooks: UserKitHooks
    rp_id: str | None = None
    rp_origins: tuple[str, ...] = ()

    @staticmethod
    def store(uow: UnitOfWork) -> SQLMfaStore:
        """The second-factor tables inside *uow*."""
        return SQLMfaStore(uow.session)

    async def _read(self, uow: UnitOfWork, user: Any) -> _Found:
        """*user*'s second-factor rows: the authenticator app, the passkeys and how
        many recovery codes are left.
        """
        store, owner = self.store(uow), str(user.id)
        return _Found(
            await store.totp(owner), await store.passkeys(owner), await store.codes_left(owner)
        )

    async def status(self, uow: UnitOfWork, user: Any) -> FactorStatus:
        """What second factors *user* has."""
        return (await self._read(uow, user)).status()

    async def methods(self, uow: UnitOfWork, user: Any) -> tuple[str, ...]:
        """The kinds of proof *user*'s login takes; empty: the password alone."""
        return (await self._read(uow, user)).status().methods()

    async def login_challenge(self, uow: UnitOfWork, user: Any) -> tuple[tuple[str, ...], str]:
        """The kinds of proof *user*'s login takes and, when there are any, the
        challenge of the second step (valid `challenge_ttl` seconds), from one read.
        """
        found = await self._read(uow, user)
        methods = found.status().methods()
        if not methods:
            return (), ""
        token = self.challenges.issue(
            Purpose.MFA_CHALLENGE,
            subject=str(user.id),
            state=found.state(user),
            ttl=self.challenge_ttl,
        )
        return methods, token

    async def challenged(self, uow: UnitOfWork, token: str) -> Any:
        """The user whose login *token* challenges.

        Raises:
            BadChallengeError: malformed, expired, foreign or spent, or its user is
                gone, inactive or changed (password, address, token version).
        """
        try:
            claims = self.challenges.read(Purpose.MFA_CHALLENGE, token)
            user = await self.users(uow).get(self.parse_id(claims.subject))
        except BadTokenError:
            raise BadChallengeError() from None
        if user is None or not user.is_active:
            raise BadChallengeError()
        state = (await self._read(uow, user)).state(user)
        if not claims.bound_to(Purpose.MFA_CHALLENGE, state):
            raise BadChallengeError()
        return user

    async def spend(
        self,
        uow: UnitOfWork,
        user: Any,
        code: str | None,
        origin: Origin,
        passkey: dict[str, Any] | None = None,
    ) -> str:
        """Check *code* (a TOTP code or a recovery code) or *passkey* (an assertion
        and its token) for *user* and spend it (written, not committed). Returns the
        method: `totp`, `recovery_code` or `passkey`.

        Raises:
            WrongCodeError: missing, wrong, or used already.
        """
        if passkey is not None:
            await self.assert_passkey(uow, passkey, origin, owner=str(user.id))
            return "passkey"
        if not code:
            raise WrongCodeError(missing=True)
        store, owner = self.store(uow), str(user.id)
        text = normalized(code)[:MAX_CODE_LENGTH]
        if is_code(text):
            row = await store.totp(owner)
            if row is None or row.confirmed_at is None:
                raise WrongCodeError()
            secret = self._open(row.secret, owner)
            step = matching_step(secret, text, time.time(), after=row.last_step)
            if step is None or not await store.spend_step(owner, step):
                raise WrongCodeError()
            await self._reseal_if_old(store, row.secret, owner)
            return "totp"
        if len(text) == RECOVERY_LENGTH and await store.spend_code(
            owner, self.box.code_hashes(text)
        ):
            return "recovery_code"
        raise WrongCodeError()

    def _open(self, sealed: str, owner: str) -> str:
        try:
            return self.box.opened(sealed, owner)[0]
        except ValueError as exc:  # the key is gone: a configuration error, not a wrong code
            raise RuntimeError(
                "a TOTP secret cannot be decrypted: is USERKIT_MFA_ENCRYPTION_KEY (or its "
                "previous value in USERKIT_PREVIOUS_MFA_ENCRYPTION_KEYS) set?"
            ) from exc

    async def _reseal_if_old(self, store: SQLMfaStore, sealed: str, owner: str) -> None:
        secret, old = self.box.opened(sealed, owner)
        if old:
            await store.reseal(owner, self.box.seal(secret, owner))

    async def begin_totp(self, uow: UnitOfWork, user: Any, origin: Origin) -> TotpEnrolment:
        """Start enrolling an authenticator app for *user* (commits); a pending
        enrolment is replaced.

        Raises:
            SecondFactorStateError: an app is enabled already (`enabled=True`).
        """
        store, owner = self.store(uow), str(user.id)
        row = await store.totp(owner)
        if row is not None and row.confirmed_at is not None:
            raise SecondFactorStateError(enabled=True)
        secret = new_secret()
        await store.start_totp(owner, self.box.seal(secret, owner))
        await uow.commit()
        uri = provisioning_uri(secret, account=user.email, issuer=self.issuer)
        return TotpEnrolment(secret=secret, uri=uri, qr_code=_qr_code(uri))

    async def confirm_totp(
        self, uow: UnitOfWork, user: Any, code: str, origin: Origin
    ) -> list[str]:
        """Enable the pending authenticator app of *user* with a first *code*,
        commit, and return the new recovery codes (shown this once).

        Raises:
            SecondFactorStateError: nothing pending (`enabled=True` when an app is
                enabled already).
            WrongCodeError: the code is wrong.
        """
        store, owner = self.store(uow), str(user.id)
        row = await store.totp(owner)
        if row is None or row.confirmed_at is not None:
            raise SecondFactorStateError(enabled=row is not None)
        secret = self._open(row.secret, owner)
        step = matching_step(secret, normalized(code), time.time(), after=None)
        if step is None:
            await record(
                self.hooks,
                origin,
                SecurityEventName.MFA_ENABLE,
                "failure",
                user=user,
                reason="invalid_code",
            )
            raise WrongCodeError()
        if not await store.confirm_totp(owner, step):
            raise SecondFactorStateError(enabled=True)
        codes = await self._new_codes(store, owner)
        await uow.commit()
        address = user.email
        origin.later.add(lambda: self.mail.second_factor_added(address))
        await run_after_hook(
            "on_after_mfa_enabled", self.hooks.on_after_mfa_enabled(user, origin.request)
        )
        await record(self.hooks, origin, SecurityEventName.MFA_ENABLE, "success", user=user)
        return codes

    async def _new_codes(self, store: SQLMfaStore, owner: str) -> list[str]:
        codes = [_new_recovery_code() for _ in range(self.recovery_codes)]
        await store.replace_codes(owner, [self.box.code_hashes(normalized(c))[0] for c in codes])
        return codes

    async def regenerate_codes(self, uow: UnitOfWork, user: Any, origin: Origin) -> list[str]:
        """Replace every recovery code of *user* with new ones, commit, and return
        them (shown this once).

        Raises:
            SecondFactorStateError: no authenticator app is enabled.
        """
        store, owner = self.store(uow), str(user.id)
        if not (await self.status(uow, user)).enabled:
            raise SecondFactorStateError(enabled=False)
        codes = await self._new_codes(store, owner)
        await uow.commit()
        await record(self.hooks, origin, SecurityEventName.RECOVERY_CODES, "success", user=user)
        return codes

    async def remove(
        self, uow: UnitOfWork, user: Any, origin: Origin, *, actor: Any = None
    ) -> None:
        """Remove every second factor of *user* (commits): their logins take the
        password alone. *actor* is the admin doing it, if not the user.

        Raises:
            SecondFactorStateError: *user* has none (`enabled=False`).
        """
        if not await self.store(uow).forget(str(user.id)):
            raise SecondFactorStateError(enabled=False)
        await uow.commit()
        address = user.email
        origin.later.add(lambda: self.mail.second_factor_removed(address))
        await run_after_hook(
            "on_after_mfa_disabled", self.hooks.on_after_mfa_disabled(user, origin.request)
        )
        await record(
            self.hooks,
            origin,
            SecurityEventName.MFA_DISABLE,
            "success",
            user=user,
            actor=actor,
            reason="admin" if actor is not None else None,
        )

    async def notify_recovery_code_used(self, uow: UnitOfWork, user: Any, origin: Origin) -> None:
        """After the response, tell the account's address that a recovery code was
        used, and how many are left.
        """
        left = await self.store(uow).codes_left(str(user.id))
        address = user.email
        origin.later.add(lambda: self.mail.recovery_code_used(address, left))

    def party(self, origin: Origin) -> "RelyingParty":
        """The WebAuthn relying party: the settings', else the request's own host.

        Raises:
            ConfigurationError: neither is known (outside a request, without
                `USERKIT_WEBAUTHN_RP_ID`).
        """
        from fastapi_userkit._passkeys import RelyingParty

        if self.rp_id is not None:
            origins = self.rp_origins or (f"https://{self.rp_id}",)
            return RelyingParty(self.rp_id, self.issuer, origins)
        if origin.request is None or origin.request.url.hostname is None:
            raise ConfigurationError("passkeys need USERKIT_WEBAUTHN_RP_ID outside a request")
        url = origin.request.url
        own = f"{url.scheme}://{url.netloc}"
        return RelyingParty(url.hostname or "", self.issuer, self.rp_origins or (own,))

    async def passkey_options(
        self, uow: UnitOfWork, user: Any | None, origin: Origin
    ) -> tuple[dict[str, Any], str]:
        """The options of a passkey assertion, and the token that carries their
        challenge: for *user*'s passkeys, or any passkey of the site without one.
        """
        from fastapi_userkit._passkeys import authentication_options, new_challenge

        raw, text = new_challenge()
        allowed = []
        if user is not None:
            allowed = [
                (row.credential_id, row.transports)
                for row in await self.store(uow).passkeys(str(user.id))
            ]
        options = authentication_options(self.party(origin), challenge=raw, allowed=allowed)
        token = self.challenges.issue(
            Purpose.PASSKEY_ASSERTION,
            subject="-",
            state="",
            ttl=self.challenge_ttl,
            challenge=text,
        )
        return options, token

    async def assert_passkey(
        self, uow: UnitOfWork, passkey: dict[str, Any], origin: Origin, *, owner: str | None
    ) -> str:
        """Verify and spend a passkey assertion (`{"token", "credential"}`), of
        *owner*'s passkeys or, with `None`, of anyone's; return the owner's id as
        stored (written, not committed).

        Raises:
            WrongCodeError: an unknown or foreign passkey, a bad token or signature,
                or an assertion used already.
        """
        from fastapi_userkit._passkeys import (
            credential_id_of,
            decoded,
            user_handle_of,
            verify_assertion,
        )

        credential = passkey.get("credential")
        token = passkey.get("token")
        if not isinstance(credential, dict) or not isinstance(token, str):
            raise WrongCodeError()
        try:
            claims = self.challenges.read(Purpose.PASSKEY_ASSERTION, token)
        except BadTokenError:
            raise WrongCodeError() from None
        if claims.challenge is None:
            raise WrongCodeError()
        store = self.store(uow)
        credential_id = credential_id_of(credential)
        row = await store.passkey(credential_id) if credential_id is not None else None
        if row is None or (owner is not None and row.user_id != owner):
            raise WrongCodeError()
        handle = user_handle_of(credential)
        if handle is not None and handle != row.user_id:
            raise WrongCodeError()
        challenge = decoded(claims.challenge)
        new_count = verify_assertion(
            self.party(origin),
            credential,
            challenge,
            public_key=row.public_key,
            sign_count=row.sign_count,
        )
        digest = hashlib.sha256(challenge).hexdigest()
        if not await store.spend_assertion(row.credential_id, row.sign_count, new_count, digest):
            raise WrongCodeError()
        return row.user_id

    async def begin_passkey(
        self, uow: UnitOfWork, user: Any, origin: Origin
    ) -> tuple[dict[str, Any], str]:
        """The options of a new passkey for *user*, and the token carrying their
        challenge (bound to *user*'s account state).
        """
        from fastapi_userkit._passkeys import new_challenge, registration_options

        raw, text = new_challenge()
        existing = [
            (row.credential_id, row.transports)
            for row in await self.store(uow).passkeys(str(user.id))
        ]
        options = registration_options(
            self.party(origin),
            user_id=str(user.id),
            user_name=user.email,
            challenge=raw,
            existing=existing,
        )
        token = self.challenges.issue(
            Purpose.PASSKEY_REGISTRATION,
            subject=str(user.id),
            state=account_state(user),
            ttl=self.challenge_ttl,
            challenge=text,
        )
        return options, token

    async def add_passkey(
        self,
        uow: UnitOfWork,
        user: Any,
        token: str,
        credential: dict[str, Any],
        name: str,
        origin: Origin,
    ) -> tuple[PasskeyRow, list[str] | None]:
        """Verify a registration of *user* and store the passkey (commits). Returns
        it and, when it is the user's first second factor, their recovery codes
        (shown this once).

        Raises:
            BadChallengeError: the token is unknown, expired, another user's, or the
                account changed since.
            WrongCodeError: the registration does not verify.
            SecondFactorStateError: the passkey is registered already.
        """
        from fastapi_userkit._passkeys import decoded, verify_registration

        try:
            claims = self.challenges.read(Purpose.PASSKEY_REGISTRATION, token)
        except BadTokenError:
            raise BadChallengeError() from None
        if (
            claims.subject != str(user.id)
            or claims.challenge is None
            or not claims.bound_to(Purpose.PASSKEY_REGISTRATION, account_state(user))
        ):
            raise BadChallengeError()
        verified = verify_registration(self.party(origin), credential, decoded(claims.challenge))
        store, owner = self.store(uow), str(user.id)
        if await store.passkey(verified.credential_id) is not None:
            raise SecondFactorStateError(enabled=True)
        first = not (await self.status(uow, user)).enabled
        row = PasskeyRow(
            credential_id=verified.credential_id,
            user_id=owner,
            public_key=verified.public_key,
            sign_count=verified.sign_count,
            name=name,
            transports=verified.transports,
            created_at=datetime.now(UTC),
        )
        await store.add_passkey(row)
        codes = await self._new_codes(store, owner) if first else None
        await uow.commit()
        address = user.email
        origin.later.add(lambda: self.mail.second_factor_added(address))
        await run_after_hook(
            "on_after_mfa_enabled", self.hooks.on_after_mfa_enabled(user, origin.request)
        )
        await record(
            self.hooks, origin, SecurityEventName.MFA_ENABLE, "success", user=user, reason="passkey"
        )
        return row, codes

    async def passkeys(self, uow: UnitOfWork, user: Any) -> list[PasskeyRow]:
        """*user*'s passkeys, oldest first."""
        return await self.store(uow).passkeys(str(user.id))

    async def remove_passkey(
        self, uow: UnitOfWork, user: Any, credential_id: str, origin: Origin
    ) -> None:
        """Remove one passkey of *user* (commits); with no second factor left, the
        recovery codes go too.

        Raises:
            PasskeyNotFoundError: *user* has no passkey with this id.
        """
        store, owner = self.store(uow), str(user.id)
        if not await store.remove_passkey(owner, credential_id):
            raise PasskeyNotFoundError()
        last = not (await self.status(uow, user)).enabled
        if last:
            await store.forget(owner)
        await uow.commit()
        address = user.email
        origin.later.add(lambda: self.mail.second_factor_removed(address))
        if last:
            await run_after_hook(
                "on_after_mfa_disabled", self.hooks.on_after_mfa_disabled(user, origin.request)
            )
        disable = SecurityEventName.MFA_DISABLE
        await record(self.hooks, origin, disable, "success", user=user, reason="passkey")
