"""Vendors: whom purchases are bought from, one row per name ignoring case and repeated spaces.

A vendor is created the first time a purchase names it, under the spelling first typed. Renaming
changes the name every purchase of it shows; merging points the history of one vendor at another
(the only change a recorded header allows, checked by the database: db/migrations/ledger_sql.py),
and the merged name keeps finding the vendor it was merged into.
"""

import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.errors import LedgerError, NotFound
from db.models import TransactionHeader, Vendor

MAX_NAME = 200
# How many merges a name is followed through (merging flattens them, so one is the rule).
_MAX_HOPS = 32


def vendor_key(name: str) -> str:
    """Casefolded, runs of white space collapsed, stripped: `"DELL  inc "` -> `"dell inc"`."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def clean_name(name: str) -> str:
    """A vendor name as stored: as typed (NFC, stripped); checked."""
    text = unicodedata.normalize("NFC", name).strip()
    if not text:
        raise LedgerError("A vendor name must not be empty")
    if len(text) > MAX_NAME:
        raise LedgerError(f"A vendor name is too long; at most {MAX_NAME} characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise LedgerError("A vendor name must not contain control characters")
    return text


@dataclass(frozen=True)
class VendorSummary:
    id: int
    name: str
    purchases: int


def _by_key(session: Session, key: str) -> Vendor | None:
    return session.scalar(select(Vendor).where(Vendor.key == key))


def _live(session: Session, vendor: Vendor) -> Vendor:
    """The vendor `vendor` was merged into (through any chain), or itself."""
    for _ in range(_MAX_HOPS):
        if vendor.merged_into_id is None:
            return vendor
        target = session.get(Vendor, vendor.merged_into_id)
        if target is None:  # pragma: no cover - the foreign key prevents it
            break
        vendor = target
    return vendor


def find_vendor(session: Session, name: str) -> Vendor | None:
    """The vendor `name` means (following merges), or None."""
    found = _by_key(session, vendor_key(name))
    return None if found is None else _live(session, found)


def _named(session: Session, name: str) -> Vendor:
    found = find_vendor(session, name)
    if found is None:
        raise NotFound(f"There is no vendor {name!r}")
    return found


def find_or_create(session: Session, name: str) -> Vendor:
    """The vendor `name` means, created on first use under this spelling (cleaned)."""
    found = find_vendor(session, name)
    if found is not None:
        return found
    text = clean_name(name)
    key = vendor_key(text)
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        # Two postings of a new vendor at once: the second waits for the first and finds its row.
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        session.execute(
            insert(Vendor).values(name=text, key=key).on_conflict_do_nothing(index_elements=["key"])
        )
        created = _by_key(session, key)
        assert created is not None
        return _live(session, created)
    vendor = Vendor(name=text, key=key)
    session.add(vendor)
    session.flush()
    return vendor


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_vendors(session: Session, text: str, *, limit: int = 100) -> list[Vendor]:
    """Vendors with a word starting with `text` (case-insensitive; a merged name finds the vendor it
    was merged into); names starting with it first, then by name. Empty text: the first `limit`."""
    key = vendor_key(text)
    query = select(Vendor)
    if key:
        pattern = _escape_like(key)
        query = query.where(
            Vendor.key.like(f"{pattern}%", escape="\\") | Vendor.key.like(f"% {pattern}%", escape="\\")
        )
    found: dict[int, Vendor] = {}
    for vendor in session.scalars(query.order_by(Vendor.key).limit(limit * 2 + 10)):
        live = _live(session, vendor)
        found.setdefault(live.id, live)
    ranked = sorted(
        found.values(), key=lambda v: (not vendor_key(v.name).startswith(key), vendor_key(v.name))
    )
    return ranked[:limit]


def list_vendors(session: Session) -> list[VendorSummary]:
    """Every vendor (not those merged into another), by name, with its number of purchases."""
    h = TransactionHeader
    purchases = (
        select(h.vendor_id, func.count().label("n"))
        .where(h.reverses_id.is_(None), h.vendor_id.is_not(None))
        .group_by(h.vendor_id)
        .subquery()
    )
    query = (
        select(Vendor.id, Vendor.name, func.coalesce(purchases.c.n, 0))
        .outerjoin(purchases, purchases.c.vendor_id == Vendor.id)
        .where(Vendor.merged_into_id.is_(None))
        .order_by(Vendor.key)
    )
    return [VendorSummary(i, n, int(c)) for i, n, c in session.execute(query)]


def rename_vendor(session: Session, old: str, new: str) -> Vendor:
    """Give a vendor a new name; every purchase of it shows the new name. A name another vendor has
    is refused (merge them instead)."""
    vendor = _named(session, old)
    text = clean_name(new)
    key = vendor_key(text)
    holder = _by_key(session, key)
    if holder is not None and holder.id != vendor.id:
        live = _live(session, holder)
        if live.id != vendor.id:
            raise LedgerError(
                f"There is already a vendor {live.name!r}; merge the two instead (vendors merge)"
            )
        # A name this vendor absorbed in a merge becomes its own name again: the alias row goes.
        session.delete(holder)
        session.flush()
    vendor.name, vendor.key = text, key
    session.flush()
    return vendor


def merge_vendors(session: Session, source: str, into: str) -> Vendor:
    """Make `source` one with `into`: its purchases show `into` from now on (their vendor link moves;
    nothing else about them changes) and its name finds `into`. Returns `into`."""
    src = _named(session, source)
    dst = _named(session, into)
    if src.id == dst.id:
        raise LedgerError(f"{source!r} and {into!r} are the same vendor, {dst.name!r}")
    # The source first points at its target: the database lets a header's vendor move only so.
    src.merged_into_id = dst.id
    session.flush()
    session.execute(
        update(Vendor).where(Vendor.merged_into_id == src.id).values(merged_into_id=dst.id),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(TransactionHeader).where(TransactionHeader.vendor_id == src.id).values(vendor_id=dst.id),
        execution_options={"synchronize_session": False},
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, TransactionHeader) and obj.vendor_id == src.id:
            session.expire(obj, ["vendor_id", "vendor_record"])
        elif isinstance(obj, Vendor) and obj.id != src.id and obj.merged_into_id == src.id:
            session.expire(obj, ["merged_into_id"])
    return dst


__all__ = [
    "MAX_NAME",
    "VendorSummary",
    "clean_name",
    "find_or_create",
    "find_vendor",
    "list_vendors",
    "merge_vendors",
    "rename_vendor",
    "search_vendors",
    "vendor_key",
]
