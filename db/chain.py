"""Tamper evidence: every transaction is hashed, and the hashes are chained in commit order.

Whenever a session commits, every transaction header it inserted or changed (and every one it
attached a document to) gets a link in `chain_links`: the SHA-256 of the transaction's canonical
form (`canonical`: its header, items, entries and its documents' SHA-256s), chained to the link
before it. This happens in the session's `before_commit` hook, so any code that writes headers
through a session (posting, approval, void, payments) is covered without asking for it.

Appending is one statement on PostgreSQL (`ledger_chain_append`, migration 0006), which takes an
advisory lock held to COMMIT: concurrent posters append one after another, never from the same
head. SQLite writers are serialised by `BEGIN IMMEDIATE` already.

`verify` recomputes the link hashes and, for each transaction, its canonical form against its
latest link. Someone able to switch the triggers off could rewrite the whole chain too; that is
what `head` is for: written somewhere outside the database, it must still be in the chain.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, event, insert, select, text, true
from sqlalchemy.orm import Session, UOWTransaction

from db.errors import LedgerError
from db.models import ChainLink, JournalEntry, TransactionDetail, TransactionDocument, TransactionHeader

UNCHAINED = "has no link in the hash chain"  # a transaction written around the application
_TOUCHED = "ledger_chain_touched"  # session.info: IDs of headers to link at commit
_KNOWN = "ledger_chain_known"  # session.info: content hashes a caller already computed, by ID

# The header's fields that are hashed: everything recorded except timestamps (set by the database
# or stored with a precision that differs between PostgreSQL and SQLite), the vendor link (it moves
# when a vendor is merged; the vendor's name was never part of what was bought) and a bill's `paid`
# (derived state, kept by migration 0005's triggers: it changes whenever a payment is recorded or
# voided, and those payments are transactions of their own, each in the chain with its `pays_id`).
HEADER_FIELDS = (
    "id",
    "effective_date",
    "description",
    "currency",
    "exponent",
    "total",
    "payment_account_id",
    "status",
    "reverses_id",
    "idempotency_key",
    "source",
    "created_by",
    "team_id",
    "channel_id",
    "source_link",
    "decided_by",
    "decision_note",
    "voided_by",
    "void_reason",
    "due_date",
    "invoice_number",
    "pays_id",
    "base_currency",
    "rate",
)
ENTRY_FIELDS = ("account_id", "debit", "credit", "base_debit", "base_credit")
DETAIL_FIELDS = (
    "line",
    "item",
    "quantity",
    "unit_price",
    "subtotal",
    "account_id",
    "tax_code",
    "tax_amount",
    "tax_included",
)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, int | str):  # (a bool is an int)
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(getattr(value, "value", value))


def canonical(
    header: dict[str, Any],
    details: Iterable[tuple[Any, ...]],
    entries: Iterable[tuple[Any, ...]],
    documents: Iterable[str],
) -> str:
    """The SHA-256 (hex) of a transaction's canonical form: sorted-key JSON, ASCII only, of its
    header fields, its items by line, its entries as sorted (account, debit, credit, base debit,
    base credit) and its
    documents' sorted SHA-256s. Entries carry no IDs: the posting path inserts them without
    reading any back."""
    form = {
        "header": {name: _plain(header[name]) for name in HEADER_FIELDS},
        "items": sorted([_plain(v) for v in d] for d in details),
        "entries": sorted([[-1 if v is None else v for v in e] for e in entries]),
        "documents": sorted(documents),
    }
    encoded = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode()).hexdigest()


def next_hash(previous: str, content_hash: str) -> str:
    return hashlib.sha256((previous + content_hash).encode()).hexdigest()


def touch(session: Session, transaction_id: int) -> None:
    """Link `transaction_id` again at commit (for writes that bypass the ORM, e.g. documents)."""
    session.info.setdefault(_TOUCHED, set()).add(transaction_id)
    session.info.get(_KNOWN, {}).pop(transaction_id, None)


def known(session: Session, transaction_id: int, content_hash: str) -> None:
    """The content hash of what the caller just wrote, so the commit need not read it back."""
    session.info.setdefault(_TOUCHED, set()).add(transaction_id)
    session.info.setdefault(_KNOWN, {})[transaction_id] = content_hash


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: UOWTransaction) -> None:
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, TransactionHeader) and (obj in session.new or session.is_modified(obj)):
            touch(session, obj.id)
        elif isinstance(obj, JournalEntry | TransactionDocument):
            touch(session, obj.transaction_id)


@event.listens_for(Session, "before_commit")
def _append_links(session: Session) -> None:
    if session.in_nested_transaction():
        # A SAVEPOINT's release fires before_commit too (a payment's or a keyed purchase's header is
        # inserted in one): its transaction is not complete yet (its entries follow), and the
        # advisory lock must not be taken this early. The outermost COMMIT links it.
        return
    session.flush()
    touched = session.info.pop(_TOUCHED, None)
    hashes = session.info.pop(_KNOWN, {})
    if not touched:
        return
    missing = [i for i in touched if i not in hashes]
    if missing:
        hashes.update(content_hashes(session, TransactionHeader.id.in_(missing)))
    # (A header inserted in a SAVEPOINT that was rolled back no longer exists: nothing to link.)
    ids = sorted(i for i in touched if i in hashes)
    if ids:
        append(session, ids, [hashes[i] for i in ids])


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_TOUCHED, None)
    session.info.pop(_KNOWN, None)


_APPEND_POSTGRESQL = text("SELECT ledger_chain_append(CAST(:ids AS bigint[]), CAST(:hashes AS text[]))")


def append(session: Session, ids: list[int], hashes: list[str]) -> None:
    """Links for `ids` (with their content `hashes`) at the end of the chain."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_APPEND_POSTGRESQL, {"ids": ids, "hashes": hashes})
        return
    head = session.scalar(select(ChainLink.hash).order_by(ChainLink.seq.desc()).limit(1)) or ""
    rows = []
    for transaction_id, content_hash in zip(ids, hashes, strict=True):
        head = next_hash(head, content_hash)
        rows.append({"transaction_id": transaction_id, "content_hash": content_hash, "hash": head})
    session.execute(insert(ChainLink), rows)


