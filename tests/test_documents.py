"""Documents: receipts and invoices stored in the ledger, content-addressed, append-only, never
read by a list; on PostgreSQL and SQLite."""

import hashlib
import re
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from beancount import loader
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.documents import (
    MAX_FILES,
    DocumentInfo,
    IncomingDocument,
    InvalidDocument,
    TooManyDocuments,
    attach_documents,
    check_document,
    documents_for,
    documents_of,
    file_name,
    read_document,
    sniff,
    write_documents,
)
from db.errors import LedgerError, NotFound
from db.export import export_beancount, export_csv
from db.lifecycle import reject, void
from db.models import Document, TransactionDocument
from db.posting import Origin, post_purchase
from db.queries import Filter, awaiting_approval, list_purchases
from db.reports import count_rows, get_transaction, trial_balance, verify
from db.session import make_session_factory
from db.vendors import list_vendors
from tests.clock import CLOCK, SetClock
from tests.helpers import ZERO_ROWS, make_purchase
from tests.samples import EXE, GIF, HEIC, HTML, JPEG, TEXT, WEBP, ZIP, pdf, png

BIN = Path(__file__).resolve().parents[1] / ".venv" / "bin"


def doc(name: str, content: bytes) -> IncomingDocument:
    return IncomingDocument(name=name, content=content)


def stored(session: Session) -> tuple[int, int]:
    """(documents stored, links to transactions)."""
    return (
        session.scalar(select(func.count()).select_from(Document)) or 0,
        session.scalar(select(func.count()).select_from(TransactionDocument)) or 0,
    )


# --- Sniffing and checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (pdf(), "application/pdf"),
        (png(), "image/png"),
        (JPEG, "image/jpeg"),
        (GIF, "image/gif"),
        (WEBP, "image/webp"),
        (HEIC, "image/heic"),
        (EXE, None),
        (ZIP, None),
        (HTML, None),
        (TEXT, None),
    ],
)
def test_sniff_tells_the_type_from_the_bytes(content: bytes, kind: str | None) -> None:
    assert sniff(content) == kind


@pytest.mark.parametrize(
    ("incoming", "reason"),
    [
        (doc("empty.pdf", b""), "is empty (0 bytes)"),
        (doc("big.pdf", pdf().ljust(2000, b"x")), "is too large (2.0 kB; at most 1.0 kB)"),
        (doc("receipt.pdf", EXE), "is not a PDF or an image (it is a Windows program)"),
        (doc("receipt.pdf", ZIP), "is not a PDF or an image (it is a ZIP archive)"),
        (doc("receipt.pdf", HTML), "is not a PDF or an image (it is a web page)"),
        (doc("notes.pdf", TEXT), "is not a PDF or an image (its type could not be recognised)"),
    ],
)
def test_bad_files_are_refused_naming_the_file_and_the_reason(
    incoming: IncomingDocument, reason: str
) -> None:
    with pytest.raises(InvalidDocument) as caught:
        check_document(incoming, max_bytes=1000)
    assert (caught.value.name, caught.value.reason) == (incoming.name, reason)
    assert str(caught.value) == f"{incoming.name}: {reason}"


def test_a_png_named_pdf_is_accepted_as_a_png() -> None:
    assert check_document(doc("scan.pdf", png()), max_bytes=10_000) == "image/png"


def test_a_file_at_the_limit_is_accepted() -> None:
    content = pdf().ljust(1000, b" ")
    assert check_document(doc("r.pdf", content), max_bytes=1000) == "application/pdf"


# --- Storing with a purchase ------------------------------------------------------------------


def post_with(factory: sessionmaker[Session], documents: list[IncomingDocument], **kwargs: Any) -> int:
    with factory.begin() as session:
        return post_purchase(
            session,
            make_purchase(**kwargs),
            Origin(source="slack", user="U111"),
            documents=documents,
            clock=CLOCK,
        ).id


