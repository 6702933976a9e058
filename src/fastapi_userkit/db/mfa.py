"""Second factors in SQL, in the users' database.

Three tables, plain SQLAlchemy types, user ids stored as strings (as in the
session and role tables): `userkit_totp` (one authenticator app per user: its
sealed secret, whether it is confirmed, and the last time step accepted),
`userkit_recovery_code` (the keyed hashes of a user's recovery codes, each marked
when used) and `userkit_passkey` (WebAuthn credentials: their public keys, not a
secret). Every write that spends a code or an assertion is one conditional
`UPDATE`, so two requests racing with the same one cannot both succeed.
"""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, String, Text, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit.db.models import Timestamp

__all__ = ["MFA_TABLES", "MfaBase", "PasskeyRow", "RecoveryCodeRow", "SQLMfaStore", "TotpRow"]

CREDENTIAL_ID_LENGTH = 344
"""A credential id of up to 256 bytes, in unpadded base64url."""


class MfaBase(DeclarativeBase):
    """Declarative base of the second-factor tables; add its `metadata` to Alembic's
    `target_metadata` next to your own.
    """


class TotpRow(MfaBase):
    """A user's authenticator app (`userkit_totp`)."""

    __tablename__ = "userkit_totp"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(255), nullable=False)
    """The base32 secret, sealed (AES-256-GCM, bound to the user id)."""
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    """When a first code confirmed it; until then it is not a second factor."""
    last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The last time step whose code was accepted; only later ones are."""


class RecoveryCodeRow(MfaBase):
    """One recovery code of one user (`userkit_recovery_code`)."""

    __tablename__ = "userkit_recovery_code"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class PasskeyRow(MfaBase):
    """One WebAuthn credential of one user (`userkit_passkey`)."""

    __tablename__ = "userkit_passkey"

    credential_id: Mapped[str] = mapped_column(String(CREDENTIAL_ID_LENGTH), primary_key=True)
    """The credential's id, base64url."""
    user_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    public_key: Mapped[str] = mapped_column(Text, nullable=False)
    """The COSE public key, base64url."""
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    transports: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    """Comma-separated, as the browser reported them (`internal,hybrid`)."""
    created_at: Mapped[datetime] = mapped_column(Timestamp, nullable=False)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    last_challenge: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """SHA-256 of the last challenge it answered: the same assertion never counts twice."""


MFA_TABLES = [TotpRow.__table__, RecoveryCodeRow.__table__, PasskeyRow.__table__]


