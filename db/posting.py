"""Posting a purchase: the header, its line items and balanced journal entries, in one transaction.

The caller owns the transaction (`with session_factory.begin() as session:`); these functions
only add and flush, so any exception anywhere rolls everything back: no header without its
entries, ever. PostgreSQL checks the balance again at COMMIT (db/migrations/ledger_sql.py).
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db import chain, periods, rates, tax
from db.accounts import accounts_by_code
from db.bills import bill_terms
from db.clock import Clock
from db.documents import DEFAULT_MAX_BYTES, IncomingDocument, prepare_documents, store_documents
from db.errors import FieldError, IdempotencyConflict, InvalidPurchase, Unbalanced
from db.models import Account, JournalEntry, Status, TransactionDetail, TransactionHeader
from db.money import to_minor
from db.schemas import Purchase
from db.vendors import find_or_create


@dataclass(frozen=True)
class Origin:
    """Who recorded a transaction, and from where."""

    source: str = "cli"
    user: str | None = None
    team: str | None = None
    channel: str | None = None
    # The permalink of the message it was recorded from, if any.
    link: str | None = None


@dataclass(frozen=True)
class Posted:
    id: int
    status: Status
    replayed: bool = False
    # What a fresh posting wrote, so the caller can show it without reading it back.
    written: "Written | None" = None
    # Something the person who asked should be told besides the ID (a void's reversal date).
    note: str | None = None


@dataclass(frozen=True)
class Written:
    header: TransactionHeader
    details: list[TransactionDetail]
    entries: list[JournalEntry]
    accounts: dict[int, Account]  # by ID, every account the rows name


def post_purchase(
    session: Session,
    purchase: Purchase,
    origin: Origin = Origin(),
    *,
    pending: bool = False,
    documents: Sequence[IncomingDocument] = (),
    clock: Clock | None = None,
    max_document_bytes: int = DEFAULT_MAX_BYTES,
    max_future_days: int | None = None,
    base_currency: str | None = None,
) -> Posted:
    """Record `purchase`; with `pending` it waits for approval and has no journal entries yet.

    `documents` (receipts, invoices) are checked before anything is written (`InvalidDocument`)
    and stored in the same transaction, attached by `origin.user` at `clock`'s now. The vendor
    is found by name, or created. With an idempotency key, a second call with the same purchase
    returns the first one's ID and writes nothing (no documents either); the same key with a
    different purchase raises `IdempotencyConflict`. With `max_future_days`, a date further
    than that ahead of `clock`'s today is an error on the date field; so is a date the database
    refuses (in a closed period, or before the books' first period). With `base_currency`, a
    purchase in another currency stores the rate it was converted with and its base amounts
    (db/rates.py); a missing rate is an error on the currency field.
    """
    if documents and clock is None:
        raise ValueError("posting documents needs the books' clock (they are dated when attached)")
    if max_future_days is not None:
        too_far = periods.check_not_too_far(
            purchase.date, clock=clock or Clock(), max_future_days=max_future_days
        )
        if too_far:
            raise InvalidPurchase([FieldError(("date",), too_far)])
    prepared = prepare_documents(documents, max_bytes=max_document_bytes) if documents else []
    key = purchase.idempotency_key
    claim_key = key is not None and _claims_keys_in_query(session)
    if claim_key:
        existing, found = _claim_key_and_find_accounts(session, purchase)
        accounts = _resolve_accounts(purchase, found)
        if existing is not None:
            return _replay(session, purchase)
    else:
        accounts = _resolve_accounts(purchase, accounts_by_code(session, _codes(purchase)))
    exp = purchase.exponent
    taxes = _resolve_taxes(session, purchase)
    rate = None
    if base_currency is not None and purchase.currency != base_currency:
        rate = rates.rate_on(session, purchase.currency, purchase.date)
        if rate is None:
            raise InvalidPurchase(
                [
                    FieldError(
                        ("currency",), rates.missing_rate(purchase.currency, base_currency, purchase.date)
                    )
                ]
            )
    lines = []
    for item in purchase.items:
        subtotal = item.quantity * to_minor(item.unit_price, exp)
        code = taxes[item.tax] if item.tax else None
        amount = tax.split(subtotal, code.rate, inclusive=code.inclusive) if code else 0
        lines.append((subtotal, amount, code.inclusive if code else False))
    vendor = find_or_create(session, purchase.vendor) if purchase.vendor else None
    terms = bill_terms(session, purchase, accounts[purchase.payment_account], vendor)
    header = TransactionHeader(
        effective_date=purchase.date,
        description=purchase.description,
        vendor_id=vendor.id if vendor else None,
        vendor_record=vendor,
        currency=purchase.currency,
        exponent=exp,
        total=sum(subtotal if included else subtotal + amount for subtotal, amount, included in lines),
        payment_account_id=accounts[purchase.payment_account].id,
        status=Status.PENDING if pending else Status.POSTED,
        idempotency_key=key,
        request_hash=purchase.request_hash() if key else None,
        source=origin.source,
        created_by=origin.user,
        team_id=origin.team,
        channel_id=origin.channel,
        source_link=origin.link,
        base_currency=base_currency if rate is not None else None,
        rate=str(rate) if rate is not None else None,
        due_date=terms.due_date,
        invoice_number=terms.invoice_number,
    )
    try:
        with periods.refusal(purchase.date):
            if key is None or claim_key:
                # No key, or (PostgreSQL) a key this transaction holds until it ends: nothing to recover from.
                session.add(header)
                session.flush()
            else:
                try:
                    with session.begin_nested():
                        session.add(header)
                        session.flush()
                except IntegrityError as exc:
                    if "idempotency_key" not in str(exc.orig):
                        raise
                    return _replay(session, purchase)
    except periods.ClosedPeriod as exc:
        raise InvalidPurchase([FieldError(("date",), str(exc))]) from exc

    details = [
        TransactionDetail(
            transaction_id=header.id,
            line=line,
            item=item.name,
            quantity=item.quantity,
            unit_price=to_minor(item.unit_price, exp),
            subtotal=subtotal,
            account_id=accounts[item.account].id,
            tax_code=item.tax,
            tax_amount=amount,
            tax_included=included,
        )
        for line, (item, (subtotal, amount, included)) in enumerate(
            zip(purchase.items, lines, strict=True), start=1
        )
    ]
    tax_accounts = {code: info.account_id for code, info in taxes.items()}
    entries = [] if pending else balanced_entries(header, details, tax_accounts)
    rates.convert_entries(header, entries)
    _insert_rows(session, TransactionDetail, details)
    if entries:
        _insert_rows(session, JournalEntry, entries)
    if prepared:
        assert clock is not None
        store_documents(session, header.id, prepared, by=origin.user, clock=clock)
    content = chain.canonical(
        {name: getattr(header, name) for name in chain.HEADER_FIELDS},
        [tuple(getattr(d, name) for name in chain.DETAIL_FIELDS) for d in details],
        [tuple(getattr(e, name) for name in chain.ENTRY_FIELDS) for e in entries],
        [p.sha256 for p in prepared],
    )
    chain.known(session, header.id, content)
    by_id = {account.id: account for account in accounts.values()}
    return Posted(header.id, header.status, written=Written(header, details, entries, by_id))


# Built once, as Core statements on the tables: the ORM's bulk path and a statement built per call
# cost more client CPU than the INSERTs themselves (bench/RESULTS.md).
_INSERTS = {model: insert(model) for model in (TransactionDetail, JournalEntry)}
_COLUMNS = {model: [c.key for c in model.__table__.columns if c.key != "id"] for model in _INSERTS}


def _insert_rows(session: Session, model: type[TransactionDetail | JournalEntry], rows: list[Any]) -> None:
    """All of `rows` in one statement on the session's transaction, without the unit of work.

    The header goes through the ORM (added and flushed for its ID); its details and entries need no
    identity map, and skipping it is most of the client's cost of a posting (bench/RESULTS.md).
    """
    columns = _COLUMNS[model]
    session.connection().execute(_INSERTS[model], [{c: getattr(row, c) for c in columns} for row in rows])


def balanced_entries(
    header: TransactionHeader, details: list[TransactionDetail], tax_accounts: Mapping[str, int] | None = None
) -> list[JournalEntry]:
    """One debit per item account (the items' net amounts, summed), one per tax account (the
    items' taxes, by `tax_accounts`: tax code -> account ID), one credit to the payment account
    (the gross total); checked to balance."""
    debits: dict[int, int] = defaultdict(int)
    for detail in details:
        debits[detail.account_id] += detail.net
        if detail.tax_code is not None and detail.tax_amount:
            debits[(tax_accounts or {})[detail.tax_code]] += detail.tax_amount
    entries = [
        JournalEntry(transaction_id=header.id, account_id=a, debit=d, credit=0) for a, d in debits.items()
    ]
    entries.append(
        JournalEntry(
            transaction_id=header.id, account_id=header.payment_account_id, debit=0, credit=header.total
        )
    )
    check_balanced(header, entries)
    return entries


def check_balanced(header: TransactionHeader, entries: list[JournalEntry]) -> None:
    debit = sum(e.debit for e in entries)
    credit = sum(e.credit for e in entries)
    if debit != credit or debit != header.total:
        raise Unbalanced(
            f"Transaction {header.id} does not balance (debits {debit}, credits {credit}, total {header.total}); "
            "nothing was saved"
        )


def _codes(purchase: Purchase) -> list[str]:
    return sorted({purchase.payment_account, *(item.account for item in purchase.items)})


# Built once: built per call, it cost more client CPU than the round trips it saves (bench/RESULTS.md).
_claim = select(func.ledger_claim_idempotency_key(bindparam("key", type_=String)).label("existing")).cte(
    "claim"
)
_CLAIM_KEY_AND_FIND_ACCOUNTS = (
    select(_claim.c.existing, Account)
    .select_from(_claim)
    .outerjoin(Account, Account.code.in_(bindparam("codes", expanding=True)))
)


def _claims_keys_in_query(session: Session) -> bool:
    """PostgreSQL claims an idempotency key with an advisory lock (migration 0002); elsewhere the
    header INSERT goes in a SAVEPOINT and a duplicate key is recovered from."""
    return session.get_bind().dialect.name == "postgresql"


def _claim_key_and_find_accounts(
    session: Session, purchase: Purchase
) -> tuple[int | None, dict[str, Account]]:
    """PostgreSQL, in one round trip: lock the idempotency key for this transaction (see
    ledger_claim_idempotency_key in db/migrations/ledger_sql.py), the ID of the header that
    already has it if any, and the accounts the purchase names."""
    rows = session.execute(
        _CLAIM_KEY_AND_FIND_ACCOUNTS, {"key": purchase.idempotency_key, "codes": _codes(purchase)}
    ).all()
    found = {account.code: account for _, account in rows if account is not None}
    return rows[0].existing, found


def _resolve_accounts(purchase: Purchase, found: dict[str, Account]) -> dict[str, Account]:
    errors: list[FieldError] = []
    fields: list[tuple[tuple[str | int, ...], str]] = [(("payment_account",), purchase.payment_account)]
    fields += [(("items", i, "account"), item.account) for i, item in enumerate(purchase.items)]
    for loc, code in fields:
        account = found.get(code)
        if account is None:
            errors.append(FieldError(loc, f"account {code} does not exist in the chart of accounts"))
        elif not account.active:
            errors.append(FieldError(loc, f"account {code} ({account.name}) is closed"))
    if not errors and purchase.payment_account in {item.account for item in purchase.items}:
        errors.append(
            FieldError(("payment_account",), "must differ from the accounts the items are booked to")
        )
    if errors:
        raise InvalidPurchase(errors)
    return found


def _resolve_taxes(session: Session, purchase: Purchase) -> dict[str, tax.TaxInfo]:
    """The tax codes the items name (a query only when some item has one); unknown ones are errors."""
    named = {item.tax for item in purchase.items if item.tax}
    if not named:
        return {}
    found = tax.tax_codes(session, named)
    errors = [
        FieldError(
            ("items", i, "tax"), f"tax code {item.tax} does not exist; purchase-bot tax list shows them"
        )
        for i, item in enumerate(purchase.items)
        if item.tax and item.tax not in found
    ]
    if errors:
        raise InvalidPurchase(errors)
    return found


def _replay(session: Session, purchase: Purchase) -> Posted:
    existing = session.execute(
        select(TransactionHeader.id, TransactionHeader.status, TransactionHeader.request_hash).where(
            TransactionHeader.idempotency_key == purchase.idempotency_key
        )
    ).one()
    if existing.request_hash != purchase.request_hash():
        raise IdempotencyConflict(
            f"This submission was already recorded as transaction {existing.id} with different details; "
            "nothing new was saved"
        )
    return Posted(existing.id, existing.status, replayed=True)
