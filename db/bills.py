"""Bills: purchases bought on account (their payment account is a payable, a liability), paid later.

A bill names its vendor, may carry the vendor's invoice number (once per vendor among live bills)
and is due some days after its date: the vendor's payment terms, `net 30` unless set. What it
still owes is its total less its live payments (db/payments.py); the database keeps that sum in
`paid` and never lets it pass the total (migration 0005).
"""

import datetime as dt
import enum
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import Subquery, and_, func, select
from sqlalchemy.orm import Session, aliased

from db.errors import FieldError, InvalidPurchase, LedgerError, NotFound
from db.models import Account, AccountType, Status, TransactionHeader, Vendor
from db.schemas import Purchase
from db.vendors import find_vendor

DEFAULT_TERMS_DAYS = 30
MAX_TERMS_DAYS = 3650
LIVE = (Status.PENDING, Status.POSTED)


class BillState(enum.StrEnum):
    OPEN = "open"
    PARTLY_PAID = "partly paid"
    PAID = "paid"


def bill_state(header: TransactionHeader) -> BillState | None:
    """Open, partly paid or paid, from its payments; None for a transaction that is not a bill."""
    return None if header.due_date is None else state_of(header.total, header.paid)


def state_of(total: int, paid: int) -> BillState:
    if paid == 0:
        return BillState.OPEN
    return BillState.PAID if paid >= total else BillState.PARTLY_PAID


def is_payable(account: Account) -> bool:
    """Paying from a liability means buying on account: the purchase is a bill."""
    return account.type == AccountType.LIABILITY


@dataclass(frozen=True)
class BillTerms:
    due_date: dt.date | None = None
    invoice_number: str | None = None


def bill_terms(session: Session, purchase: Purchase, payment: Account, vendor: Vendor | None) -> BillTerms:
    """The due date and invoice number a purchase is recorded with; checked (`InvalidPurchase`).

    A cash purchase has neither; a bill needs a vendor, is due by its terms unless a date is
    given, and its invoice number must be new for its vendor.
    """
    if not is_payable(payment):
        wrong = [f for f in ("due_date", "invoice_number") if getattr(purchase, f) is not None]
        if wrong:
            raise InvalidPurchase(
                [
                    FieldError(
                        (f,),
                        f"is only for a bill; {payment.code} {payment.name} is paid at once "
                        "(choose a payable such as 2000 Accounts Payable to buy on account)",
                    )
                    for f in wrong
                ]
            )
        return BillTerms()
    if vendor is None:
        raise InvalidPurchase(
            [
                FieldError(
                    ("vendor",), f"is required for a bill (bought on account: {payment.code} {payment.name})"
                )
            ]
        )
    due = purchase.due_date or purchase.date + dt.timedelta(days=terms_days(vendor))
    invoice = purchase.invoice_number
    if invoice is not None and vendor.id is not None:
        first = session.execute(
            select(TransactionHeader.id, TransactionHeader.idempotency_key).where(
                TransactionHeader.vendor_id == vendor.id,
                TransactionHeader.invoice_number == invoice,
                TransactionHeader.status.in_(LIVE),
            )
        ).first()
        # The same submission again (its idempotency key) is a replay, answered by the caller.
        if first is not None and (
            first.idempotency_key is None or first.idempotency_key != purchase.idempotency_key
        ):
            raise InvalidPurchase(
                [
                    FieldError(
                        ("invoice_number",),
                        f"{invoice} from {vendor.name} is already recorded as transaction {first.id}",
                    )
                ]
            )
    return BillTerms(due, invoice)


def terms_days(vendor: Vendor) -> int:
    return DEFAULT_TERMS_DAYS if vendor.payment_terms_days is None else vendor.payment_terms_days


def set_terms(session: Session, name: str, days: int) -> Vendor:
    """A vendor's payment terms: its bills are due `days` after their date unless given a date."""
    if not 0 <= days <= MAX_TERMS_DAYS:
        raise LedgerError(f"Payment terms must be between 0 and {MAX_TERMS_DAYS} days")
    vendor = find_vendor(session, name)
    if vendor is None:
        raise NotFound(f"There is no vendor {name!r}")
    vendor.payment_terms_days = days
    session.flush()
    return vendor


# --- What is owed ------------------------------------------------------------------------------

BUCKETS = ("not yet due", "1-30", "31-60", "61-90", "over 90")


def bucket(days_overdue: int) -> str:
    if days_overdue <= 0:
        return BUCKETS[0]
    if days_overdue <= 30:
        return BUCKETS[1]
    if days_overdue <= 60:
        return BUCKETS[2]
    if days_overdue <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


