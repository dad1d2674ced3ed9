"""Read-only views of the books: one transaction, the trial balance, and a full re-check."""

from dataclasses import dataclass

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from db import chain
from db.documents import verify_documents
from db.errors import NotFound
from db.models import (
    Account,
    AccountBalance,
    AccountType,
    JournalEntry,
    Status,
    TransactionDetail,
    TransactionDocument,
    TransactionHeader,
)


def get_transaction(session: Session, transaction_id: int) -> TransactionHeader:
    """The header with its items, entries and their accounts loaded."""
    header = session.scalar(
        select(TransactionHeader)
        .where(TransactionHeader.id == transaction_id)
        .options(
            selectinload(TransactionHeader.details).selectinload(TransactionDetail.account),
            selectinload(TransactionHeader.entries).selectinload(JournalEntry.account),
            selectinload(TransactionHeader.payment_account),
            joinedload(TransactionHeader.vendor_record),
        )
    )
    if header is None:
        raise NotFound(f"There is no transaction {transaction_id}")
    return header


@dataclass(frozen=True)
class BalanceRow:
    code: str
    name: str
    type: AccountType
    currency: str
    exponent: int
    debit: int
    credit: int

    @property
    def balance(self) -> int:
        """On the account's normal side: debits less credits for assets and expenses."""
        return self.debit - self.credit if self.type.debit_normal else self.credit - self.debit


@dataclass(frozen=True)
class TrialBalance:
    rows: list[BalanceRow]

    def totals(self) -> dict[str, tuple[int, int]]:
        """Per currency: (total debits, total credits); equal in balanced books."""
        out: dict[str, tuple[int, int]] = {}
        for row in self.rows:
            debit, credit = out.get(row.currency, (0, 0))
            out[row.currency] = (debit + row.debit, credit + row.credit)
        return out

    @property
    def balanced(self) -> bool:
        return all(d == c for d, c in self.totals().values())


def trial_balance(session: Session, account_code: str | None = None) -> TrialBalance:
    """Per account and currency, from the balances the database maintains (migration 0002): the
    cost does not grow with the number of journal entries. `verify` re-checks them."""
    b = AccountBalance
    query = (
        select(
            Account.code,
            Account.name,
            Account.type,
            b.currency,
            b.exponent,
            func.sum(b.debit),
            func.sum(b.credit),
        )
        .join(b, b.account_id == Account.id)
        .group_by(Account.code, Account.name, Account.type, b.currency, b.exponent)
        .order_by(b.currency, Account.code)
    )
    if account_code is not None:
        query = query.where(Account.code == account_code.upper())
    rows = [
        BalanceRow(c, n, t, cur, exp, int(d), int(cr)) for c, n, t, cur, exp, d, cr in session.execute(query)
    ]
    return TrialBalance(rows)


def account_balance(session: Session, account_code: str, currency: str) -> BalanceRow | None:
    """One account's debits, credits and balance in one currency; None when it has no entries in it."""
    rows = [r for r in trial_balance(session, account_code).rows if r.currency == currency.upper()]
    return rows[0] if len(rows) == 1 else None


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the books: a transaction's (`transaction_id`); with `account` set
    and `transaction_id` None, an account's maintained balance; with `document` set (its names
    and SHA-256), a stored document's bytes."""

    transaction_id: int | None
    message: str
    account: str | None = None
    document: str | None = None

    def __str__(self) -> str:
        if self.document is not None:
            where = f"Document {self.document}"
        elif self.account is not None:
            where = f"Account {self.account}"
        else:
            where = f"Transaction {self.transaction_id}"
        return f"{where}: {self.message}"


def verify(session: Session, *, since: int | None = None, head: str | None = None) -> list[Problem]:
    """Re-check every transaction from scratch; an empty list means the books are sound.

    The hash chain (db/chain.py) is checked from transaction `since` on, and must hold `head`."""
    chained = chain.verify(session, since=since, expected_head=head)
    sums = (
        select(
            JournalEntry.transaction_id.label("tx"),
            func.sum(JournalEntry.debit).label("debit"),
            func.sum(JournalEntry.credit).label("credit"),
        )
        .group_by(JournalEntry.transaction_id)
        .subquery()
    )
    items = (
        select(
            TransactionDetail.transaction_id.label("tx"),
            func.sum(
                case(
                    (TransactionDetail.tax_included, TransactionDetail.subtotal),
                    else_=TransactionDetail.subtotal + TransactionDetail.tax_amount,
                )
            ).label("subtotal"),
        )
        .group_by(TransactionDetail.transaction_id)
        .subquery()
    )
    h = TransactionHeader
    debit = func.coalesce(sums.c.debit, 0)
    credit = func.coalesce(sums.c.credit, 0)
    posted = h.status.in_([Status.POSTED, Status.VOIDED])
    checks = [
        (debit != credit, "debits do not equal credits"),
        (posted & (debit != h.total), "is posted but its journal entries do not add up to its total"),
        (~posted & (sums.c.tx.is_not(None)), "is not posted but has journal entries"),
        (
            h.reverses_id.is_(None) & h.pays_id.is_(None) & (func.coalesce(items.c.subtotal, 0) != h.total),
            "items do not add up to its total",
        ),
    ]
    base = select(h.id).outerjoin(sums, sums.c.tx == h.id).outerjoin(items, items.c.tx == h.id)
    queries = [base.add_columns(literal(message).label("message")).where(cond) for cond, message in checks]
    reversed_of = select(TransactionHeader.reverses_id).where(TransactionHeader.reverses_id.is_not(None))
    queries.append(
        select(h.id, literal("is marked void but has no reversing transaction").label("message")).where(
            (h.status == Status.VOIDED) & h.id.not_in(reversed_of)
        )
    )
    rows = session.execute(union_all(*queries).order_by("id"))
    return (
        [Problem(tx, message) for tx, message in rows]
        + [Problem(tx, message) for tx, message in chained]
        + verify_balances(session)
        + check_documents(session)
        + verify_bills(session)
    )