def _changed(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


class SQLMfaStore:
    """The second-factor tables, inside one database session; flushes, never commits."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def totp(self, user_id: str) -> TotpRow | None:
        """The authenticator app of *user_id*, confirmed or not, or `None`."""
        result = await self.session.scalars(
            select(TotpRow)
            .where(TotpRow.user_id == user_id)
            .execution_options(populate_existing=True)
        )
        return result.first()

    async def start_totp(self, user_id: str, sealed: str) -> None:
        """Store a new, unconfirmed secret for *user_id*, replacing an unconfirmed one."""
        await self.session.execute(delete(TotpRow).where(TotpRow.user_id == user_id))
        self.session.add(TotpRow(user_id=user_id, secret=sealed, created_at=datetime.now(UTC)))
        await self.session.flush()

    async def confirm_totp(self, user_id: str, step: int) -> bool:
        """Confirm the pending secret of *user_id* with the code of *step*; `False`
        if there is no pending secret (confirmed already, or gone).
        """
        result = await self.session.execute(
            update(TotpRow)
            .where(TotpRow.user_id == user_id, TotpRow.confirmed_at.is_(None))
            .values(confirmed_at=datetime.now(UTC), last_step=step)
        )
        return _changed(result) == 1

    async def spend_step(self, user_id: str, step: int) -> bool:
        """Record that the code of *step* was used; `False` if that step, or a later
        one, was used already (a replay, or a race with the same code).
        """
        result = await self.session.execute(
            update(TotpRow)
            .where(
                TotpRow.user_id == user_id,
                TotpRow.confirmed_at.is_not(None),
                (TotpRow.last_step.is_(None)) | (TotpRow.last_step < step),
            )
            .values(last_step=step)
        )
        return _changed(result) == 1

    async def reseal(self, user_id: str, sealed: str) -> None:
        """Store the secret of *user_id* sealed again (with the current key)."""
        await self.session.execute(
            update(TotpRow).where(TotpRow.user_id == user_id).values(secret=sealed)
        )

    async def remove_totp(self, user_id: str) -> bool:
        """Remove the authenticator app of *user_id*; `False` if there was none."""
        result = await self.session.execute(delete(TotpRow).where(TotpRow.user_id == user_id))
        return _changed(result) > 0

    async def replace_codes(self, user_id: str, hashes: list[str]) -> None:
        """Give *user_id* exactly these recovery codes (by hash), all unused."""
        await self.session.execute(
            delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id)
        )
        now = datetime.now(UTC)
        self.session.add_all(
            RecoveryCodeRow(user_id=user_id, code_hash=code_hash, created_at=now)
            for code_hash in hashes
        )
        await self.session.flush()

    async def spend_code(self, user_id: str, hashes: list[str]) -> bool:
        """Mark the unused recovery code stored under one of *hashes* as used;
        `False` if there is none (wrong, or used already).
        """
        result = await self.session.execute(
            update(RecoveryCodeRow)
            .where(
                RecoveryCodeRow.user_id == user_id,
                RecoveryCodeRow.code_hash.in_(hashes),
                RecoveryCodeRow.used_at.is_(None),
            )
            .values(used_at=datetime.now(UTC))
        )
        return _changed(result) >= 1

    async def codes_left(self, user_id: str) -> int:
        """How many unused recovery codes *user_id* has."""
        count = await self.session.scalar(
            select(func.count())
            .select_from(RecoveryCodeRow)
            .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
        )
        return int(count or 0)

    async def passkeys(self, user_id: str) -> list[PasskeyRow]:
        """The passkeys of *user_id*, oldest first."""
        rows = await self.session.scalars(
            select(PasskeyRow)
            .where(PasskeyRow.user_id == user_id)
            .order_by(PasskeyRow.created_at, PasskeyRow.credential_id)
            .execution_options(populate_existing=True)
        )
        return list(rows)

    async def passkey(self, credential_id: str) -> PasskeyRow | None:
        """The passkey with this credential id, whoever owns it, or `None`."""
        return await self.session.get(PasskeyRow, credential_id, populate_existing=True)

    async def add_passkey(self, row: PasskeyRow) -> None:
        """Store a new passkey (an `IntegrityError` on flush if its id is taken)."""
        self.session.add(row)
        await self.session.flush()

    async def spend_assertion(
        self, credential_id: str, sign_count: int, new_count: int, challenge: str
    ) -> bool:
        """Record a verified assertion of the passkey *credential_id*; `False` if it
        answered this *challenge* (SHA-256) already, or another assertion got in first.
        """
        result = await self.session.execute(
            update(PasskeyRow)
            .where(
                PasskeyRow.credential_id == credential_id,
                PasskeyRow.sign_count == sign_count,
                (PasskeyRow.last_challenge.is_(None)) | (PasskeyRow.last_challenge != challenge),
            )
            .values(sign_count=new_count, last_used_at=datetime.now(UTC), last_challenge=challenge)
        )
        return _changed(result) == 1

    async def remove_passkey(self, user_id: str, credential_id: str) -> bool:
        """Remove one passkey of *user_id*; `False` if they have none with this id."""
        result = await self.session.execute(
            delete(PasskeyRow).where(
                PasskeyRow.user_id == user_id, PasskeyRow.credential_id == credential_id
            )
        )
        return _changed(result) > 0

    async def forget(self, user_id: str) -> bool:
        """Remove every second factor of *user_id*; `False` if there was none."""
        removed = await self.remove_totp(user_id)
        codes = await self.session.execute(
            delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id)
        )
        passkeys = await self.session.execute(
            delete(PasskeyRow).where(PasskeyRow.user_id == user_id)
        )
        return removed or _changed(codes) > 0 or _changed(passkeys) > 0
