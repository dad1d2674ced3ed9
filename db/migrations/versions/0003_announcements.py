"""Announcements: an outbox of the transactions the team channel is to be told about.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 22:15:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_WAITING = sa.text("sent_at IS NULL AND given_up_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "announcements",
        sa.Column("transaction_id", _ID, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("given_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ref", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction_headers.id"],
            name=op.f("fk_announcements_transaction_id_transaction_headers"),
        ),
        sa.PrimaryKeyConstraint("transaction_id", name=op.f("pk_announcements")),
    )
    op.create_index(
        op.f("ix_announcements_due_at"),
        "announcements",
        ["due_at"],
        postgresql_where=_WAITING,
        sqlite_where=_WAITING,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_announcements_due_at"), table_name="announcements")
    op.drop_table("announcements")
