"""Receipts and invoices, stored in the ledger database with the transactions they document.

A document's bytes are stored once per distinct content (content-addressed by SHA-256, across the
whole ledger) and linked to each transaction they were attached to, under the name they were given.
The content type is sniffed from the bytes, never taken from a name or a sender's mimetype. Both
tables are append-only (triggers of migration 0004). No list reads the bytes: `read_document`
streams them in chunks. Like every db function these take a session and never commit.
"""

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype  # type: ignore[import-untyped]
from sqlalchemy import LargeBinary, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db import chain
from db.clock import Clock
from db.errors import LedgerError, NotFound
from db.models import Document, TransactionDocument, TransactionHeader

ALLOWED = frozenset({"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic"})
MAX_FILES = 10
DEFAULT_MAX_BYTES = 10_000_000
MAX_NAME = 255

# What a refused file is, in words ("it is a Windows program"); other types are named by mimetype.
_KINDS = {
    "application/x-msdownload": "a Windows program",
    "application/x-executable": "a program",
    "application/x-mach-binary": "a program",
    "application/zip": "a ZIP archive",
    "application/x-rar-compressed": "a RAR archive",
    "application/x-7z-compressed": "a 7-Zip archive",
    "application/gzip": "a gzip archive",
    "application/x-tar": "a tar archive",
    "application/msword": "a Word document",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "a Word document",
    "application/vnd.ms-excel": "an Excel workbook",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "an Excel workbook",
    "application/rtf": "an RTF document",
    "application/x-sqlite3": "an SQLite database",
    "image/tiff": "a TIFF image, which is not accepted",
    "image/bmp": "a BMP image, which is not accepted",
    "image/avif": "an AVIF image, which is not accepted",
    "image/vnd.adobe.photoshop": "a Photoshop file",
}
# filetype reports an animated PNG as its own type; it is a PNG.
_SAME_AS = {"image/apng": "image/png"}
_EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/heic": ".heic",
}


@dataclass(frozen=True)
class IncomingDocument:
    name: str  # the file name the user gave it
    content: bytes


class InvalidDocument(LedgerError):
    """A file that cannot be stored; `str(e)` is `"{name}: {reason}"`. Nothing was saved."""

    def __init__(self, name: str, reason: str) -> None:
        self.name, self.reason = name, reason
        super().__init__(f"{name}: {reason}" if name else reason)


class TooManyDocuments(InvalidDocument):
    """More files than MAX_FILES at once (no one file is to blame: `name` is empty)."""

    def __init__(self, count: int) -> None:
        super().__init__("", f"at most {MAX_FILES} documents can be attached at once, not {count}")


@dataclass(frozen=True)
class DocumentInfo:
    transaction_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    attached_by: str | None
    attached_at: dt.datetime


def format_size(size: int) -> str:
    """`532 bytes`, `12.3 kB`, `4.2 MB` (decimal units, as MAX_DOCUMENT_MB)."""
    if size < 1000:
        return f"{size} byte{'s' * (size != 1)}"
    if size < 1_000_000:
        return f"{size / 1000:.1f} kB"
    return f"{size / 1_000_000:.1f} MB"


def _detected(content: bytes) -> str | None:
    kind = filetype.guess_mime(content[:8192])
    return _SAME_AS.get(kind, kind) if kind else None


def sniff(content: bytes) -> str | None:
    """The content type the bytes are (PDF or an allowed image), or None."""
    kind = _detected(content)
    return kind if kind in ALLOWED else None