def test_documents_are_stored_with_the_purchase(factory: sessionmaker[Session]) -> None:
    tx = post_with(factory, [doc("receipt.pdf", pdf()), doc("photo.png", png())])
    with factory.begin() as session:
        docs = documents_of(session, tx)
        assert [(d.name, d.content_type, d.size) for d in docs] == [
            ("receipt.pdf", "application/pdf", len(pdf())),
            ("photo.png", "image/png", len(png())),
        ]
        assert all(d.transaction_id == tx and d.attached_by == "U111" for d in docs)
        assert all(d.attached_at == docs[0].attached_at for d in docs)
        assert docs[0].attached_at.tzinfo is not None
        assert abs((docs[0].attached_at - CLOCK.now()).total_seconds()) < 60
        assert docs[0].sha256 == hashlib.sha256(pdf()).hexdigest()
        assert b"".join(read_document(session, docs[1].sha256)) == png()
        assert verify(session) == []


def test_the_same_file_twice_is_stored_once_and_listed_once(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        before = stored(session)
    tx = post_with(factory, [doc("a.pdf", pdf()), doc("again.pdf", pdf())])
    other = post_with(factory, [doc("copy.pdf", pdf())])
    with factory.begin() as session:
        assert [d.name for d in documents_of(session, tx)] == ["a.pdf"]
        assert [d.name for d in documents_of(session, other)] == ["copy.pdf"]
        # Attaching it again later changes nothing either.
        again = attach_documents(
            session, tx, [doc("third.pdf", pdf())], by="U2", clock=CLOCK, max_bytes=10_000
        )
        assert [(d.name, d.attached_by) for d in again] == [("a.pdf", "U111")]
        documents, links = stored(session)
        assert (documents - before[0], links - before[1]) == (1, 2)


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([doc("ok.pdf", pdf()), doc("empty.pdf", b"")], "empty.pdf: is empty (0 bytes)"),
        ([doc("receipt.pdf", EXE)], "receipt.pdf: is not a PDF or an image (it is a Windows program)"),
        ([doc("huge.png", png() + b"\x00" * 2_000)], "huge.png: is too large (2.1 kB; at most 2.0 kB)"),
        (
            [doc(f"r{i}.pdf", pdf(str(i))) for i in range(MAX_FILES + 1)],
            "at most 10 documents can be attached at once, not 11",
        ),
    ],
    ids=["empty", "exe", "too-large", "eleven"],
)
def test_a_bad_document_saves_nothing(
    factory: sessionmaker[Session], documents: list[IncomingDocument], message: str
) -> None:
    with factory.begin() as session:
        before = (count_rows(session), stored(session))
    with pytest.raises(InvalidDocument) as caught, factory.begin() as session:
        post_purchase(
            session, make_purchase(), Origin(), documents=documents, clock=CLOCK, max_document_bytes=2_000
        )
    assert str(caught.value) == message
    with factory.begin() as session:
        assert (count_rows(session), stored(session)) == before


