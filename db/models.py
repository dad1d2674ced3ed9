"""The books: a chart of accounts, transaction headers, their line items and journal entries.

Every amount is an integer count of minor units of the header's currency (cents for USD), scaled
by `TransactionHeader.exponent`; that is exact and identical on PostgreSQL and SQLite.
"""

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base, Id


class AccountType(enum.StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def debit_normal(self) -> bool:
        """Assets and expenses grow with debits; the others with credits."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class Status(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    REJECTED = "rejected"
    VOIDED = "voided"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[AccountType] = mapped_column(_enum(AccountType, "account_type"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")


class Vendor(Base):
    """Whom a purchase was bought from: one row per name, unique ignoring case and repeated spaces.

    `key` is `db.vendors.vendor_key(name)`. A vendor merged into another keeps its row (so its
    name still finds the one it was merged into) with `merged_into_id` set; no header points at it.
    """

    __tablename__ = "vendors"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(Text, unique=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"))
    # Days after a bill's date that it is due (`net 30` when None): db/bills.py.
    payment_terms_days: Mapped[int | None] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TransactionHeader(Base):
    __tablename__ = "transaction_headers"
    __table_args__ = (
        CheckConstraint("total > 0", name="total_positive"),
        CheckConstraint("exponent BETWEEN 0 AND 4", name="exponent_range"),
        CheckConstraint("(idempotency_key IS NULL) = (request_hash IS NULL)", name="key_has_hash"),
        CheckConstraint("reverses_id IS NULL OR reverses_id <> id", name="not_self_reversal"),
        CheckConstraint("paid >= 0 AND paid <= total", name="paid_within_total"),
        # An invoice number once per vendor among live bills (a voided bill frees its number).
        Index(
            "uq_transaction_headers_vendor_invoice",
            "vendor_id",
            "invoice_number",
            unique=True,
            postgresql_where=text("invoice_number IS NOT NULL AND status IN ('pending', 'posted')"),
            sqlite_where=text("invoice_number IS NOT NULL AND status IN ('pending', 'posted')"),
        ),
        Index("ix_transaction_headers_effective_date", "effective_date"),
        Index("ix_transaction_headers_created_by_created_at", "created_by", "created_at"),
        Index("ix_transaction_headers_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    effective_date: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(200))
    # The vendor row (db/vendors.py); `vendor` is its current name, after any rename or merge.
    vendor_id: Mapped[int | None] = mapped_column(ForeignKey("vendors.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    exponent: Mapped[int] = mapped_column(SmallInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    payment_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[Status] = mapped_column(_enum(Status, "transaction_status"))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transaction_headers.id"), unique=True)

    source: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(64))
    team_id: Mapped[str | None] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    # Where it was recorded from, when that was a message (its permalink): the conversation behind it.
    source_link: Mapped[str | None] = mapped_column(String(300))
    # A bill (bought on account, db/bills.py) has a due date; a payment (db/payments.py) names the
    # bill it pays. `paid` is the sum of a bill's live payments, kept by the database's triggers
    # (migration 0005) and never past `total`.
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    invoice_number: Mapped[str | None] = mapped_column(String(64))
    pays_id: Mapped[int | None] = mapped_column(ForeignKey("transaction_headers.id"), index=True)
    paid: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # In a currency other than the books' base currency: the base currency and the rate (base units
    # for one unit, db/rates.py) its entries' base amounts were converted with.
    base_currency: Mapped[str | None] = mapped_column(String(3))
    rate: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    voided_by: Mapped[str | None] = mapped_column(String(64))
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(String(500))

    details: Mapped[list["TransactionDetail"]] = relationship(
        back_populates="header", order_by="TransactionDetail.line", lazy="raise"
    )
    entries: Mapped[list["JournalEntry"]] = relationship(
        back_populates="header", order_by="JournalEntry.id", lazy="raise"
    )
    payment_account: Mapped[Account] = relationship(lazy="raise")
    # Loaded with the header (a LEFT OUTER JOIN), so `vendor` works wherever the header goes, even
    # once its session is closed. A header locked FOR UPDATE names its own table (`of=`): PostgreSQL
    # refuses to lock the nullable side of an outer join.
    vendor_record: Mapped[Vendor | None] = relationship(lazy="joined")

    @property
    def vendor(self) -> str | None:
        """The vendor's current name (after a rename or merge), or None."""
        return self.vendor_record.name if self.vendor_record is not None else None


class TransactionDetail(Base):
    __tablename__ = "transaction_details"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price > 0", name="unit_price_positive"),
        CheckConstraint("subtotal = quantity * unit_price", name="subtotal_is_product"),
        CheckConstraint("line >= 1", name="line_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction_headers.id"), index=True)
    line: Mapped[int] = mapped_column(SmallInteger)
    item: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(BigInteger)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    subtotal: Mapped[int] = mapped_column(BigInteger)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # The item's tax (db/tax.py): its code, the amount in minor units, and whether the subtotal
    # includes it (net = subtotal - tax) or not (gross = subtotal + tax).
    tax_code: Mapped[str | None] = mapped_column(String(16))
    tax_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tax_included: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    header: Mapped[TransactionHeader] = relationship(back_populates="details", lazy="raise")
    account: Mapped[Account] = relationship(lazy="raise")

    @property
    def net(self) -> int:
        return self.subtotal - self.tax_amount if self.tax_included else self.subtotal

    @property
    def gross(self) -> int:
        return self.subtotal if self.tax_included else self.subtotal + self.tax_amount


