"""fastapi-userkit second-factor tables: authenticator apps and recovery codes.

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


def downgrade() -> None:
    op.drop_table("userkit_recovery_code")
    op.drop_table("userkit_totp")
