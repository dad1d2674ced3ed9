"""Read-only queries for the Slack views: lists of purchases, what awaits approval, a month's balances.

Every function takes a session and only reads; the caller owns the transaction.
"""

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db.models import Account, JournalEntry, Status, TransactionHeader, Vendor
from db.reports import BalanceRow

PAGE_SIZE = 10


@dataclass(frozen=True)
class Summary:
    """One purchase as a line in a list."""

    id: int
    date: dt.date
    description: str
    vendor: str | None
    currency: str
    exponent: int
    total: int
    status: Status
    created_by: str | None
    created_at: dt.datetime | None
    # A bill's due date, and what its payments have paid so far.
    due_date: dt.date | None = None
    paid: int = 0


@dataclass(frozen=True)
class Page:
    rows: list[Summary]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        after = self.offset + len(self.rows)
        return after if after < self.total else None


@dataclass(frozen=True)
class Filter:
    """Which purchases a list shows; the reversing transactions of voids are never listed."""

    created_by: str | None = None
    status: Status | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    not_created_by: str | None = None


def _conditions(f: Filter) -> list[ColumnElement[bool]]:
    h = TransactionHeader
    conds: list[ColumnElement[bool]] = [h.reverses_id.is_(None)]
    if f.created_by is not None:
        conds.append(h.created_by == f.created_by)
    if f.not_created_by is not None:
        conds.append((h.created_by.is_(None)) | (h.created_by != f.not_created_by))
    if f.status is not None:
        conds.append(h.status == f.status)
    if f.date_from is not None:
        conds.append(h.effective_date >= f.date_from)
    if f.date_to is not None:
        conds.append(h.effective_date <= f.date_to)
    return conds


def list_purchases(session: Session, f: Filter, *, offset: int = 0, limit: int = PAGE_SIZE) -> Page:
    """Newest first (by date, then ID); `total` counts every match, for paging."""
    h = TransactionHeader
    conds = _conditions(f)
    total = session.scalar(select(func.count()).select_from(h).where(*conds)) or 0
    query = (
        select(
            h.id,
            h.effective_date,
            h.description,
            Vendor.name,
            h.currency,
            h.exponent,
            h.total,
            h.status,
            h.created_by,
            h.created_at,
            h.due_date,
            h.paid,
        )
        .outerjoin(Vendor, Vendor.id == h.vendor_id)
        .where(*conds)
        .order_by(h.effective_date.desc(), h.id.desc())
        .offset(max(offset, 0))
        .limit(limit)
    )
    rows = [Summary(*tuple(row)) for row in session.execute(query)]
    return Page(rows, total, max(offset, 0), limit)


def awaiting_approval(session: Session, approver: str, *, limit: int = PAGE_SIZE) -> Page:
    """Pending purchases `approver` may decide: everyone's but their own."""
    return list_purchases(session, Filter(status=Status.PENDING, not_created_by=approver), limit=limit)


def movements(session: Session, date_from: dt.date, date_to: dt.date) -> list[BalanceRow]:
    """Per account and currency, the journal entries of transactions dated in [date_from, date_to]."""
    e, h, a = JournalEntry, TransactionHeader, Account
    query = (
        select(a.code, a.name, a.type, h.currency, h.exponent, func.sum(e.debit), func.sum(e.credit))
        .join(e, e.account_id == a.id)
        .join(h, h.id == e.transaction_id)
        .where(h.effective_date >= date_from, h.effective_date <= date_to)
        .group_by(a.code, a.name, a.type, h.currency, h.exponent)
        .order_by(h.currency, a.code)
    )
    return [BalanceRow(c, n, t, cur, x, int(d), int(cr)) for c, n, t, cur, x, d, cr in session.execute(query)]


def reversal_of(session: Session, transaction_id: int) -> int | None:
    """The ID of the transaction that voided `transaction_id`, if any."""
    return session.scalar(select(TransactionHeader.id).where(TransactionHeader.reverses_id == transaction_id))


def header(session: Session, transaction_id: int) -> TransactionHeader | None:
    """The header alone (no items or entries), fresh from the database."""
    return session.scalar(
        select(TransactionHeader)
        .where(TransactionHeader.id == transaction_id)
        .execution_options(populate_existing=True)
    )
