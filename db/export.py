"""Exports of the books: every journal entry as CSV, or a Beancount ledger `bean-check` accepts.

Both read the journal entries (pending and rejected purchases have none), so the balances a
Beancount tool computes from the export equal `db.reports.trial_balance` for the same period.
A vendor is shown by its current name. The CSV names each transaction's documents; the Beancount
export can write them to a directory, with a `document` directive for each.
"""

import csv
import datetime as dt
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from db.documents import DocumentInfo, documents_for, write_documents
from db.models import Account, AccountType, JournalEntry, Status, TransactionHeader
from db.money import from_minor

FORMATS = ("csv", "beancount")

CSV_COLUMNS = (
    "transaction_id",
    "date",
    "status",
    "description",
    "vendor",
    "account",
    "account_name",
    "currency",
    "debit",
    "credit",
    "reverses_id",
    "created_by",
    "team_id",
    "channel_id",
    "created_at",
    "documents",  # the names of the transaction's documents, separated by "; "
    "bill_id",  # a bill's own ID, or the bill a payment pays
)

_ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}


@dataclass(frozen=True)
class Line:
    header: TransactionHeader
    account: Account
    debit: int
    credit: int


def _lines(session: Session, date_from: dt.date | None, date_to: dt.date | None) -> Iterator[Line]:
    h, e = TransactionHeader, JournalEntry
    query = (
        select(h, Account, e.debit, e.credit)
        .join(e, e.transaction_id == h.id)
        .join(Account, Account.id == e.account_id)
        .order_by(h.effective_date, h.id, e.id)
        .options(joinedload(h.vendor_record))
    )
    if date_from is not None:
        query = query.where(h.effective_date >= date_from)
    if date_to is not None:
        query = query.where(h.effective_date <= date_to)
    for header, account, debit, credit in session.execute(query):
        yield Line(header, account, debit, credit)


# OWASP, CSV injection: a cell a spreadsheet would read as a formula is prefixed with a single quote,
# which the spreadsheet shows as text; amounts are written by `_money` and stay plain numbers.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _money(minor: int, exp: int) -> str:
    return str(from_minor(minor, exp)) if minor else ""