def test_eleven_files_are_too_many(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tx = post_purchase(session, make_purchase(), Origin()).id
    eleven = [doc(f"{i}.pdf", pdf(str(i))) for i in range(11)]
    with pytest.raises(TooManyDocuments), factory.begin() as session:
        attach_documents(session, tx, eleven, by=None, clock=CLOCK, max_bytes=10**6)
    with factory.begin() as session:
        assert documents_of(session, tx) == []


def test_ten_files_are_fine(factory: sessionmaker[Session]) -> None:
    tx = post_with(factory, [doc(f"{i}.pdf", pdf(str(i))) for i in range(10)])
    with factory.begin() as session:
        assert len(documents_of(session, tx)) == 10


def test_a_replay_attaches_nothing(engine: Engine) -> None:
    factory = make_session_factory(engine)
    first = post_with(factory, [doc("a.pdf", pdf("first"))], idempotency_key="k-docs")
    with factory.begin() as session:
        before = stored(session)
        replay = post_purchase(
            session,
            make_purchase(idempotency_key="k-docs"),
            Origin(user="U111"),
            documents=[doc("a.pdf", pdf("first")), doc("b.png", png(7))],
            clock=CLOCK,
        )
        assert (replay.id, replay.replayed) == (first, True)
    with factory.begin() as session:
        assert stored(session) == before
        assert [d.name for d in documents_of(session, first)] == ["a.pdf"]


def test_attach_later_to_any_purchase_but_not_to_a_reversal(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase(), Origin()).id
        pending = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
        rejected = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
    with factory.begin() as session:
        reject(session, rejected, by="U2", reason="no", clock=CLOCK)
        reversal = void(session, posted, reason="typo", origin=Origin(user="U2"), clock=CLOCK).id
    with factory.begin() as session:
        for i, tx in enumerate((posted, pending, rejected)):
            attach_documents(session, tx, [doc("r.pdf", pdf(str(i)))], by="U1", clock=CLOCK, max_bytes=10**6)
        with pytest.raises(LedgerError, match=f"is the void of transaction {posted}"):
            attach_documents(session, reversal, [doc("r.pdf", pdf())], by="U1", clock=CLOCK, max_bytes=10**6)
        with pytest.raises(NotFound, match="There is no transaction 987654"):
            attach_documents(session, 987654, [doc("r.pdf", pdf())], by="U1", clock=CLOCK, max_bytes=10**6)
    with factory.begin() as session:
        # A voided purchase keeps its documents.
        found = documents_for(session, [posted, pending, rejected, reversal])
        assert {tx: len(docs) for tx, docs in found.items()} == {
            posted: 1,
            pending: 1,
            rejected: 1,
            reversal: 0,
        }


def test_attached_at_comes_from_the_books_clock(factory: sessionmaker[Session], clock: SetClock) -> None:
    import datetime as dt

    clock.set(dt.datetime(2027, 3, 4, 5, 6, 7, tzinfo=dt.UTC))
    with factory.begin() as session:
        tx = post_purchase(session, make_purchase(), Origin()).id
        (info,) = attach_documents(
            session, tx, [doc("r.pdf", pdf("clock"))], by=None, clock=clock, max_bytes=10**6
        )
    assert info.attached_at - dt.datetime(2027, 3, 4, 5, 6, 7, tzinfo=dt.UTC) < dt.timedelta(minutes=1)


def test_read_document_streams_in_chunks(factory: sessionmaker[Session]) -> None:
    content = png(3) + b"\x00" * 1000
    tx = post_with(factory, [doc("big.png", content)])
    with factory.begin() as session:
        (info,) = documents_of(session, tx)
        parts = list(read_document(session, info.sha256, chunk=100))
        assert [len(p) for p in parts[:-1]] == [100] * (len(parts) - 1)
        assert b"".join(parts) == content
        with pytest.raises(NotFound):
            list(read_document(session, "0" * 64))


def test_the_content_is_never_loaded_by_accident(factory: sessionmaker[Session]) -> None:
    post_with(factory, [doc("r.pdf", pdf("deferred"))])
    with factory.begin() as session:
        document = session.scalars(select(Document)).first()
        assert document is not None
        with pytest.raises(Exception, match="content"):
            _ = document.content


# --- No list reads the bytes ------------------------------------------------------------------

_CONTENT = re.compile(r"\bcontent\b(?!_type)")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_no_list_or_report_query_reads_document_bytes(engine: Engine, tmp_path: Path) -> None:
    import io

    factory = make_session_factory(engine)
    ids = [post_with(factory, [doc(f"{i}.pdf", pdf(f"list {i}")), doc("p.png", png(i))]) for i in range(3)]
    with factory.begin() as session:
        pending = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
        attach_documents(session, pending, [doc("q.pdf", pdf("q"))], by="U1", clock=CLOCK, max_bytes=10**6)

    listings: list[Callable[[Session], object]] = [
        lambda s: list_purchases(s, Filter()),
        lambda s: awaiting_approval(s, "U2"),
        lambda s: documents_for(s, [*ids, pending]),
        lambda s: documents_of(s, ids[0]),
        lambda s: get_transaction(s, ids[0]),
        lambda s: trial_balance(s),
        lambda s: list_vendors(s),
        lambda s: export_csv(s, io.StringIO()),
        lambda s: export_beancount(s, io.StringIO()),
    ]
    with statements(engine) as seen:
        for listing in listings:
            with factory.begin() as session:
                listing(session)
    assert seen
    assert [s for s in seen if _CONTENT.search(s)] == []

    # The listener does see the bytes being read, where they are meant to be.
    with statements(engine) as seen, factory.begin() as session:
        (first, *_) = documents_of(session, ids[0])
        assert b"".join(read_document(session, first.sha256)) == pdf("list 0")
    assert any(_CONTENT.search(s) for s in seen)


# --- Append-only, by the database itself --------------------------------------------------------


def _refused(engine: Engine, sql: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql))


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE documents SET content = :junk",
        "UPDATE documents SET size = size + 1",
        "UPDATE documents SET content_type = 'image/png'",
        "DELETE FROM documents",
        "UPDATE transaction_documents SET name = 'other.pdf'",
        "UPDATE transaction_documents SET attached_by = 'U666'",
        "UPDATE transaction_documents SET transaction_id = transaction_id",
        "DELETE FROM transaction_documents",
    ],
)
def test_documents_and_links_cannot_be_changed_or_removed_with_sql(engine: Engine, sql: str) -> None:
    factory = make_session_factory(engine)
    tx = post_with(factory, [doc("r.pdf", pdf("raw"))])
    with engine.connect() as conn:
        before = conn.execute(
            text(
                "SELECT d.sha256, d.content, d.size, l.name FROM documents d JOIN transaction_documents l USING (sha256)"
            )
        ).all()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(sql), {"junk": b"junk"} if ":junk" in sql else {})
    with engine.connect() as conn:
        after = conn.execute(
            text(
                "SELECT d.sha256, d.content, d.size, l.name FROM documents d JOIN transaction_documents l USING (sha256)"
            )
        ).all()
    assert after == before
    with factory.begin() as session:
        assert [d.name for d in documents_of(session, tx)] == ["r.pdf"]


