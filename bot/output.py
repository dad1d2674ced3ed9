"""What `--json` prints: one pydantic model per view.

Money is an exact decimal string in major units beside its currency code ("10000000.00", "USD"), as
in the CSV export: never a float, and a reader need not know the currency's exponent.
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic_core import to_json

from db.documents import DocumentInfo
from db.models import AccountType, Announcement, Status, TransactionHeader
from db.money import from_minor
from db.reports import TrialBalance
from db.tax import TaxReportRow
from db.vendors import VendorSummary


class Output(BaseModel):
    # from_attributes: a view whose fields are the object's attributes is read straight off it.
    model_config = ConfigDict(frozen=True, from_attributes=True)


def dump(value: Output | Sequence[Output]) -> str:
    """Indented JSON; a Decimal is written as its exact string."""
    return to_json(value, indent=2).decode()


class PostedOutput(Output):
    """Read from a `db.posting.Posted`."""

    id: int
    status: Status
    replayed: bool


class ItemOutput(Output):
    line: int
    name: str
    quantity: int
    unit_price: Decimal
    subtotal: Decimal
    account: str


class EntryOutput(Output):
    account: str
    debit: Decimal
    credit: Decimal


class DocumentOutput(Output):
    """Read from a `db.documents.DocumentInfo`: what `show --json` lists."""

    name: str
    content_type: str
    size: int  # bytes
    sha256: str


class AttachedDocumentOutput(DocumentOutput):
    """What `documents list --json` prints: also who attached it and when (UTC)."""

    attached_by: str | None
    attached_at: dt.datetime

    @classmethod
    def of(cls, info: DocumentInfo) -> "AttachedDocumentOutput":
        return cls.model_validate(info)


class TransactionOutput(Output):
    id: int
    status: Status
    date: dt.date
    description: str
    vendor: str | None  # the vendor's current name
    currency: str
    total: Decimal
    exponent: int
    reverses_id: int | None
    source_link: str | None  # the message it was recorded from
    items: list[ItemOutput]
    entries: list[EntryOutput]
    documents: list[DocumentOutput]

    @classmethod
    def of(cls, header: TransactionHeader, documents: Sequence[DocumentInfo] = ()) -> "TransactionOutput":
        exp = header.exponent
        return cls(
            id=header.id,
            status=header.status,
            date=header.effective_date,
            description=header.description,
            vendor=header.vendor,
            currency=header.currency,
            total=from_minor(header.total, exp),
            exponent=exp,
            reverses_id=header.reverses_id,
            source_link=header.source_link,
            items=[
                ItemOutput(
                    line=d.line,
                    name=d.item,
                    quantity=d.quantity,
                    unit_price=from_minor(d.unit_price, exp),
                    subtotal=from_minor(d.subtotal, exp),
                    account=d.account.code,
                )
                for d in header.details
            ],
            entries=[
                EntryOutput(
                    account=e.account.code, debit=from_minor(e.debit, exp), credit=from_minor(e.credit, exp)
                )
                for e in header.entries
            ],
            documents=[DocumentOutput.model_validate(d) for d in documents],
        )


class BalanceRowOutput(Output):
    account: str
    name: str
    currency: str
    debit: Decimal
    credit: Decimal
    balance: Decimal


class TotalsOutput(Output):
    debit: Decimal
    credit: Decimal


class TrialBalanceOutput(Output):
    rows: list[BalanceRowOutput]
    totals: dict[str, TotalsOutput]  # by currency code
    balanced: bool

    @classmethod
    def of(cls, tb: TrialBalance) -> "TrialBalanceOutput":
        exponents = {r.currency: r.exponent for r in tb.rows}
        return cls(
            rows=[
                BalanceRowOutput(
                    account=r.code,
                    name=r.name,
                    currency=r.currency,
                    debit=from_minor(r.debit, r.exponent),
                    credit=from_minor(r.credit, r.exponent),
                    balance=from_minor(r.balance, r.exponent),
                )
                for r in tb.rows
            ],
            totals={
                currency: TotalsOutput(
                    debit=from_minor(debit, exponents[currency]),
                    credit=from_minor(credit, exponents[currency]),
                )
                for currency, (debit, credit) in tb.totals().items()
            },
            balanced=tb.balanced,
        )


class AccountOutput(Output):
    """Read from a `db.models.Account`."""

    code: str
    name: str
    type: AccountType
    active: bool


class AnnouncementOutput(Output):
    transaction_id: int
    state: Literal["waiting", "given up"]
    attempts: int
    next_try: dt.datetime | None
    last_error: str | None

    @classmethod
    def of(cls, row: Announcement) -> "AnnouncementOutput":
        given_up = row.given_up_at is not None
        return cls(
            transaction_id=row.transaction_id,
            state="given up" if given_up else "waiting",
            attempts=row.attempts,
            next_try=None if given_up else row.due_at,
            last_error=row.last_error,
        )


class VendorOutput(Output):
    """Read from a `db.vendors.VendorSummary`."""

    name: str
    purchases: int

    @classmethod
    def of(cls, row: VendorSummary) -> "VendorOutput":
        return cls.model_validate(row)


class PeriodOutput(Output):
    """Read from a `db.periods.PeriodState`: the month, whether it is closed, and its latest event."""

    month: str
    closed: bool
    action: str
    by: str | None
    at: dt.datetime
    reason: str | None


class ChainHeadOutput(Output):
    """Read from a `db.chain.Head`."""

    hash: str
    seq: int
    transaction_id: int


class TaxCodeOutput(Output):
    """Read from a `db.tax.TaxInfo`."""

    code: str
    name: str
    rate: Decimal
    account: str
    inclusive: bool


class TaxReportOutput(Output):
    code: str
    currency: str
    net: Decimal
    tax: Decimal

    @classmethod
    def of(cls, row: TaxReportRow) -> "TaxReportOutput":
        return cls(
            code=row.code,
            currency=row.currency,
            net=from_minor(row.net, row.exponent),
            tax=from_minor(row.tax, row.exponent),
        )


class RateOutput(Output):
    """Read from a `db.rates.Rate`: base-currency units for one unit of `currency` from `date`."""

    date: dt.date
    currency: str
    rate: Decimal