@dataclass(frozen=True)
class OpenBill:
    id: int
    vendor: str
    invoice_number: str | None
    date: dt.date
    due_date: dt.date
    currency: str
    exponent: int
    total: int
    open: int  # what is still owed, as of the day asked about
    days_overdue: int  # <= 0: not due yet

    @property
    def bucket(self) -> str:
        return bucket(self.days_overdue)


@dataclass
class AgingRow:
    """One vendor's open bills in one currency, summed per bucket."""

    vendor: str
    currency: str
    exponent: int
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


def _paid_by(as_of: dt.date | None) -> Subquery:
    """Per bill, the sum of its live payments dated by `as_of`."""
    payment = aliased(TransactionHeader)
    conditions = [payment.pays_id.is_not(None), payment.status == Status.POSTED]
    if as_of is not None:
        conditions.append(payment.effective_date <= as_of)
    return (
        select(payment.pays_id, func.sum(payment.total).label("paid"))
        .where(and_(*conditions))
        .group_by(payment.pays_id)
        .subquery()
    )


def open_bills(
    session: Session, *, as_of: dt.date, vendor: str | None = None, due_by: dt.date | None = None
) -> list[OpenBill]:
    """Posted bills dated by `as_of` with something still owed on it (payments dated after it do
    not count), oldest due first; with `due_by`, only those due by then."""
    paid = _paid_by(as_of)
    h = TransactionHeader
    query = (
        select(h, func.coalesce(paid.c.paid, 0))
        .outerjoin(paid, paid.c.pays_id == h.id)
        .where(h.due_date.is_not(None), h.status == Status.POSTED, h.effective_date <= as_of)
        .order_by(h.due_date, h.id)
    )
    if vendor is not None:
        found = find_vendor(session, vendor)
        if found is None:
            raise NotFound(f"There is no vendor {vendor!r}")
        query = query.where(h.vendor_id == found.id)
    if due_by is not None:
        query = query.where(h.due_date <= due_by)
    bills = []
    for header, paid_then in session.execute(query):
        assert header.due_date is not None
        owed = header.total - int(paid_then)
        if owed > 0:
            bills.append(
                OpenBill(
                    id=header.id,
                    vendor=header.vendor or "",
                    invoice_number=header.invoice_number,
                    date=header.effective_date,
                    due_date=header.due_date,
                    currency=header.currency,
                    exponent=header.exponent,
                    total=header.total,
                    open=owed,
                    days_overdue=(as_of - header.due_date).days,
                )
            )
    return bills


def aging(bills: list[OpenBill]) -> list[AgingRow]:
    """Per vendor and currency (sorted), the open amounts in each aging bucket."""
    rows: dict[tuple[str, str], AgingRow] = {}
    for bill in bills:
        row = rows.setdefault(
            (bill.vendor, bill.currency), AgingRow(bill.vendor, bill.currency, bill.exponent)
        )
        row.buckets[bill.bucket] += bill.open
    return [rows[key] for key in sorted(rows, key=lambda k: (k[0].casefold(), k[1]))]


# --- A vendor's statement ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementLine:
    id: int
    date: dt.date
    kind: str  # "bill" or "payment"
    description: str
    status: Status
    currency: str
    exponent: int
    amount: int  # what the line adds to the balance owed: a bill's total, minus a payment's
    pays_id: int | None = None


@dataclass(frozen=True)
class Statement:
    vendor: str
    terms_days: int
    lines: list[StatementLine]

    def balances(self) -> dict[str, tuple[int, int]]:
        """Per currency: (exponent, what is owed), counting posted bills and payments only."""
        out: dict[str, tuple[int, int]] = {}
        sums: dict[str, int] = defaultdict(int)
        for line in self.lines:
            if line.status == Status.POSTED:
                sums[line.currency] += line.amount
            out[line.currency] = (line.exponent, 0)
        return {currency: (exp, sums[currency]) for currency, (exp, _) in sorted(out.items())}


def vendor_statement(session: Session, name: str) -> Statement:
    """The vendor's bills and payments in date order, with what is owed per currency."""
    vendor = find_vendor(session, name)
    if vendor is None:
        raise NotFound(f"There is no vendor {name!r}")
    h = TransactionHeader
    headers = session.scalars(
        select(h)
        .where(h.vendor_id == vendor.id, (h.due_date.is_not(None)) | (h.pays_id.is_not(None)))
        .order_by(h.effective_date, h.id)
    ).all()
    lines = [
        StatementLine(
            id=x.id,
            date=x.effective_date,
            kind="payment" if x.pays_id is not None else "bill",
            description=x.description,
            status=x.status,
            currency=x.currency,
            exponent=x.exponent,
            amount=-x.total if x.pays_id is not None else x.total,
            pays_id=x.pays_id,
        )
        for x in headers
    ]
    return Statement(vendor.name, terms_days(vendor), lines)