class JournalEntry(Base):
    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_not_negative"),
        CheckConstraint("(debit = 0) <> (credit = 0)", name="one_side"),
        Index("ix_journal_entries_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction_headers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    debit: Mapped[int] = mapped_column(BigInteger, default=0)
    credit: Mapped[int] = mapped_column(BigInteger, default=0)
    # In minor units of the header's base currency, when it has one (db/rates.py).
    base_debit: Mapped[int | None] = mapped_column(BigInteger)
    base_credit: Mapped[int | None] = mapped_column(BigInteger)

    header: Mapped[TransactionHeader] = relationship(back_populates="entries", lazy="raise")
    account: Mapped[Account] = relationship(lazy="raise")


class AccountBalance(Base):
    """Running debit and credit sums per account, currency and slot, kept by the database itself.

    Written only by the trigger of migration 0002 (never by the application); an account's balance
    in a currency is the sum over its slots. `db.reports.verify` re-checks it against the entries.
    """

    __tablename__ = "account_balances"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    exponent: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    slot: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    debit: Mapped[int] = mapped_column(BigInteger)
    credit: Mapped[int] = mapped_column(BigInteger)


class Announcement(Base):
    """An outbox row: a transaction the team is to be told about, kept until it has been.

    Written in the transaction that posts the purchase, so a purchase and the promise to announce
    it commit together; whoever holds it (`due_at` in the future) is sending it, and when that
    lapses any process may take it over (db/outbox.py).
    """

    __tablename__ = "announcements"
    __table_args__ = (
        Index(
            "ix_announcements_due_at",
            "due_at",
            postgresql_where=text("sent_at IS NULL AND given_up_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND given_up_at IS NULL"),
        ),
    )

    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction_headers.id"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=1)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    given_up_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Where the message went (Slack's channel ID and message ts), so later changes can edit it.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ref: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(String(200))


class Document(Base):
    """A stored file's bytes, once per distinct content (content-addressed by SHA-256).

    Append-only, like journal entries (migration 0004's triggers). `content` is deferred and raises
    if touched unloaded: lists never read it; `db.documents.read_document` streams it.
    """

    __tablename__ = "documents"
    __table_args__ = (CheckConstraint("size > 0", name="size_positive"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TransactionDocument(Base):
    """A document attached to a transaction: under which name, by whom, when. Append-only."""

    __tablename__ = "transaction_documents"
    __table_args__ = (UniqueConstraint("transaction_id", "sha256", name="uq_transaction_documents_link"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction_headers.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    attached_by: Mapped[str | None] = mapped_column(String(64))
    attached_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Period(Base):
    """A month of the books (`2026-11`) that has been started or closed (db/periods.py).

    Only months someone acted on have a row; the earliest row is the books' first period. While
    `closed`, the database refuses anything dated in it (migration 0006's triggers).
    """

    __tablename__ = "periods"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="days_in_order"),)

    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    first_day: Mapped[dt.date] = mapped_column(Date, unique=True)
    last_day: Mapped[dt.date] = mapped_column(Date)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)


class PeriodEvent(Base):
    """Who started, closed or reopened a period, when, and (for a reopening) why. Append-only."""

    __tablename__ = "period_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    month: Mapped[str] = mapped_column(ForeignKey("periods.month"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    by: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(String(500))


class ChainLink(Base):
    """One link of the tamper-evident hash chain (db/chain.py), appended when a transaction is
    recorded or changes (approved, voided, a document attached). Append-only.

    `content_hash` is the SHA-256 of the transaction's canonical form then; `hash` is
    SHA-256(previous link's hash + content_hash), "" before the first link.
    """

    __tablename__ = "chain_links"

    seq: Mapped[int] = mapped_column(Id, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transaction_headers.id"), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class TaxCode(Base):
    """A purchase tax (VAT, GST, PPN): its rate in percent and the account the recoverable tax is
    debited to; `inclusive` when the prices it applies to include it (db/tax.py)."""

    __tablename__ = "tax_codes"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Exact: a decimal string such as "11" or "7.5" (a float column would not be).
    rate: Mapped[str] = mapped_column(String(12))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    inclusive: Mapped[bool] = mapped_column(Boolean, default=False)


class ExchangeRate(Base):
    """How many units of the base currency one unit of `currency` was worth from `date` on."""

    __tablename__ = "exchange_rates"

    date: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    rate: Mapped[str] = mapped_column(String(24))  # an exact decimal string


class Notice(Base):
    """A message the team gets once a day (the bills due notice), claimed like an outbox row.

    The first process to claim `(kind, day)` holds it (`due_at` a lease ahead) and sends it; if it
    dies first, its hold lapses and another process's sweep takes it over (db/outbox.py).
    """

    __tablename__ = "notices"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=1)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ref: Mapped[str | None] = mapped_column(String(64))