def _what_it_is(content: bytes) -> str:
    kind = _detected(content)
    if kind is not None:
        return f"it is {_KINDS.get(kind, kind)}"
    head = content[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "it is a web page"
    return "its type could not be recognised"


def check_size(name: str, size: int, *, max_bytes: int) -> None:
    """InvalidDocument if a file of `size` bytes cannot be stored (empty, or over `max_bytes`):
    for callers that know the size before they have the bytes."""
    if size == 0:
        raise InvalidDocument(name, "is empty (0 bytes)")
    if size > max_bytes:
        raise InvalidDocument(name, f"is too large ({format_size(size)}; at most {format_size(max_bytes)})")


def check_document(doc: IncomingDocument, *, max_bytes: int) -> str:
    """The sniffed content type of `doc`, or InvalidDocument: empty, too large, or not allowed."""
    check_size(doc.name, len(doc.content), max_bytes=max_bytes)
    kind = sniff(doc.content)
    if kind is None:
        raise InvalidDocument(doc.name, f"is not a PDF or an image ({_what_it_is(doc.content)})")
    return kind


def clean_name(name: str) -> str:
    """The name a document is kept under: the last part of a path, without control characters,
    NFC, at most MAX_NAME characters (the extension kept); `document` when nothing is left."""
    text = unicodedata.normalize("NFC", name)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    text = re.split(r"[/\\]", text)[-1].strip()
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        ext = ext if dot and len(ext) <= 16 else ""
        text = (stem if ext else text)[: MAX_NAME - len(ext) - 1].rstrip() + (f".{ext}" if ext else "")
    return text or "document"


@dataclass(frozen=True)
class Prepared:
    """A document checked and hashed, ready to store (before any database work)."""

    name: str
    content: bytes
    content_type: str
    sha256: str


def prepare_documents(documents: Sequence[IncomingDocument], *, max_bytes: int) -> list[Prepared]:
    """Check every document (InvalidDocument for the first bad one) and hash it; the same bytes
    given twice count once, under the first name."""
    if len(documents) > MAX_FILES:
        raise TooManyDocuments(len(documents))
    out: dict[str, Prepared] = {}
    for doc in documents:
        kind = check_document(doc, max_bytes=max_bytes)
        digest = hashlib.sha256(doc.content).hexdigest()
        out.setdefault(digest, Prepared(clean_name(doc.name), doc.content, kind, digest))
    return list(out.values())


def _insert(session: Session, model: type[Document | TransactionDocument]) -> Any:
    """INSERT ... ON CONFLICT is spelt alike by PostgreSQL and SQLite, but built by each dialect."""
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def store_documents(
    session: Session, transaction_id: int, prepared: Sequence[Prepared], *, by: str | None, clock: Clock
) -> list[DocumentInfo]:
    """Store what is not stored yet and link what is not linked yet; the links of all of them."""
    if not prepared:
        return []
    session.flush()
    shas = [p.sha256 for p in prepared]
    stored = set(session.scalars(select(Document.sha256).where(Document.sha256.in_(shas))))
    for p in prepared:
        if p.sha256 not in stored:
            # A concurrent attach of the same bytes: the second waits for the first, then stores nothing.
            session.execute(
                _insert(session, Document)
                .values(sha256=p.sha256, content_type=p.content_type, size=len(p.content), content=p.content)
                .on_conflict_do_nothing(index_elements=["sha256"])
            )
    linked = set(
        session.scalars(
            select(TransactionDocument.sha256).where(
                TransactionDocument.transaction_id == transaction_id, TransactionDocument.sha256.in_(shas)
            )
        )
    )
    now = clock.now()
    links = [
        {
            "transaction_id": transaction_id,
            "sha256": p.sha256,
            "name": p.name,
            "attached_by": by,
            "attached_at": now,
        }
        for p in prepared
        if p.sha256 not in linked
    ]
    if links:
        chain.touch(session, transaction_id)
        session.execute(
            _insert(session, TransactionDocument).on_conflict_do_nothing(
                index_elements=["transaction_id", "sha256"]
            ),
            links,
        )
    infos = {d.sha256: d for d in documents_of(session, transaction_id)}
    return [infos[p.sha256] for p in prepared]


def attach_documents(
    session: Session,
    transaction_id: int,
    documents: Sequence[IncomingDocument],
    *,
    by: str | None,
    clock: Clock,
    max_bytes: int,
) -> list[DocumentInfo]:
    """Attach `documents` to a transaction (any purchase, whatever its status); the reversing
    transaction of a void takes none. Checks them all before writing anything; flushes."""
    row = session.execute(
        select(TransactionHeader.id, TransactionHeader.reverses_id).where(
            TransactionHeader.id == transaction_id
        )
    ).one_or_none()
    if row is None:
        raise NotFound(f"There is no transaction {transaction_id}")
    if row.reverses_id is not None:
        raise LedgerError(
            f"Transaction {transaction_id} is the void of transaction {row.reverses_id}; "
            f"attach documents to {row.reverses_id} instead"
        )
    prepared = prepare_documents(documents, max_bytes=max_bytes)
    return store_documents(session, transaction_id, prepared, by=by, clock=clock)


_INFO = (
    TransactionDocument.transaction_id,
    TransactionDocument.name,
    Document.content_type,
    Document.size,
    Document.sha256,
    TransactionDocument.attached_by,
    TransactionDocument.attached_at,
)


def documents_for(session: Session, transaction_ids: Sequence[int]) -> dict[int, list[DocumentInfo]]:
    """The documents of each transaction (an empty list for one without), in the order attached.
    Reads no document bytes."""
    out: dict[int, list[DocumentInfo]] = {tx: [] for tx in transaction_ids}
    if not out:
        return out
    query = (
        select(*_INFO)
        .join(Document, Document.sha256 == TransactionDocument.sha256)
        .where(TransactionDocument.transaction_id.in_(list(out)))
        .order_by(TransactionDocument.transaction_id, TransactionDocument.id)
    )
    for tx, name, kind, size, sha, by, at in session.execute(query):
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)  # SQLite gives back the UTC times it stores without their zone
        out[tx].append(DocumentInfo(tx, name, kind, size, sha, by, at))
    return out


