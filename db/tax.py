"""Purchase taxes (VAT, GST, PPN): tax codes, the split of an item into net and tax, the report.

The rounding rule, one for every line: an item's tax is computed on its own subtotal and rounded
half up to the currency's minor unit (ROUND_HALF_UP, as tax authorities such as Indonesia's DJP
and the EU's VAT rules use per line). Exclusive: tax = round(subtotal x rate / 100), and the
purchase's total is the sum of subtotal + tax. Inclusive: tax = round(subtotal x rate / (100 +
rate)), net = subtotal - tax, and the total is the sum of subtotals. The totals are sums of the
rounded lines, so they are exact: debits (nets and taxes) always equal the credit (the gross).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.errors import LedgerError
from db.models import Account, AccountType, Status, TaxCode, TransactionDetail, TransactionHeader

TAX_ACCOUNT_TYPES = (AccountType.ASSET, AccountType.LIABILITY)


def _code(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class TaxSpec(BaseModel):
    """One row of a `tax load` file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[
        str, BeforeValidator(_code), Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9_.-]+$")
    ]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    rate: Decimal
    account: Annotated[str, Field(min_length=1, max_length=20)]
    inclusive: bool = False

    @field_validator("rate", mode="before")
    @classmethod
    def _rate(cls, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            raise ValueError('must be a percentage as a decimal string, e.g. "11"')
        try:
            rate = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f'{value!r} is not a number; give a percentage such as "11"') from None
        if not rate.is_finite() or not 0 <= rate <= 100:
            raise ValueError(f"must be between 0 and 100 percent, not {value}")
        return rate


def parse_tax_codes(rows: Any) -> list[TaxSpec]:
    """Validate a tax file; the error names the row and field."""
    if not isinstance(rows, list) or not rows:
        raise LedgerError('a tax file is a JSON list of {"code", "name", "rate", "account", "inclusive"}')
    specs = []
    for i, row in enumerate(rows, start=1):
        try:
            specs.append(TaxSpec.model_validate(row))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"]) or "row"
            raise LedgerError(
                f"tax code {i}: {field}: {error['msg'].removeprefix('Value error, ')}"
            ) from None
    codes = [s.code for s in specs]
    if len(set(codes)) != len(codes):
        raise LedgerError("each tax code may be listed once")
    return specs


def load_tax_codes(session: Session, specs: Iterable[TaxSpec]) -> int:
    """Add or update the listed codes (codes already used stay, so posted items keep theirs)."""
    specs = list(specs)
    accounts = {
        a.code: a
        for a in session.scalars(select(Account).where(Account.code.in_([s.account for s in specs])))
    }
    for spec in specs:
        account = accounts.get(spec.account)
        if account is None:
            raise LedgerError(
                f"tax code {spec.code}: account {spec.account} does not exist in the chart of accounts"
            )
        if account.type not in TAX_ACCOUNT_TYPES:
            raise LedgerError(
                f"tax code {spec.code}: account {spec.account} ({account.name}) is an {account.type.value} account; "
                "recoverable tax goes to an asset account such as 1400 Input Tax"
            )
        row = session.get(TaxCode, spec.code) or TaxCode(code=spec.code)
        row.name, row.rate, row.account_id, row.inclusive = (
            spec.name,
            str(spec.rate),
            account.id,
            spec.inclusive,
        )
        session.add(row)
    session.flush()
    return len(specs)


@dataclass(frozen=True)
class TaxInfo:
    code: str
    name: str
    rate: Decimal
    account: str
    account_id: int
    inclusive: bool


def tax_codes(session: Session, codes: Iterable[str] | None = None) -> dict[str, TaxInfo]:
    """The tax codes (those named, if `codes` is given), by code."""
    query = (
        select(TaxCode, Account.code).join(Account, Account.id == TaxCode.account_id).order_by(TaxCode.code)
    )
    if codes is not None:
        query = query.where(TaxCode.code.in_(list(codes)))
    return {
        t.code: TaxInfo(t.code, t.name, Decimal(t.rate), account, t.account_id, t.inclusive)
        for t, account in session.execute(query)
    }


def split(subtotal: int, rate: Decimal, *, inclusive: bool) -> int:
    """The tax in minor units on a line of `subtotal` minor units (the module's rounding rule)."""
    base = Decimal(subtotal) * rate
    exact = base / (100 + rate) if inclusive else base / 100
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class TaxReportRow:
    code: str
    currency: str
    exponent: int
    net: int
    tax: int


def tax_report(session: Session, date_from: dt.date | None, date_to: dt.date | None) -> list[TaxReportRow]:
    """Per tax code and currency, the net and tax of the posted purchases dated in the range (a
    voided purchase is left out: its reversal took its tax back)."""
    d, h = TransactionDetail, TransactionHeader
    net = func.sum(case((d.tax_included, d.subtotal - d.tax_amount), else_=d.subtotal))
    query = (
        select(d.tax_code, h.currency, h.exponent, net, func.sum(d.tax_amount))
        .join(h, h.id == d.transaction_id)
        .where(d.tax_code.is_not(None), h.status == Status.POSTED)
        .group_by(d.tax_code, h.currency, h.exponent)
        .order_by(d.tax_code, h.currency)
    )
    if date_from is not None:
        query = query.where(h.effective_date >= date_from)
    if date_to is not None:
        query = query.where(h.effective_date <= date_to)
    return [
        TaxReportRow(code, currency, exp, int(n), int(t))
        for code, currency, exp, n, t in session.execute(query)
    ]