@pytest.mark.parametrize("table", ["documents", "transaction_documents"])
def test_postgresql_truncate_of_documents_is_refused(pg_engine: Engine, table: str) -> None:
    post_with(make_session_factory(pg_engine), [doc("r.pdf", pdf("truncate"))])
    _refused(pg_engine, f"TRUNCATE {table} CASCADE")


# --- verify re-hashes every document ------------------------------------------------------------


def test_verify_names_a_document_whose_bytes_changed(engine: Engine) -> None:
    factory = make_session_factory(engine)
    tx = post_with(factory, [doc("receipt.pdf", pdf("true")), doc("photo.png", png(1))])
    with factory.begin() as session:
        assert verify(session) == []
        sha = documents_of(session, tx)[0].sha256
    # Tampering behind the database's back: its guard has to be switched off to do it.
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            conn.execute(text("DROP TRIGGER documents_no_update"))
        conn.execute(
            text("UPDATE documents SET content = :c WHERE sha256 = :s"), {"c": pdf("forged"), "s": sha}
        )
    with factory.begin() as session:
        problems = verify(session)
    assert [str(p) for p in problems] == [
        f"Document receipt.pdf (transaction {tx}), sha256 {sha}: its bytes no longer match their SHA-256"
    ]
    assert problems[0].transaction_id == tx


# --- Files on disk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "safe"),
    [
        ("receipt.pdf", "application/pdf", "receipt.pdf"),
        ("../../etc/passwd", "application/pdf", "passwd.pdf"),
        ("..\\..\\win.ini", "image/png", "win.ini"),
        (".bashrc", "image/png", "bashrc.png"),
        ("..", "application/pdf", "document.pdf"),
        ("", "image/jpeg", "document.jpg"),
        ("a:b*c?.png", "image/png", "a_b_c_.png"),
        ("CON.pdf", "application/pdf", "_CON.pdf"),
        ("scan", "image/png", "scan.png"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 196 + ".pdf"),
    ],
)
def test_file_names_are_made_safe(name: str, kind: str, safe: str) -> None:
    assert file_name(name, kind) == safe


