"""Tax codes, exchange rates (`exchange_rates`; a header's `base_currency` and `rate`, an entry's
`base_debit` and `base_credit`), closed periods and the tamper-evident hash chain: `tax_codes`, and each item's tax
(`transaction_details.tax_code`, `tax_amount`, `tax_included`); `periods` (a month's state) and
`period_events` (who closed or reopened it, when, why), triggers refusing anything dated in a
closed period or before the books' first period, and `chain_links`, backfilled for every
transaction already recorded (see db/migrations/ledger_sql.py and db/chain.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from db import chain
from db.migrations import ledger_sql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    connection = op.get_bind()
    op.create_table(
        "tax_codes",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("rate", sa.String(length=12), nullable=False),
        sa.Column("account_id", _ID, nullable=False),
        sa.Column("inclusive", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_tax_codes_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_tax_codes")),
    )
    op.create_table(
        "exchange_rates",
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=24), nullable=False),
        sa.PrimaryKeyConstraint("date", "currency", name=op.f("pk_exchange_rates")),
    )
    op.add_column("transaction_headers", sa.Column("base_currency", sa.String(length=3), nullable=True))
    op.add_column("transaction_headers", sa.Column("rate", sa.String(length=24), nullable=True))
    op.add_column("journal_entries", sa.Column("base_debit", sa.BigInteger(), nullable=True))
    op.add_column("journal_entries", sa.Column("base_credit", sa.BigInteger(), nullable=True))
    # ALTER TABLE ADD COLUMN on both (on SQLite a table rebuild would drop the ledger's triggers).
    op.add_column("transaction_details", sa.Column("tax_code", sa.String(length=16), nullable=True))
    op.add_column(
        "transaction_details", sa.Column("tax_amount", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column(
        "transaction_details",
        sa.Column("tax_included", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "periods",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.CheckConstraint("first_day <= last_day", name=op.f("ck_periods_days_in_order")),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_periods")),
        sa.UniqueConstraint("first_day", name=op.f("uq_periods_first_day")),
    )
    op.create_table(
        "period_events",
        sa.Column("id", _ID, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["month"], ["periods.month"], name=op.f("fk_period_events_month_periods")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_events")),
    )
    op.create_index(op.f("ix_period_events_month"), "period_events", ["month"], unique=False)
    op.create_table(
        "chain_links",
        sa.Column("seq", _ID, nullable=False),
        sa.Column("transaction_id", _ID, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction_headers.id"],
            name=op.f("fk_chain_links_transaction_id_transaction_headers"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_chain_links")),
        sa.UniqueConstraint("hash", name=op.f("uq_chain_links_hash")),
    )
    op.create_index(op.f("ix_chain_links_transaction_id"), "chain_links", ["transaction_id"], unique=False)
    for statement in ledger_sql.install_periods_and_chain(connection.dialect.name):
        op.execute(statement)
    # The transactions recorded so far, linked in ID order.
    session = Session(bind=connection)
    hashes = chain.content_hashes(session, sa.true())
    if hashes:
        ids = sorted(hashes)
        chain.append(session, ids, [hashes[i] for i in ids])


def downgrade() -> None:
    for statement in ledger_sql.uninstall_periods_and_chain(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index(op.f("ix_chain_links_transaction_id"), table_name="chain_links")
    op.drop_table("chain_links")
    op.drop_index(op.f("ix_period_events_month"), table_name="period_events")
    op.drop_table("period_events")
    op.drop_table("periods")
    if op.get_bind().dialect.name == "sqlite":
        for column in ("tax_included", "tax_amount", "tax_code"):
            op.execute(f"ALTER TABLE transaction_details DROP COLUMN {column}")
    else:
        op.drop_column("transaction_details", "tax_included")
        op.drop_column("transaction_details", "tax_amount")
        op.drop_column("transaction_details", "tax_code")
    op.drop_table("tax_codes")
    for table, column in (
        ("journal_entries", "base_credit"),
        ("journal_entries", "base_debit"),
        ("transaction_headers", "rate"),
        ("transaction_headers", "base_currency"),
    ):
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
    op.drop_table("exchange_rates")
