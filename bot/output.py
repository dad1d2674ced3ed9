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

from db.bills import AgingRow, BillState, OpenBill, Statement, bill_state
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
    bill: "BillOutput | None"  # set for a bill (bought on account)
    pays_id: int | None  # set for a payment: the bill it pays
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
            bill=BillOutput.of(header),
            pays_id=header.pays_id,
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


class BillOutput(Output):
    """A bill's terms and what is left of it, beside the transaction it is."""

    due_date: dt.date
    invoice_number: str | None
    state: BillState
    paid: Decimal
    open: Decimal

    @classmethod
    def of(cls, header: TransactionHeader) -> "BillOutput | None":
        state = bill_state(header)
        if state is None or header.due_date is None:
            return None
        exp = header.exponent
        return cls(
            due_date=header.due_date,
            invoice_number=header.invoice_number,
            state=state,
            paid=from_minor(header.paid, exp),
            open=from_minor(header.total - header.paid, exp),
        )


class PaymentOutput(Output):
    """What `pay --json` prints: the payment and the bill as it now stands."""

    id: int
    replayed: bool
    bill_id: int
    amount: Decimal
    currency: str
    bill_state: BillState
    bill_open: Decimal

    @classmethod
    def of(cls, payment: TransactionHeader, bill: TransactionHeader, *, replayed: bool) -> "PaymentOutput":
        exp = bill.exponent
        return cls(
            id=payment.id,
            replayed=replayed,
            bill_id=bill.id,
            amount=from_minor(payment.total, exp),
            currency=bill.currency,
            bill_state=bill_state(bill) or BillState.OPEN,
            bill_open=from_minor(bill.total - bill.paid, exp),
        )


class OpenBillOutput(Output):
    id: int
    vendor: str
    invoice_number: str | None
    date: dt.date
    due_date: dt.date
    currency: str
    total: Decimal
    open: Decimal
    days_overdue: int
    bucket: str

    @classmethod
    def of(cls, bill: OpenBill) -> "OpenBillOutput":
        return cls(
            id=bill.id,
            vendor=bill.vendor,
            invoice_number=bill.invoice_number,
            date=bill.date,
            due_date=bill.due_date,
            currency=bill.currency,
            total=from_minor(bill.total, bill.exponent),
            open=from_minor(bill.open, bill.exponent),
            days_overdue=max(bill.days_overdue, 0),
            bucket=bill.bucket,
        )


class AgingRowOutput(Output):
    vendor: str
    currency: str
    buckets: dict[str, Decimal]  # "not yet due", "1-30", "31-60", "61-90", "over 90"
    total: Decimal

    @classmethod
    def of(cls, row: AgingRow) -> "AgingRowOutput":
        return cls(
            vendor=row.vendor,
            currency=row.currency,
            buckets={k: from_minor(v, row.exponent) for k, v in row.buckets.items()},
            total=from_minor(row.total, row.exponent),
        )


class BillsOutput(Output):
    """What `bills --json` prints: the open bills as of a day, and their aging per vendor and currency."""

    as_of: dt.date
    bills: list[OpenBillOutput]
    aging: list[AgingRowOutput]


class StatementLineOutput(Output):
    id: int
    date: dt.date
    kind: Literal["bill", "payment"]
    description: str
    status: Status
    currency: str
    amount: Decimal  # what it adds to the balance owed (a payment is negative)
    pays_id: int | None


class StatementOutput(Output):
    """What `vendors show --json` prints."""

    vendor: str
    terms_days: int
    lines: list[StatementLineOutput]
    balances: dict[str, Decimal]  # by currency: what is owed

    @classmethod
    def of(cls, statement: Statement) -> "StatementOutput":
        return cls(
            vendor=statement.vendor,
            terms_days=statement.terms_days,
            lines=[
                StatementLineOutput(
                    id=x.id,
                    date=x.date,
                    kind="payment" if x.kind == "payment" else "bill",
                    description=x.description,
                    status=x.status,
                    currency=x.currency,
                    amount=from_minor(x.amount, x.exponent),
                    pays_id=x.pays_id,
                )
                for x in statement.lines
            ],
            balances={c: from_minor(owed, exp) for c, (exp, owed) in statement.balances().items()},
        )
