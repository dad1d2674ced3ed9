"""What happens to a transaction after it is recorded: approval, rejection, and void by reversal.

Each function locks the header row (SELECT ... FOR UPDATE on PostgreSQL; SQLite writers are
serialised already), so two people acting at once get exactly one outcome; the other is told it
was already decided. Posted entries are never changed: a void posts a reversing transaction.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import periods
from db.clock import Clock
from db.errors import AlreadyDecided, LedgerError, NotFound
from db.models import JournalEntry, Status, TransactionDetail, TransactionHeader
from db.posting import Origin, Posted, balanced_entries, check_balanced
from db.rates import convert_entries
from db.tax import tax_codes

MAX_REASON = 500


def lock_header(session: Session, transaction_id: int) -> TransactionHeader:
    header = session.scalar(
        select(TransactionHeader)
        .where(TransactionHeader.id == transaction_id)
        .with_for_update(of=TransactionHeader)
        .execution_options(populate_existing=True)
    )
    if header is None:
        raise NotFound(f"There is no transaction {transaction_id}")
    return header


def _reason(reason: str, what: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise LedgerError(f"Say why the transaction is {what}")
    if len(text) > MAX_REASON:
        raise LedgerError(f"The reason is too long; at most {MAX_REASON} characters")
    return text


def _already_decided(header: TransactionHeader) -> AlreadyDecided:
    if header.status == Status.VOIDED:
        return AlreadyDecided(
            header.id, "voided", by=header.voided_by, at=header.voided_at, reason=header.void_reason
        )
    return AlreadyDecided(header.id, header.status.value, by=header.decided_by, at=header.decided_at)


def approve(session: Session, transaction_id: int, *, by: str, clock: Clock) -> Posted:
    """Post a pending purchase's journal entries; the requester cannot approve their own."""
    header = lock_header(session, transaction_id)
    if header.status != Status.PENDING:
        raise _already_decided(header)
    if header.created_by is not None and header.created_by == by:
        raise LedgerError("You cannot approve your own purchase; another approver has to")
    details = list(
        session.scalars(select(TransactionDetail).where(TransactionDetail.transaction_id == header.id))
    )
    header.status, header.decided_by, header.decided_at = Status.POSTED, by, clock.now()
    codes = {d.tax_code for d in details if d.tax_code}
    tax_accounts = (
        {code: info.account_id for code, info in tax_codes(session, codes).items()} if codes else {}
    )
    entries = balanced_entries(header, details, tax_accounts)
    convert_entries(header, entries)
    session.add_all(entries)
    with periods.refusal(header.effective_date):
        session.flush()
    return Posted(header.id, header.status)


def reject(session: Session, transaction_id: int, *, by: str, reason: str, clock: Clock) -> Posted:
    """Refuse a pending purchase for good; it can never be posted."""
    note = _reason(reason, "rejected")
    header = lock_header(session, transaction_id)
    if header.status != Status.PENDING:
        raise _already_decided(header)
    header.status, header.decided_by, header.decided_at, header.decision_note = (
        Status.REJECTED,
        by,
        clock.now(),
        note,
    )
    session.flush()
    return Posted(header.id, header.status)


def void(session: Session, transaction_id: int, *, reason: str, origin: Origin, clock: Clock) -> Posted:
    """Post the reversing entries of a posted transaction and mark it void; returns the reversal."""
    note = _reason(reason, "voided")
    header = lock_header(session, transaction_id)
    if header.status == Status.VOIDED:
        raise _already_decided(header)
    if header.status == Status.PENDING:
        raise LedgerError(f"Transaction {header.id} is waiting for approval; reject it instead of voiding it")
    if header.status == Status.REJECTED:
        raise LedgerError(f"Transaction {header.id} was rejected and never posted; there is nothing to void")
    if header.reverses_id is not None:
        raise LedgerError(
            f"Transaction {header.id} is itself the void of {header.reverses_id} and cannot be voided"
        )
    if header.paid > 0:
        payments = session.scalars(
            select(TransactionHeader.id)
            .where(TransactionHeader.pays_id == header.id, TransactionHeader.status == Status.POSTED)
            .order_by(TransactionHeader.id)
        ).all()
        raise LedgerError(
            f"Bill {header.id} has payments ({', '.join(map(str, payments))}); void them first, then the bill"
        )
    day = periods.first_open_day(session, clock.today())
    reversal = TransactionHeader(
        effective_date=day,
        description=f"Void of transaction {header.id}: {note}"[:200],
        vendor_id=header.vendor_id,
        currency=header.currency,
        exponent=header.exponent,
        total=header.total,
        payment_account_id=header.payment_account_id,
        status=Status.POSTED,
        reverses_id=header.id,
        source=origin.source,
        created_by=origin.user,
        team_id=origin.team,
        channel_id=origin.channel,
        base_currency=header.base_currency,
        rate=header.rate,
    )
    session.add(reversal)
    with periods.refusal(day):
        session.flush()
    original = session.scalars(select(JournalEntry).where(JournalEntry.transaction_id == header.id)).all()
    entries = [
        JournalEntry(
            transaction_id=reversal.id,
            account_id=e.account_id,
            debit=e.credit,
            credit=e.debit,
            base_debit=e.base_credit,
            base_credit=e.base_debit,
        )
        for e in original
    ]
    check_balanced(reversal, entries)
    session.add_all(entries)
    header.status, header.voided_by, header.voided_at, header.void_reason = (
        Status.VOIDED,
        origin.user or origin.source,
        clock.now(),
        note,
    )
    session.flush()
    told = None
    if periods.is_closed(session, header.effective_date):
        told = (
            f"Transaction {header.id} is dated in closed period {periods.month_of(header.effective_date)}; "
            f"its reversal {reversal.id} is dated {day.isoformat()}, in the first open period."
        )
    return Posted(reversal.id, reversal.status, note=told)