def documents_of(session: Session, transaction_id: int) -> list[DocumentInfo]:
    """One transaction's documents, in the order attached; reads no document bytes."""
    return documents_for(session, [transaction_id])[transaction_id]


def read_document(session: Session, sha256: str, *, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The stored bytes of a document, streamed `chunk` bytes per query (never all at once)."""
    size = session.scalar(select(Document.size).where(Document.sha256 == sha256))
    if size is None:
        raise NotFound(f"There is no document {sha256}")
    for start in range(0, size, chunk):
        # substr counts from 1, in bytes on both a PostgreSQL bytea and an SQLite blob.
        part = session.scalar(
            select(func.substr(Document.content, start + 1, chunk, type_=LargeBinary)).where(
                Document.sha256 == sha256
            )
        )
        yield bytes(part or b"")


@dataclass(frozen=True)
class DocumentHashProblem:
    sha256: str
    message: str


def verify_documents(session: Session) -> list[DocumentHashProblem]:
    """Re-hash every stored document: those whose bytes no longer match their SHA-256 (or size)."""
    problems = []
    for sha, size in session.execute(select(Document.sha256, Document.size).order_by(Document.sha256)):
        digest = hashlib.sha256()
        length = 0
        for part in read_document(session, sha):
            digest.update(part)
            length += len(part)
        if digest.hexdigest() != sha:
            problems.append(DocumentHashProblem(sha, "its bytes no longer match their SHA-256"))
        elif length != size:
            problems.append(DocumentHashProblem(sha, f"is {length} bytes long, not the {size} recorded"))
    return problems


# --- Files on disk (the CLI's `documents get` and the Beancount export) ------------------------

_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))}


def file_name(name: str, content_type: str) -> str:
    """A name safe to create in a directory: no path, no hidden or reserved name, characters any
    file system takes, an extension for the content type if it has none; at most 200 characters."""
    text = _UNSAFE.sub("_", clean_name(name)).strip().lstrip(".").strip()
    ext = _EXTENSIONS.get(content_type, "")
    stem, dot, suffix = text.rpartition(".")
    if not dot or not stem:
        stem, suffix = text, ""
    if not suffix and ext:
        suffix = ext.lstrip(".")
    stem = stem[: 200 - len(suffix) - 1].rstrip(" .") or "document"
    if stem.split(".")[0].upper() in _RESERVED:
        stem = f"_{stem}"
    return f"{stem}.{suffix}" if suffix else stem


def _same_content(path: Path, sha256: str) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == sha256


def write_documents(session: Session, documents: Sequence[DocumentInfo], directory: Path) -> list[Path]:
    """Write each document into `directory` (created if need be) under its safe name; when two
    share a name, or a different file has it already, the later gets `-2`, `-3`... A file already
    there with the same bytes is kept as it is. Never writes outside `directory`. Returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    root = directory.resolve()
    taken: set[str] = set()
    paths = []
    for doc in documents:
        base = file_name(doc.name, doc.content_type)
        stem, dot, suffix = base.rpartition(".")
        if not dot:
            stem, suffix = base, ""
        n = 1
        while True:
            candidate = base if n == 1 else f"{stem}-{n}" + (f".{suffix}" if suffix else "")
            path = root / candidate
            assert path.parent == root
            if candidate.casefold() not in taken:
                if not path.exists() and not path.is_symlink():
                    with path.open("xb") as out:
                        for part in read_document(session, doc.sha256):
                            out.write(part)
                    break
                if path.is_file() and not path.is_symlink() and _same_content(path, doc.sha256):
                    break
            n += 1
        taken.add(candidate.casefold())
        paths.append(path)
    return paths


__all__ = [
    "ALLOWED",
    "DEFAULT_MAX_BYTES",
    "MAX_FILES",
    "DocumentHashProblem",
    "DocumentInfo",
    "IncomingDocument",
    "InvalidDocument",
    "Prepared",
    "TooManyDocuments",
    "attach_documents",
    "check_document",
    "check_size",
    "clean_name",
    "documents_for",
    "documents_of",
    "file_name",
    "format_size",
    "prepare_documents",
    "read_document",
    "sniff",
    "store_documents",
    "verify_documents",
    "write_documents",
]
