"""Bills and payments: a bill's due date and invoice number, a payment's link to its bill, what a
bill has paid (kept by triggers, never past its total), vendors' payment terms, and the daily
notices (the bills due notice, claimed once a day across processes).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:30:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations import ledger_sql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LIVE_INVOICE = sa.text("invoice_number IS NOT NULL AND status IN ('pending', 'posted')")
_PAID_CHECK = "paid >= 0 AND paid <= total"


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    op.add_column("vendors", sa.Column("payment_terms_days", sa.SmallInteger(), nullable=True))
    op.add_column("transaction_headers", sa.Column("due_date", sa.Date(), nullable=True))
    op.add_column("transaction_headers", sa.Column("invoice_number", sa.String(length=64), nullable=True))
    if dialect == "sqlite":
        # ALTER TABLE ADD COLUMN (a table rebuild would drop the ledger's triggers on it).
        op.execute(
            "ALTER TABLE transaction_headers ADD COLUMN pays_id INTEGER "
            "CONSTRAINT fk_transaction_headers_pays_id_transaction_headers REFERENCES transaction_headers (id)"
        )
        op.execute(
            "ALTER TABLE transaction_headers ADD COLUMN paid BIGINT DEFAULT '0' NOT NULL "
            f"CONSTRAINT ck_transaction_headers_paid_within_total CHECK ({_PAID_CHECK})"
        )
    else:
        op.add_column("transaction_headers", sa.Column("pays_id", _ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_transaction_headers_pays_id_transaction_headers"),
            "transaction_headers",
            "transaction_headers",
            ["pays_id"],
            ["id"],
        )
        op.add_column(
            "transaction_headers", sa.Column("paid", sa.BigInteger(), server_default="0", nullable=False)
        )
        op.create_check_constraint(
            op.f("ck_transaction_headers_paid_within_total"), "transaction_headers", _PAID_CHECK
        )
    op.create_index(op.f("ix_transaction_headers_pays_id"), "transaction_headers", ["pays_id"], unique=False)
    op.create_index(
        "uq_transaction_headers_vendor_invoice",
        "transaction_headers",
        ["vendor_id", "invoice_number"],
        unique=True,
        postgresql_where=_LIVE_INVOICE,
        sqlite_where=_LIVE_INVOICE,
    )
    for statement in ledger_sql.install_bills(dialect):
        op.execute(statement)
    op.create_table(
        "notices",
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ref", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("kind", "day", name=op.f("pk_notices")),
    )


def downgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    op.drop_table("notices")
    for statement in ledger_sql.uninstall_bills(dialect):
        op.execute(statement)
    op.drop_index("uq_transaction_headers_vendor_invoice", table_name="transaction_headers")
    op.drop_index(op.f("ix_transaction_headers_pays_id"), table_name="transaction_headers")
    if dialect == "sqlite":
        op.execute("ALTER TABLE transaction_headers DROP COLUMN paid")
        op.execute("ALTER TABLE transaction_headers DROP COLUMN pays_id")
    else:
        op.drop_constraint(
            op.f("ck_transaction_headers_paid_within_total"), "transaction_headers", type_="check"
        )
        op.drop_column("transaction_headers", "paid")
        op.drop_constraint(
            op.f("fk_transaction_headers_pays_id_transaction_headers"),
            "transaction_headers",
            type_="foreignkey",
        )
        op.drop_column("transaction_headers", "pays_id")
    op.drop_column("transaction_headers", "invoice_number")
    op.drop_column("transaction_headers", "due_date")
    op.drop_column("vendors", "payment_terms_days")
