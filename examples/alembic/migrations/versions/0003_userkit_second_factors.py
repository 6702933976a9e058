"""fastapi-userkit second-factor tables: authenticator apps, recovery codes, passkeys.

Needed with `USERKIT_MFA_ENABLED=true`. Written to match
`alembic revision --autogenerate --rev-id 0003 -m "userkit second factors"` against
the schema of 0002; `alembic check` finds nothing left to change.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # user_id is the user's id as a string, like the session and role tables.
    op.create_table(
        "userkit_totp",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("confirmed_at", TIMESTAMP, nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("user_id"),
    )
    op.create_table(
        "userkit_recovery_code",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("user_id", "code_hash"),
    )
    op.create_table(
        "userkit_passkey",
        sa.Column("credential_id", sa.String(length=344), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("transports", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("last_challenge", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("credential_id"),
    )
    op.create_index(
        op.f("ix_userkit_passkey_user_id"), "userkit_passkey", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_userkit_passkey_user_id"), table_name="userkit_passkey")
    op.drop_table("userkit_passkey")
    op.drop_table("userkit_recovery_code")
    op.drop_table("userkit_totp")