def content_hashes(session: Session, where: ColumnElement[bool]) -> dict[int, str]:
    """The canonical-form hash of every header `where` selects, from its stored rows."""
    h = TransactionHeader
    headers = session.execute(select(*(getattr(h, name) for name in HEADER_FIELDS)).where(where)).all()
    in_range = select(h.id).where(where).scalar_subquery()
    details: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    d = TransactionDetail
    for row in session.execute(
        select(d.transaction_id, *(getattr(d, name) for name in DETAIL_FIELDS)).where(
            d.transaction_id.in_(in_range)
        )
    ):
        details[row[0]].append(tuple(row[1:]))
    entries: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    e = JournalEntry
    for row in session.execute(
        select(e.transaction_id, *(getattr(e, name) for name in ENTRY_FIELDS)).where(
            e.transaction_id.in_(in_range)
        )
    ):
        entries[row[0]].append(tuple(row[1:]))
    documents: dict[int, list[str]] = defaultdict(list)
    td = TransactionDocument
    for tx, sha in session.execute(
        select(td.transaction_id, td.sha256).where(td.transaction_id.in_(in_range))
    ):
        documents[tx].append(sha)
    return {
        row.id: canonical(row._asdict(), details[row.id], entries[row.id], documents[row.id])
        for row in headers
    }


@dataclass(frozen=True)
class Head:
    hash: str
    seq: int
    transaction_id: int


def head(session: Session) -> Head | None:
    """The latest link, or None before anything is recorded."""
    link = session.scalar(select(ChainLink).order_by(ChainLink.seq.desc()).limit(1))
    return Head(link.hash, link.seq, link.transaction_id) if link else None


class NotInChain(LedgerError):
    pass


def verify(
    session: Session, *, since: int | None = None, expected_head: str | None = None
) -> list[tuple[int, str]]:
    """Problems as (transaction ID, message), in chain order: links that do not follow from the
    one before, transactions whose stored rows no longer match their latest link, transactions
    with no link. From transaction `since` on, if given. `expected_head` must be a link's hash."""
    if (
        expected_head is not None
        and session.scalar(select(ChainLink.seq).where(ChainLink.hash == expected_head.strip().lower()))
        is None
    ):
        raise NotInChain(
            f"the hash {expected_head} is not in the chain: the chain was rewritten since it was taken, "
            "or it belongs to another ledger"
        )
    first = 0
    previous = ""
    if since is not None:
        first = (
            session.scalar(
                select(ChainLink.seq)
                .where(ChainLink.transaction_id >= since)
                .order_by(ChainLink.seq)
                .limit(1)
            )
            or 0
        )
        previous = (
            session.scalar(
                select(ChainLink.hash).where(ChainLink.seq < first).order_by(ChainLink.seq.desc()).limit(1)
            )
            or ""
        )
    problems: list[tuple[int, str]] = []
    latest: dict[int, tuple[int, str]] = {}
    links = session.execute(
        select(ChainLink.seq, ChainLink.transaction_id, ChainLink.content_hash, ChainLink.hash)
        .where(ChainLink.seq >= first)
        .order_by(ChainLink.seq)
    )
    for seq, tx, content_hash, stored in links:
        expected = next_hash(previous, content_hash)
        if stored != expected:
            problems.append((tx, f"chain link {seq} does not follow from the link before it"))
        previous = stored
        latest[tx] = (seq, content_hash)
    where = true() if since is None else TransactionHeader.id >= since
    order = {tx: seq for tx, (seq, _) in latest.items()}
    mismatched: list[tuple[int, int, str]] = []
    for tx, content_hash in content_hashes(session, where).items():
        if tx not in latest:
            mismatched.append((1 << 62, tx, UNCHAINED))
        elif latest[tx][1] != content_hash:
            mismatched.append(
                (
                    order[tx],
                    tx,
                    f"its stored rows no longer match the hash recorded in chain link {order[tx]}",
                )
            )
    problems += [(tx, message) for _, tx, message in sorted(mismatched)]
    return problems
