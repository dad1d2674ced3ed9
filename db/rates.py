"""Exchange rates into the books' base currency, and the base amounts of a posting.

Rates come from a CSV file (`date,currency,rate`: base-currency units for one unit of the
currency), never from the network. A posting in another currency is converted with the latest
rate on or before its date, in its own transaction: the rate is stored on its header and each
journal entry gets its base amount. Each debit is converted on its own (half up to the base
currency's minor unit) and the credit is the sum of the debits' base amounts, so the base amounts
balance exactly, transaction by transaction.
"""

import csv
import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.errors import LedgerError
from db.models import Account, ExchangeRate, JournalEntry, TransactionHeader
from db.money import exponent
from db.reports import BalanceRow, TrialBalance

COLUMNS = ("date", "currency", "rate")
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True)
class Rate:
    date: dt.date
    currency: str
    rate: Decimal


def parse_rates(text: str) -> list[Rate]:
    """A rates CSV, checked line by line; an error names the line and what is wrong."""
    reader = csv.reader(io.StringIO(text))
    header = [c.strip().lower() for c in next(reader, [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise LedgerError(
            f"the rates file has no {', '.join(missing)} column; its first line must be date,currency,rate"
        )
    at = {c: header.index(c) for c in COLUMNS}
    rates = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise LedgerError(f"line {number}: expected {len(header)} values, found {len(row)}")
        day, currency, value = (row[at[c]].strip() for c in COLUMNS)
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise LedgerError(f"line {number}: {day!r} is not a date (YYYY-MM-DD)") from None
        currency = currency.upper()
        if not _CURRENCY.fullmatch(currency):
            raise LedgerError(f"line {number}: {currency!r} is not a currency code such as EUR")
        try:
            rate = Decimal(value)
        except InvalidOperation:
            raise LedgerError(f"line {number}: the rate {value!r} is not a number") from None
        if not rate.is_finite() or rate <= 0:
            raise LedgerError(f"line {number}: the rate must be more than 0, not {value}")
        rates.append(Rate(date, currency, rate))
    if not rates:
        raise LedgerError("the rates file has no rates")
    return rates


def load_rates(session: Session, rates: Sequence[Rate]) -> int:
    """Add the rates, replacing any for the same date and currency."""
    for r in rates:
        row = session.get(ExchangeRate, (r.date, r.currency)) or ExchangeRate(
            date=r.date, currency=r.currency
        )
        row.rate = str(r.rate)
        session.add(row)
    session.flush()
    return len(rates)


def list_rates(session: Session) -> list[Rate]:
    rows = session.scalars(select(ExchangeRate).order_by(ExchangeRate.currency, ExchangeRate.date))
    return [Rate(r.date, r.currency, Decimal(r.rate)) for r in rows]


def rate_on(session: Session, currency: str, day: dt.date) -> Decimal | None:
    """The latest rate for `currency` on or before `day`."""
    value = session.scalar(
        select(ExchangeRate.rate)
        .where(ExchangeRate.currency == currency, ExchangeRate.date <= day)
        .order_by(ExchangeRate.date.desc())
        .limit(1)
    )
    return Decimal(value) if value is not None else None


def missing_rate(currency: str, base: str, day: dt.date) -> str:
    return (
        f"there is no {currency} to {base} exchange rate on or before {day.isoformat()}; "
        "load one with purchase-bot rates load FILE"
    )


def convert_entries(header: TransactionHeader, entries: Sequence[JournalEntry]) -> None:
    """Set each entry's base amounts from the header's rate (the module's rounding rule)."""
    if header.rate is None or header.base_currency is None:
        return
    rate = Decimal(header.rate)
    scale = Decimal(10) ** (exponent(header.base_currency) - header.exponent)

    def base(minor: int) -> int:
        return int((minor * rate * scale).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    debits = [e for e in entries if e.debit]
    credits = [e for e in entries if e.credit]
    for e in debits:
        e.base_debit, e.base_credit = base(e.debit), 0
    for e in credits:
        e.base_debit, e.base_credit = 0, base(e.credit)
    # The rounding difference, if any, goes to the largest credit: the base amounts balance.
    difference = sum(e.base_debit or 0 for e in debits) - sum(e.base_credit or 0 for e in credits)
    largest = max(credits, key=lambda e: e.credit)
    largest.base_credit = (largest.base_credit or 0) + difference


def base_trial_balance(session: Session, base: str) -> TrialBalance:
    """Per account, debits and credits in the base currency: entries of base-currency
    transactions as they are, the others by their stored base amounts. Refused, naming them, when
    transactions in other currencies have none (recorded before rates were loaded)."""
    e, h = JournalEntry, TransactionHeader
    converted = h.base_currency == base
    unconverted = list(
        session.scalars(
            select(h.id)
            .where(h.currency != base, (h.base_currency.is_(None)) | (h.base_currency != base))
            .where(h.id.in_(select(e.transaction_id)))
            .order_by(h.id)
            .limit(6)
        )
    )
    if unconverted:
        listed = ", ".join(str(i) for i in unconverted[:5]) + (" and more" if len(unconverted) > 5 else "")
        raise LedgerError(
            f"transactions {listed} are in another currency and have no {base} amounts (recorded before "
            f"{base} was the base currency or before rates were loaded); the {base} trial balance cannot include them"
        )
    debit = func.sum(case((converted & (h.currency != base), e.base_debit), else_=e.debit))
    credit = func.sum(case((converted & (h.currency != base), e.base_credit), else_=e.credit))
    query = (
        select(Account.code, Account.name, Account.type, debit, credit)
        .join(e, e.account_id == Account.id)
        .join(h, h.id == e.transaction_id)
        .group_by(Account.code, Account.name, Account.type)
        .order_by(Account.code)
    )
    exp = exponent(base)
    return TrialBalance(
        [BalanceRow(c, n, t, base, exp, int(d), int(cr)) for c, n, t, d, cr in session.execute(query)]
    )