def test_write_documents_stays_in_its_directory_and_never_overwrites(
    factory: sessionmaker[Session], tmp_path: Path
) -> None:
    tx = post_with(
        factory,
        [
            doc("../receipt.pdf", pdf("one")),
            doc("receipt.pdf", pdf("two")),
            doc("/etc/receipt.pdf", pdf("three")),
        ],
    )
    base = tmp_path / "written"
    out = base / "out"
    out.mkdir(parents=True)
    (out / "receipt-3.pdf").write_bytes(b"mine")
    with factory.begin() as session:
        docs = documents_of(session, tx)
        paths = write_documents(session, docs, out)
        again = write_documents(session, docs, out)
    assert [p.name for p in paths] == ["receipt.pdf", "receipt-2.pdf", "receipt-4.pdf"]
    assert [p.read_bytes() for p in paths] == [pdf("one"), pdf("two"), pdf("three")]
    assert (out / "receipt-3.pdf").read_bytes() == b"mine"
    assert again == paths  # the same files again: nothing new written
    assert sorted(p.name for p in out.iterdir()) == [
        "receipt-2.pdf",
        "receipt-3.pdf",
        "receipt-4.pdf",
        "receipt.pdf",
    ]
    assert sorted(p.name for p in base.iterdir()) == ["out"]


def test_beancount_export_with_documents_passes_bean_check(engine: Engine, tmp_path: Path) -> None:
    factory = make_session_factory(engine)
    tx = post_with(factory, [doc("receipt.pdf", pdf("bean")), doc("receipt.pdf", png(9))], vendor='Dell "B"')
    pending = post_with(factory, [doc("pending.pdf", pdf("pending"))])
    with factory.begin() as session:
        reject_me = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
        attach_documents(
            session, reject_me, [doc("no.pdf", pdf("no"))], by="U1", clock=CLOCK, max_bytes=10**6
        )
    ledger = tmp_path / "books" / "ledger.beancount"
    ledger.parent.mkdir()
    with factory.begin() as session, ledger.open("w", encoding="utf-8") as out:
        export_beancount(session, out, documents_dir=tmp_path / "docs", documents_relative_to=ledger.parent)
    check = subprocess.run(
        [str(BIN / "bean-check"), str(ledger)], capture_output=True, text=True, timeout=60, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    documents: list[Any] = [e for e in entries if type(e).__name__ == "Document"]
    assert sorted(Path(d.filename).relative_to(tmp_path).as_posix() for d in documents) == sorted(
        [f"docs/{tx}/receipt.pdf", f"docs/{tx}/receipt-2.pdf", f"docs/{pending}/pending.pdf"]
    )
    assert {frozenset(d.links or ()) for d in documents} == {
        frozenset({f"tx-{tx}"}),
        frozenset({f"tx-{pending}"}),
    }
    assert (tmp_path / "docs" / str(tx) / "receipt-2.pdf").read_bytes() == png(9)
    assert not (tmp_path / "docs" / str(reject_me)).exists()  # not in the books: not exported
    assert f'"../docs/{tx}/receipt.pdf"' in ledger.read_text()


def test_csv_export_names_the_documents(factory: sessionmaker[Session]) -> None:
    import csv
    import io

    tx = post_with(factory, [doc("a.pdf", pdf("csv")), doc("b.png", png(5))])
    other = post_with(factory, [])
    out = io.StringIO()
    with factory.begin() as session:
        export_csv(session, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["documents"] for r in rows if r["transaction_id"] == str(tx)} == {"a.pdf; b.png"}
    assert {r["documents"] for r in rows if r["transaction_id"] == str(other)} == {""}


def test_document_info_is_plain_values(factory: sessionmaker[Session]) -> None:
    tx = post_with(factory, [doc("r.pdf", pdf("info"))])
    with factory.begin() as session:
        (info,) = documents_of(session, tx)
    assert isinstance(info, DocumentInfo)
    assert ZERO_ROWS  # the helpers this module shares stay importable
