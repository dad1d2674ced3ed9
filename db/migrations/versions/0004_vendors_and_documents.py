"""Vendors and documents: a vendors table (a name unique ignoring case and repeated spaces) that
headers link to, made from today's free-text vendors with case and space variants merged; and
documents, content-addressed by SHA-256 and stored in the database, linked to transactions;
both append-only (see db/migrations/ledger_sql.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 10:00:00.000000

"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.migrations import ledger_sql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _key(name: str) -> str:
    """db.vendors.vendor_key as of this migration: NFC, casefolded, white space runs collapsed, stripped."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def _link_vendors(connection: sa.Connection) -> None:
    """One vendor per key, named by its first spelling (lowest header ID); every header linked."""
    rows = connection.execute(
        sa.text("SELECT id, vendor FROM transaction_headers WHERE vendor IS NOT NULL ORDER BY id")
    ).all()
    spellings: dict[str, list[str]] = {}
    for _, vendor in rows:
        key = _key(vendor)
        if not key:
            continue
        seen = spellings.setdefault(key, [])
        if vendor not in seen:
            seen.append(vendor)
    for key, names in spellings.items():
        vendor_id = connection.execute(
            sa.text("INSERT INTO vendors (name, key) VALUES (:name, :key) RETURNING id"),
            {"name": " ".join(names[0].split())[:200], "key": key},
        ).scalar_one()
        connection.execute(
            sa.text("UPDATE transaction_headers SET vendor_id = :vendor_id WHERE vendor = :name"),
            [{"vendor_id": vendor_id, "name": name} for name in names],
        )


def upgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    op.create_table(
        "vendors",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("merged_into_id", _ID, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"], ["vendors.id"], name=op.f("fk_vendors_merged_into_id_vendors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendors")),
        sa.UniqueConstraint("key", name=op.f("uq_vendors_key")),
    )
    op.create_table(
        "documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("size > 0", name=op.f("ck_documents_size_positive")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_documents")),
    )
    op.create_table(
        "transaction_documents",
        sa.Column("id", _ID, nullable=False),
        sa.Column("transaction_id", _ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("attached_by", sa.String(length=64), nullable=True),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"], ["documents.sha256"], name=op.f("fk_transaction_documents_sha256_documents")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["transaction_headers.id"],
            name=op.f("fk_transaction_documents_transaction_id_transaction_headers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transaction_documents")),
        sa.UniqueConstraint("transaction_id", "sha256", name="uq_transaction_documents_link"),
    )
    op.create_index(
        op.f("ix_transaction_documents_sha256"), "transaction_documents", ["sha256"], unique=False
    )

    if dialect == "sqlite":
        # ALTER TABLE ADD COLUMN (a table rebuild would drop the ledger's triggers on it).
        op.execute(
            "ALTER TABLE transaction_headers ADD COLUMN vendor_id INTEGER "
            "CONSTRAINT fk_transaction_headers_vendor_id_vendors REFERENCES vendors (id)"
        )
    else:
        op.add_column("transaction_headers", sa.Column("vendor_id", _ID, nullable=True))
        op.create_foreign_key(
            op.f("fk_transaction_headers_vendor_id_vendors"),
            "transaction_headers",
            "vendors",
            ["vendor_id"],
            ["id"],
        )
    _link_vendors(connection)
    # The permalink of the message a purchase was recorded from ("Record as purchase").
    op.add_column("transaction_headers", sa.Column("source_link", sa.String(length=300), nullable=True))
    op.create_index(
        op.f("ix_transaction_headers_vendor_id"), "transaction_headers", ["vendor_id"], unique=False
    )
    for statement in ledger_sql.install_vendor_guard(dialect):
        op.execute(statement)
    if dialect == "sqlite":
        op.execute("ALTER TABLE transaction_headers DROP COLUMN vendor")
    else:
        op.drop_column("transaction_headers", "vendor")
    for statement in ledger_sql.install_documents(dialect):
        op.execute(statement)


def downgrade() -> None:
    connection = op.get_bind()
    dialect = connection.dialect.name
    for statement in ledger_sql.uninstall_documents(dialect):
        op.execute(statement)
    if dialect == "sqlite":
        op.execute("ALTER TABLE transaction_headers ADD COLUMN vendor VARCHAR(100)")
    else:
        op.add_column("transaction_headers", sa.Column("vendor", sa.String(length=100), nullable=True))
    op.execute(
        "UPDATE transaction_headers SET vendor = "
        "(SELECT substr(name, 1, 100) FROM vendors WHERE vendors.id = transaction_headers.vendor_id) "
        "WHERE vendor_id IS NOT NULL"
    )
    op.drop_index(op.f("ix_transaction_headers_vendor_id"), table_name="transaction_headers")
    if dialect == "sqlite":
        op.execute("ALTER TABLE transaction_headers DROP COLUMN source_link")
        op.execute("ALTER TABLE transaction_headers DROP COLUMN vendor_id")
    else:
        op.drop_constraint(
            op.f("fk_transaction_headers_vendor_id_vendors"), "transaction_headers", type_="foreignkey"
        )
        op.drop_column("transaction_headers", "vendor_id")
        op.drop_column("transaction_headers", "source_link")
    for statement in ledger_sql.restore_header_guard(dialect):
        op.execute(statement)
    op.drop_index(op.f("ix_transaction_documents_sha256"), table_name="transaction_documents")
    op.drop_table("transaction_documents")
    op.drop_table("documents")
    op.drop_table("vendors")