def export_csv(
    session: Session, out: TextIO, *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> int:
    """One row per journal entry; amounts in major units, exact. Returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    lines = list(_lines(session, date_from, date_to))
    documents = documents_for(session, sorted({line.header.id for line in lines}))
    for line in lines:
        h = line.header
        writer.writerow(
            [
                h.id,
                h.effective_date.isoformat(),
                h.status.value,
                _text(h.description),
                _text(h.vendor or ""),
                _text(line.account.code),
                _text(line.account.name),
                h.currency,
                _money(line.debit, h.exponent),
                _money(line.credit, h.exponent),
                h.reverses_id or "",
                _text(h.created_by or ""),
                _text(h.team_id or ""),
                _text(h.channel_id or ""),
                h.created_at.isoformat() if h.created_at else "",
                _text("; ".join(d.name for d in documents[h.id])),
                _bill_id(h) or "",
            ]
        )
        count += 1
    return count


def _bill_id(header: TransactionHeader) -> int | None:
    """The bill a transaction belongs to: itself if it is one, the bill it pays if it is a payment."""
    return header.pays_id or (header.id if header.due_date is not None else None)


def beancount_account(account: Account) -> str:
    """`1000 Cash` (asset) -> `Assets:1000-Cash`: a valid Beancount name, unique by its code."""
    words = re.findall(r"[A-Za-z0-9]+", account.name.replace("'", ""))
    code = re.sub(r"[^A-Za-z0-9]+", "-", account.code).strip("-")
    return f"{_ROOTS[account.type]}:{'-'.join([code, *words])}"


def _string(text: str) -> str:
    """A Beancount string: backslashes and quotes escaped, line breaks and other control
    characters (which would end a metadata line early) as spaces."""
    flat = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


# Accounts open on the first transaction's date; in a ledger with none, on a fixed early day
# (the export does not depend on when it is run).
FIRST_OPEN = dt.date(2000, 1, 1)


def _document_paths(
    session: Session, documents: dict[int, list[DocumentInfo]], directory: Path, relative_to: Path | None
) -> dict[int, list[tuple[DocumentInfo, str]]]:
    """Each transaction's documents written under `directory`/<ID>/, with the path a `document`
    directive names: relative to `relative_to` (the ledger file's directory) if given, else absolute."""
    out: dict[int, list[tuple[DocumentInfo, str]]] = {}
    for tx, docs in documents.items():
        if not docs:
            continue
        paths = write_documents(session, docs, directory / str(tx))
        out[tx] = [
            (doc, os.path.relpath(path, relative_to.resolve()) if relative_to is not None else str(path))
            for doc, path in zip(docs, paths, strict=True)
        ]
    return out


def export_beancount(
    session: Session,
    out: TextIO,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    documents_dir: Path | None = None,
    documents_relative_to: Path | None = None,
) -> int:
    """A Beancount ledger: an `open` for every account, then one transaction per ledger transaction.

    A posting's amount is its debit less its credit, so Beancount's balances (debits positive)
    equal the trial balance's debits less credits. With `documents_dir`, every exported
    transaction's documents are written under `documents_dir`/<ID>/ and each gets a `document`
    directive on the payment account, linked to its transaction (`^tx-<ID>`); the paths are
    relative to `documents_relative_to` (where the ledger file will be) if given, else absolute.
    A bill and its payments share the link `^bill-<bill ID>`.
    Returns the number of transactions written.
    """
    lines = list(_lines(session, date_from, date_to))
    attached: dict[int, list[tuple[DocumentInfo, str]]] = {}
    if documents_dir is not None:
        found = documents_for(session, sorted({line.header.id for line in lines}))
        attached = _document_paths(session, found, documents_dir, documents_relative_to)
    accounts = list(session.scalars(select(Account).order_by(Account.code)))
    first = date_from or min((line.header.effective_date for line in lines), default=date_to or FIRST_OPEN)
    out.write('option "title" "purchase-bot ledger"\n')
    if date_from or date_to:
        out.write(f"; period {date_from or 'start'} to {date_to or 'today'}\n")
    out.write("\n")
    for account in accounts:
        out.write(f"{first.isoformat()} open {beancount_account(account)}\n")
    count = 0
    for _, group in groupby(lines, key=lambda line: line.header.id):
        postings = list(group)
        h = postings[0].header
        out.write("\n")
        payee = f"{_string(h.vendor)} " if h.vendor else ""
        tag = " #voided" if h.status == Status.VOIDED else (" #void" if h.reverses_id else "")
        link = f" ^tx-{h.id}" if h.id in attached else ""
        bill = _bill_id(h)
        link += f" ^bill-{bill}" if bill is not None else ""
        out.write(f"{h.effective_date.isoformat()} * {payee}{_string(h.description)}{tag}{link}\n")
        out.write(f"  txid: {h.id}\n")
        out.write(f"  status: {_string(h.status.value)}\n")
        if h.reverses_id is not None:
            out.write(f"  reverses: {h.reverses_id}\n")
        for key, value in (
            ("created-by", h.created_by),
            ("decided-by", h.decided_by),
            ("voided-by", h.voided_by),
            ("void-reason", h.void_reason),
        ):
            if value:
                out.write(f"  {key}: {_string(value)}\n")
        for p in postings:
            amount = from_minor(p.debit - p.credit, h.exponent)
            out.write(f"  {beancount_account(p.account)}  {amount} {h.currency}\n")
        payment = next((p.account for p in postings if p.account.id == h.payment_account_id), None)
        for doc, path in attached.get(h.id, []):
            where = beancount_account(payment or postings[-1].account)
            out.write(f"{h.effective_date.isoformat()} document {where} {_string(path)} ^tx-{h.id}\n")
            out.write(f"  sha256: {_string(doc.sha256)}\n")
            out.write(f"  name: {_string(doc.name)}\n")
        count += 1
    return count