def verify_bills(session: Session) -> list[Problem]:
    """No bill overpaid, each bill's kept `paid` equal to its live payments, and each payable
    account's balance (per currency) equal to what its posted bills still owe."""
    payment = aliased(TransactionHeader)
    h = TransactionHeader
    live = (
        select(payment.pays_id, func.sum(payment.total).label("sum"))
        .where(payment.pays_id.is_not(None), payment.status == Status.POSTED)
        .group_by(payment.pays_id)
        .subquery()
    )
    paid = func.coalesce(live.c.sum, 0)
    problems = [
        Problem(bill_id, message)
        for bill_id, message in session.execute(
            union_all(
                select(h.id, literal("is paid more than its total").label("message"))
                .outerjoin(live, live.c.pays_id == h.id)
                .where(paid > h.total),
                select(h.id, literal("has a paid amount that differs from its payments").label("message"))
                .outerjoin(live, live.c.pays_id == h.id)
                .where(h.paid != paid),
            ).order_by("id")
        )
    ]
    owed = (
        select(h.payment_account_id, h.currency, func.sum(h.total - h.paid))
        .where(h.due_date.is_not(None), h.status == Status.POSTED)
        .group_by(h.payment_account_id, h.currency)
    )
    balances = {(r.code, r.currency): r.balance for r in trial_balance(session).rows}
    codes = {i: c for i, c in session.execute(select(Account.id, Account.code))}
    for account_id, currency, amount in session.execute(owed):
        code = codes.get(account_id, str(account_id))
        balance = balances.get((code, currency), 0)
        if balance != int(amount):
            problems.append(
                Problem(
                    None,
                    f"balance in {currency} ({balance}) differs from what its open bills owe ({int(amount)})",
                    account=code,
                )
            )
    return problems


def check_documents(session: Session) -> list[Problem]:
    """Every stored document re-hashed: one problem for each whose bytes no longer match."""
    problems = []
    for bad in verify_documents(session):
        links = session.execute(
            select(TransactionDocument.transaction_id, TransactionDocument.name)
            .where(TransactionDocument.sha256 == bad.sha256)
            .order_by(TransactionDocument.id)
        ).all()
        names = ", ".join(f"{name} (transaction {tx})" for tx, name in links) or "attached to nothing"
        first = links[0].transaction_id if links else None
        problems.append(Problem(first, bad.message, document=f"{names}, sha256 {bad.sha256}"))
    return problems


def verify_balances(session: Session) -> list[Problem]:
    """Compare the maintained balances with the sums over journal_entries, per account and currency."""
    e, h, b = JournalEntry, TransactionHeader, AccountBalance
    keys = (e.account_id, h.currency, h.exponent)
    summed = (
        select(*keys, func.sum(e.debit).label("debit"), func.sum(e.credit).label("credit"))
        .join(h, h.id == e.transaction_id)
        .group_by(*keys)
    )
    kept = select(
        b.account_id,
        b.currency,
        b.exponent,
        func.sum(b.debit).label("debit"),
        func.sum(b.credit).label("credit"),
    ).group_by(b.account_id, b.currency, b.exponent)
    actual = {(a, c, x): (int(d), int(cr)) for a, c, x, d, cr in session.execute(summed)}
    stored = {(a, c, x): (int(d), int(cr)) for a, c, x, d, cr in session.execute(kept)}
    codes = {i: c for i, c in session.execute(select(Account.id, Account.code))}
    problems = []
    for key in sorted(actual.keys() | stored.keys(), key=lambda k: (codes.get(k[0], ""), k[1], k[2])):
        want, have = actual.get(key, (0, 0)), stored.get(key, (0, 0))
        if want != have:
            account_id, currency, _ = key
            problems.append(
                Problem(
                    None,
                    f"maintained balance in {currency} (debits {have[0]}, credits {have[1]}) differs from "
                    f"its journal entries (debits {want[0]}, credits {want[1]})",
                    account=codes.get(account_id, str(account_id)),
                )
            )
    return problems


def count_rows(session: Session) -> dict[str, int]:
    """Row counts of the ledger tables."""
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
        for model in (TransactionHeader, TransactionDetail, JournalEntry)
    }


__all__ = [
    "BalanceRow",
    "Problem",
    "TrialBalance",
    "account_balance",
    "check_documents",
    "count_rows",
    "get_transaction",
    "trial_balance",
    "verify",
    "verify_balances",
    "verify_bills",
]
