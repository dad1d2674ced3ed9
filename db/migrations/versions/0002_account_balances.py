"""Maintained account balances: a slotted balances table kept by a trigger on journal_entries,
backfilled from the entries already there; on PostgreSQL also the idempotency key claim used by
db.posting (see db/migrations/ledger_sql.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:55:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations import ledger_sql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account_balances",
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exponent", sa.SmallInteger(), nullable=False),
        sa.Column("slot", sa.SmallInteger(), nullable=False),
        sa.Column("debit", sa.BigInteger(), nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_balances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "currency", "exponent", "slot", name=op.f("pk_account_balances")
        ),
    )
    for statement in ledger_sql.install_balances(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    for statement in ledger_sql.uninstall_balances(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table("account_balances")
