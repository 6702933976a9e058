"""fastapi-userkit tables: `user` (default model) and the SQL session store.

Generated with `alembic revision --autogenerate --rev-id 0001 -m "userkit initial"`
against an empty PostgreSQL schema, then reviewed: plain SQLAlchemy types, index
names as SQLAlchemy gives them (`ix_<table>_<column>`); only comments added.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 15:13:07.028252
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# timezone-aware; microseconds on MariaDB/MySQL, as the kit's models ask
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# compared byte for byte on MariaDB/MySQL, whose default collations would make the
# unique indexes merge addresses that differ by case or accent
EMAIL = sa.String(length=320).with_variant(
    mysql.VARCHAR(length=320, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    # The default user model (fastapi_userkit.db.default.User). `email` and
    # `email_key` (the canonical address) each get a unique index; `email_skeleton`
    # (shared by look-alike addresses) a plain one.
    op.create_table(
        "user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", EMAIL, nullable=False),
        sa.Column("email_key", EMAIL, nullable=False),
        sa.Column("email_skeleton", sa.String(length=64), nullable=False),
        sa.Column("hashed_password", sa.String(length=1024), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_superuser", sa.Boolean(), nullable=False),
        sa.Column("is_verified", sa.Boolean(), nullable=False),
        sa.Column("token_version", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_user_email"), "user", ["email"], unique=True)
    op.create_index(op.f("ix_user_email_key"), "user", ["email_key"], unique=True)
    op.create_index(op.f("ix_user_email_skeleton"), "user", ["email_skeleton"], unique=False)
    # Login sessions, and every refresh token issued (by SHA-256), of SQLSessionStore.
    op.create_table(
        "userkit_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_userkit_session_user_id"), "userkit_session", ["user_id"], unique=False
    )
    op.create_table(
        "userkit_refresh_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["userkit_session.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(
        op.f("ix_userkit_refresh_token_session_id"),
        "userkit_refresh_token",
        ["session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_userkit_refresh_token_session_id"), table_name="userkit_refresh_token")
    op.drop_table("userkit_refresh_token")
    op.drop_index(op.f("ix_userkit_session_user_id"), table_name="userkit_session")
    op.drop_table("userkit_session")
    op.drop_index(op.f("ix_user_email_skeleton"), table_name="user")
    op.drop_index(op.f("ix_user_email_key"), table_name="user")
    op.drop_index(op.f("ix_user_email"), table_name="user")
    op.drop_table("user")
