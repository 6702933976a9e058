"""Second factors in SQL, in the users' database.

Two tables, plain SQLAlchemy types, user ids stored as strings (as in the session
and role tables): `userkit_totp` (one authenticator app per user: its sealed
secret, whether it is confirmed, and the last time step accepted) and
`userkit_recovery_code` (the keyed hashes of a user's recovery codes, each
marked when used). Every write that spends a code is one conditional `UPDATE`,
so two requests racing with the same code cannot both succeed.
"""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, String, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fastapi_userkit.db.models import Timestamp

__all__ = ["MFA_TABLES", "MfaBase", "RecoveryCodeRow", "SQLMfaStore", "TotpRow"]


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


MFA_TABLES = [TotpRow.__table__, RecoveryCodeRow.__table__]


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

    async def forget(self, user_id: str) -> bool:
        """Remove every second factor of *user_id*; `False` if there was none."""
        removed = await self.remove_totp(user_id)
        result = await self.session.execute(
            delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id)
        )
        return removed or _changed(result) > 0
