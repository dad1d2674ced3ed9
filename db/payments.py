"""Paying a bill: a transaction of its own, linked to the bill, debiting the payable and crediting
the asset account paid from.

Like a purchase: the header is added and flushed for its ID, then its balanced entries, all in
the caller's one transaction; an idempotency key makes a retried request pay once. The bill's
row is locked first (FOR UPDATE on PostgreSQL; SQLite serialises writers), so a payment sees
what the bill still owes after any payment that raced it; the database checks it again
(migration 0005: a bill's `paid` never passes its total).
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import periods, rates
from db.accounts import accounts_by_code
from db.clock import Clock
from db.errors import FieldError, IdempotencyConflict, InvalidPayment, LedgerError
from db.lifecycle import lock_header
from db.models import Account, AccountType, JournalEntry, Status, TransactionHeader
from db.money import format_amount, to_minor
from db.posting import Origin, Posted, Written, check_balanced
from db.schemas import parse_amount


@dataclass(frozen=True)
class PaymentRequest:
    """What someone asked to pay: `amount` None pays what is still open; `date` None is today."""

    bill_id: int
    from_account: str
    amount: str | None = None
    date: dt.date | None = None
    idempotency_key: str | None = None

    def request_hash(self) -> str:
        canonical = {
            "bill": self.bill_id,
            "from": self.from_account.upper(),
            "amount": None if self.amount is None else self.amount.strip(),
            "date": None if self.date is None else self.date.isoformat(),
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def pay(session: Session, request: PaymentRequest, origin: Origin, *, clock: Clock) -> Posted:
    """Record a payment of a bill; every reason it cannot be paid is a `LedgerError` (field
    problems an `InvalidPayment`), and nothing is written."""
    bill = lock_header(session, request.bill_id)
    key = request.idempotency_key
    if key is not None:
        replayed = _replay(session, request)
        if replayed is not None:
            return replayed
    check_payable(bill)
    exp = bill.exponent
    owed = bill.total - bill.paid
    amount = _amount(request.amount, bill.currency, exp, owed, bill.id)
    date = request.date or clock.today()
    account = accounts_by_code(session, [request.from_account.upper()]).get(request.from_account.upper())
    errors = []
    if account is None:
        errors.append(
            FieldError(
                ("from_account",), f"account {request.from_account} does not exist in the chart of accounts"
            )
        )
    elif not account.active:
        errors.append(FieldError(("from_account",), f"account {account.code} ({account.name}) is closed"))
    elif account.type != AccountType.ASSET:
        errors.append(
            FieldError(
                ("from_account",),
                f"must be an asset account to pay from (cash or bank); {account.code} {account.name} "
                f"is {'a' if account.type == AccountType.LIABILITY else 'an'} {account.type.value} account",
            )
        )
    if date < bill.effective_date:
        errors.append(
            FieldError(("date",), f"must not be before the bill's date, {bill.effective_date.isoformat()}")
        )
    if errors:
        raise InvalidPayment(errors)
    assert account is not None
    header = TransactionHeader(
        effective_date=date,
        description=f"Payment of bill {bill.id}"
        + (f", invoice {bill.invoice_number}" if bill.invoice_number else ""),
        vendor_id=bill.vendor_id,
        currency=bill.currency,
        exponent=exp,
        total=amount,
        payment_account_id=account.id,
        status=Status.POSTED,
        idempotency_key=key,
        request_hash=request.request_hash() if key else None,
        pays_id=bill.id,
        source=origin.source,
        created_by=origin.user,
        team_id=origin.team,
        channel_id=origin.channel,
        source_link=origin.link,
        # In the bill's base currency at the bill's rate: the payable it clears is cleared in base
        # amounts too (no realised exchange gain or loss is recorded).
        base_currency=bill.base_currency,
        rate=bill.rate,
    )
    try:
        with periods.refusal(date), session.begin_nested():
            session.add(header)
            session.flush()
    except periods.ClosedPeriod as exc:
        raise InvalidPayment([FieldError(("date",), str(exc))]) from exc
    except IntegrityError as exc:
        replayed = _replay(session, request) if "idempotency_key" in str(exc.orig) else None
        if replayed is None:
            raise
        return replayed
    entries = [
        JournalEntry(transaction_id=header.id, account_id=bill.payment_account_id, debit=amount, credit=0),
        JournalEntry(transaction_id=header.id, account_id=account.id, debit=0, credit=amount),
    ]
    check_balanced(header, entries)
    rates.convert_entries(header, entries)
    session.add_all(entries)
    session.flush()
    payable = session.get(Account, bill.payment_account_id)
    accounts = {account.id: account} | ({payable.id: payable} if payable is not None else {})
    return Posted(header.id, header.status, written=Written(header, [], entries, accounts))


def check_payable(bill: TransactionHeader) -> None:
    """Raise `LedgerError` saying why `bill` cannot be paid now (not a bill, not posted, paid)."""
    if bill.pays_id is not None:
        raise LedgerError(f"Transaction {bill.id} is a payment (of bill {bill.pays_id}), not a bill")
    if bill.due_date is None:
        raise LedgerError(
            f"Transaction {bill.id} is not a bill: it was paid when it was bought, so there is nothing to pay"
        )
    if bill.status == Status.VOIDED:
        raise LedgerError(f"Bill {bill.id} is voided; there is nothing to pay")
    if bill.status == Status.REJECTED:
        raise LedgerError(f"Bill {bill.id} was rejected; there is nothing to pay")
    if bill.status == Status.PENDING:
        raise LedgerError(f"Bill {bill.id} is waiting for approval; it can be paid once it is approved")
    if bill.paid >= bill.total:
        raise LedgerError(f"Bill {bill.id} is already paid in full")


def _amount(text: str | None, currency: str, exp: int, owed: int, bill_id: int) -> int:
    if text is None:
        return owed
    try:
        amount = parse_amount(text)
    except ValueError as exc:
        raise InvalidPayment([FieldError(("amount",), str(exc))]) from None
    if amount != amount.quantize(Decimal(1).scaleb(-exp)):
        places = "no decimal places" if exp == 0 else f"at most {exp} decimal places"
        raise InvalidPayment(
            [FieldError(("amount",), f"has too many decimal places; {currency} amounts have {places}")]
        )
    minor = to_minor(amount, exp)
    if minor > owed:
        raise InvalidPayment(
            [
                FieldError(
                    ("amount",),
                    f"is more than bill {bill_id} still owes ({format_amount(owed, exp, currency)})",
                )
            ]
        )
    return minor


def _replay(session: Session, request: PaymentRequest) -> Posted | None:
    existing = session.execute(
        select(TransactionHeader.id, TransactionHeader.status, TransactionHeader.request_hash).where(
            TransactionHeader.idempotency_key == request.idempotency_key
        )
    ).first()
    if existing is None:
        return None
    if existing.request_hash != request.request_hash():
        raise IdempotencyConflict(
            f"This request was already recorded as transaction {existing.id} with different details; "
            "nothing new was saved"
        )
    return Posted(existing.id, existing.status, replayed=True)
