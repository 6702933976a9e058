"""fastapi-userkit role tables: roles, the scopes they grant, and who holds them.

Written to match `alembic revision --autogenerate --rev-id 0002 -m "userkit roles"`
against the schema of 0001: plain SQLAlchemy types, index names as SQLAlchemy gives
them (`ix_<table>_<column>`); `alembic check` finds nothing left to change.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 08:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def exact(length: int) -> sa.String:
    """Compared byte for byte on MariaDB/MySQL too (`Editor` is not `editor`)."""
    return sa.String(length=length).with_variant(
        mysql.VARCHAR(length=length, charset="utf8mb4", collation="utf8mb4_bin"),
        "mysql",
        "mariadb",
    )


def upgrade() -> None:
    op.create_table(
        "userkit_role",
        sa.Column("name", exact(64), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "userkit_role_scope",
        sa.Column("role_name", exact(64), nullable=False),
        sa.Column("scope", exact(128), nullable=False),
        sa.ForeignKeyConstraint(["role_name"], ["userkit_role.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("role_name", "scope"),
    )
    op.create_index(
        op.f("ix_userkit_role_scope_scope"), "userkit_role_scope", ["scope"], unique=False
    )
    # user_id is the user's id as a string, like the session tables: no foreign key,
    # so any user model and id type fits; deleting an account deletes its grants.
    op.create_table(
        "userkit_user_role",
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role_name", exact(64), nullable=False),
        sa.Column("granted_at", TIMESTAMP, nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["role_name"], ["userkit_role.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "role_name"),
    )
    op.create_index(
        op.f("ix_userkit_user_role_role_name"), "userkit_user_role", ["role_name"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_userkit_user_role_role_name"), table_name="userkit_user_role")
    op.drop_table("userkit_user_role")
    op.drop_index(op.f("ix_userkit_role_scope_scope"), table_name="userkit_role_scope")
    op.drop_table("userkit_role_scope")
    op.drop_table("userkit_role")
