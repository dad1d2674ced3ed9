"""Posting: one header, its items and balanced entries in one transaction; all or nothing; idempotent."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import db.posting
from db.errors import IdempotencyConflict, Unbalanced
from db.models import JournalEntry, Status, TransactionDetail, TransactionHeader
from db.posting import Origin, balanced_entries, check_balanced, post_purchase
from db.reports import count_rows, get_transaction, verify
from db.schemas import parse_purchase
from db.session import make_session_factory
from tests.clock import BOOKS_DAY
from tests.helpers import ZERO_ROWS, before_first_insert_into, item, make_purchase, post, purchase_data

ARTICLE_EXAMPLE = {
    "description": "Purchase Office Equipment",
    "total_amount": 10000000,
    "items": [
        {"name": "Laptop", "quantity": 2, "price": 4000000},
        {"name": "Monitor", "quantity": 4, "price": 500000},
    ],
}


def entries_by_code(header: TransactionHeader) -> list[tuple[str, int, int]]:
    return sorted((e.account.code, e.debit, e.credit) for e in header.entries)


def test_article_example_posts_with_default_accounts(factory: sessionmaker[Session]) -> None:
    posted = post(factory, parse_purchase(ARTICLE_EXAMPLE, today=BOOKS_DAY))
    assert posted.status is Status.POSTED
    assert not posted.replayed
    with factory.begin() as session:
        header = get_transaction(session, posted.id)
        assert header.total == 10_000_000_00
        assert header.currency == "USD"
        assert header.exponent == 2
        assert header.payment_account.code == "1000"
        assert [
            (d.line, d.item, d.quantity, d.unit_price, d.subtotal, d.account.code) for d in header.details
        ] == [
            (1, "Laptop", 2, 4_000_000_00, 8_000_000_00, "1100"),
            (2, "Monitor", 4, 500_000_00, 2_000_000_00, "1100"),
        ]
        # One debit per item account (summed), one credit to the payment account.
        assert entries_by_code(header) == [("1000", 0, 10_000_000_00), ("1100", 10_000_000_00, 0)]


def test_entries_are_summed_per_account_and_origin_is_recorded(factory: sessionmaker[Session]) -> None:
    purchase = make_purchase(
        items=[
            item("Paper", 10, "4.99", "6100"),
            item("Desk", 1, "350.00", "1500"),
            item("Pens", 3, "1.10", "6100"),
        ],
        payment_account="2100",
        vendor="  Office World  ",
    )
    origin = Origin(source="slack", user="U123", team="T1", channel="C1")
    posted = post(factory, purchase, origin)
    with factory.begin() as session:
        header = get_transaction(session, posted.id)
        assert entries_by_code(header) == [("1500", 35000, 0), ("2100", 0, 40320), ("6100", 5320, 0)]
        assert header.total == 40320
        assert header.vendor == "Office World"
        assert (header.source, header.created_by, header.team_id, header.channel_id) == (
            "slack",
            "U123",
            "T1",
            "C1",
        )
        assert header.idempotency_key is None
        assert header.request_hash is None
        assert header.created_at is not None
        assert verify(session) == []


def test_pending_purchase_has_items_but_no_entries(factory: sessionmaker[Session]) -> None:
    posted = post(factory, make_purchase(), pending=True)
    assert posted.status is Status.PENDING
    with factory.begin() as session:
        header = get_transaction(session, posted.id)
        assert len(header.details) == 2
        assert header.entries == []
        assert verify(session) == []


def test_check_balanced_refuses_unbalanced_entries() -> None:
    header = TransactionHeader(id=7, total=100)
    with pytest.raises(
        Unbalanced, match=r"Transaction 7 does not balance \(debits 100, credits 90, total 100\)"
    ):
        check_balanced(header, [JournalEntry(debit=100, credit=0), JournalEntry(debit=0, credit=90)])
    with pytest.raises(Unbalanced, match="debits 90, credits 90, total 100"):
        check_balanced(header, [JournalEntry(debit=90, credit=0), JournalEntry(debit=0, credit=90)])
    check_balanced(header, [JournalEntry(debit=100, credit=0), JournalEntry(debit=0, credit=100)])


# --- Rollback: a failure after the header is flushed leaves nothing behind -------------------------


class Injected(RuntimeError):
    pass


def _scalar(cursor: Any, sql: str) -> Any:
    """A query on the same transaction, through the driver's own connection."""
    return cursor.connection.execute(sql).fetchone()[0]


@pytest.fixture
def fail_on_second_detail() -> Iterator[dict[str, Any]]:
    """Raise while the items (line 2 among them) are being inserted, after the header is written."""
    seen: dict[str, Any] = {}

    def fail(cursor: Any) -> None:
        seen["transaction_id"] = _scalar(cursor, "SELECT max(id) FROM transaction_headers")
        seen["headers_in_tx"] = _scalar(cursor, "SELECT count(*) FROM transaction_headers")
        raise Injected("disk on fire")

    with before_first_insert_into("transaction_details", fail):
        yield seen


@pytest.fixture
def fail_on_credit_entry() -> Iterator[dict[str, Any]]:
    """Raise while the journal entries are being inserted, after the header and items are written."""
    seen: dict[str, Any] = {}

    def fail(cursor: Any) -> None:
        seen["headers_in_tx"] = _scalar(cursor, "SELECT count(*) FROM transaction_headers")
        seen["details_in_tx"] = _scalar(cursor, "SELECT count(*) FROM transaction_details")
        raise Injected("network gone")

    with before_first_insert_into("journal_entries", fail):
        yield seen


@pytest.fixture
def fail_before_commit() -> Iterator[dict[str, Any]]:
    """Raise just before COMMIT, when the header, every detail and every entry are written."""
    seen: dict[str, Any] = {}

    def before_commit(session: Session) -> None:
        seen["rows_in_tx"] = count_rows(session)
        raise Injected("power cut")

    event.listen(Session, "before_commit", before_commit)
    yield seen
    event.remove(Session, "before_commit", before_commit)


def test_failure_in_second_detail_rolls_back_everything(
    engine: Engine, fail_on_second_detail: dict[str, Any]
) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(Injected), factory.begin() as session:
        post_purchase(session, make_purchase())
    # The header really had been written (and given an ID) before the failure...
    assert fail_on_second_detail["transaction_id"] is not None
    assert fail_on_second_detail["headers_in_tx"] == 1
    # ...and none of it survived.
    with factory.begin() as session:
        assert count_rows(session) == ZERO_ROWS


def test_failure_in_journal_entry_rolls_back_everything(
    engine: Engine, fail_on_credit_entry: dict[str, Any]
) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(Injected), factory.begin() as session:
        post_purchase(session, make_purchase())
    assert fail_on_credit_entry["headers_in_tx"] == 1
    assert fail_on_credit_entry["details_in_tx"] == 2
    with factory.begin() as session:
        assert count_rows(session) == ZERO_ROWS


def test_failure_just_before_commit_rolls_back_everything(
    engine: Engine, fail_before_commit: dict[str, Any]
) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(Injected), factory.begin() as session:
        post_purchase(session, make_purchase())
    assert fail_before_commit["rows_in_tx"] == {
        "transaction_headers": 1,
        "transaction_details": 2,
        "journal_entries": 2,
    }
    with make_session_factory(engine)() as session:
        assert count_rows(session) == ZERO_ROWS


def test_after_a_rollback_the_next_purchase_posts_normally(
    engine: Engine, fail_on_second_detail: dict[str, Any]
) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(Injected), factory.begin() as session:
        post_purchase(session, make_purchase())
    failed_id = fail_on_second_detail["transaction_id"]
    posted = post(factory, make_purchase(items=[item()]))  # the injected failure fires only once
    assert posted.id >= failed_id  # PostgreSQL leaves a gap; SQLite may reuse the unused ID
    with factory.begin() as session:
        assert count_rows(session) == {
            "transaction_headers": 1,
            "transaction_details": 1,
            "journal_entries": 2,
        }


def test_unbalanced_entries_from_python_roll_back_with_the_reason(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def off_by_a_cent(
        header: TransactionHeader, details: list[TransactionDetail], tax_accounts: dict[str, int]
    ) -> list[JournalEntry]:
        entries = balanced_entries(header, details, tax_accounts)
        entries[-1].credit -= 1
        check_balanced(header, entries)
        return entries

    monkeypatch.setattr(db.posting, "balanced_entries", off_by_a_cent)
    factory = make_session_factory(engine)
    with pytest.raises(Unbalanced, match=r"does not balance .*nothing was saved"), factory.begin() as session:
        post_purchase(session, make_purchase())
    with factory.begin() as session:
        assert count_rows(session) == ZERO_ROWS


def test_postgresql_refuses_unbalanced_entries_even_if_python_lets_them_through(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unbalanced(
        header: TransactionHeader, details: list[TransactionDetail], tax_accounts: dict[str, int]
    ) -> list[JournalEntry]:
        entries = balanced_entries(header, details, tax_accounts)
        entries[-1].credit -= 1
        return entries

    monkeypatch.setattr(db.posting, "balanced_entries", unbalanced)
    factory = make_session_factory(pg_engine)
    with pytest.raises(IntegrityError, match="does not balance"), factory.begin() as session:
        post_purchase(session, make_purchase())
    with factory.begin() as session:
        assert count_rows(session) == ZERO_ROWS


# --- Idempotency ---------------------------------------------------------------------------------


def test_same_key_twice_returns_the_first_id_and_writes_nothing(factory: sessionmaker[Session]) -> None:
    purchase = make_purchase(idempotency_key="slack:V123:abc")
    first = post(factory, purchase)
    with factory.begin() as session:
        before = count_rows(session)
    again = post(factory, make_purchase(idempotency_key="slack:V123:abc"))
    assert (again.id, again.status, again.replayed) == (first.id, Status.POSTED, True)
    with factory.begin() as session:
        assert count_rows(session) == before
        header = get_transaction(session, first.id)
        assert header.idempotency_key == "slack:V123:abc"
        assert header.request_hash == purchase.request_hash()


def test_same_key_with_the_stated_total_added_is_the_same_request(factory: sessionmaker[Session]) -> None:
    first = post(factory, make_purchase(idempotency_key="k1"))
    again = post(factory, make_purchase(idempotency_key="k1", total_amount="168.90"))
    assert again.id == first.id
    assert again.replayed


@pytest.mark.parametrize(
    "change",
    [
        {"description": "Printer paper!"},
        {"date": "2026-11-21"},
        {"vendor": "Other Co"},
        {"currency": "EUR"},
        {"payment_account": "1010"},
        {"items": [item("A4 paper", 10, "4.99", "6100")]},
        {"items": [item("A4 paper", 10, "4.99", "6200"), item("Toner", 2, "59.50", "6100")]},
        {"items": [item("A4 paper", 11, "4.99", "6100"), item("Toner", 2, "59.50", "6100")]},
    ],
    ids=["description", "date", "vendor", "currency", "payment", "fewer-items", "account", "quantity"],
)
def test_same_key_with_different_content_is_refused(
    factory: sessionmaker[Session], change: dict[str, Any]
) -> None:
    first = post(factory, make_purchase(idempotency_key="k2"))
    with factory.begin() as session:
        before = count_rows(session)
    with pytest.raises(IdempotencyConflict) as info:
        post(factory, parse_purchase(purchase_data(idempotency_key="k2", **change), today=BOOKS_DAY))
    assert str(info.value) == (
        f"This submission was already recorded as transaction {first.id} with different details; "
        "nothing new was saved"
    )
    with factory.begin() as session:
        assert count_rows(session) == before


def test_blank_idempotency_key_means_none(factory: sessionmaker[Session]) -> None:
    first = post(factory, make_purchase(idempotency_key="   "))
    second = post(factory, make_purchase(idempotency_key=""))
    assert first.id != second.id
    assert not second.replayed


def test_replay_of_a_pending_purchase_reports_pending(factory: sessionmaker[Session]) -> None:
    first = post(factory, make_purchase(idempotency_key="k3"), pending=True)
    again = post(factory, make_purchase(idempotency_key="k3"), pending=True)
    assert (again.id, again.status, again.replayed) == (first.id, Status.PENDING, True)


# --- The schema's own CHECK and NOT NULL constraints -----------------------------------------------


def _ids(session: Session) -> dict[str, int]:
    posted = post_purchase(session, make_purchase(items=[item(quantity=2, unit_price="5.00")]))
    detail = session.scalar(select(TransactionDetail.id).where(TransactionDetail.transaction_id == posted.id))
    assert detail is not None
    return {"tx": posted.id, "acct": _account(session, "6100")}


def _account(session: Session, code: str) -> int:
    found = session.scalar(text("SELECT id FROM accounts WHERE code = :c"), {"c": code})
    assert isinstance(found, int)
    return found


HEADER_COLUMNS = "effective_date, description, currency, exponent, total, payment_account_id, status, source"


@pytest.mark.parametrize(
    ("sql", "constraint"),
    [
        (
            "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id)"
            " VALUES (:tx, 9, 'x', 0, 100, 0, :acct)",
            "quantity_positive",
        ),
        (
            "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id)"
            " VALUES (:tx, 9, 'x', 1, -100, -100, :acct)",
            "unit_price_positive",
        ),
        (
            "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id)"
            " VALUES (:tx, 9, 'x', 2, 100, 300, :acct)",
            "subtotal_is_product",
        ),
        (
            "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id)"
            " VALUES (:tx, 0, 'x', 1, 100, 100, :acct)",
            "line_positive",
        ),
        (
            "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id)"
            " VALUES (:tx, 9, 'x', 1, 100, 100, NULL)",
            "account_id",
        ),
        (
            "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) VALUES (:tx, :acct, 100, 100)",
            "one_side",
        ),
        (
            "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) VALUES (:tx, :acct, 0, 0)",
            "one_side",
        ),
        (
            "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) VALUES (:tx, :acct, -5, 0)",
            "amounts_not_negative",
        ),
        (
            "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) VALUES (NULL, :acct, 5, 0)",
            "transaction_id",
        ),
        (
            "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) VALUES (999999, :acct, 5, 0)",
            "foreign key",
        ),
        (
            f"INSERT INTO transaction_headers ({HEADER_COLUMNS}) "
            "VALUES ('2026-11-20', 'x', 'USD', 2, 0, :acct, 'pending', 'test')",
            "total_positive",
        ),
        (
            f"INSERT INTO transaction_headers ({HEADER_COLUMNS}) "
            "VALUES ('2026-11-20', 'x', 'USD', 9, 100, :acct, 'pending', 'test')",
            "exponent_range",
        ),
        (
            f"INSERT INTO transaction_headers ({HEADER_COLUMNS}) "
            "VALUES ('2026-11-20', 'x', 'USD', 2, 100, :acct, 'lost', 'test')",
            "transaction_status",
        ),
        (
            f"INSERT INTO transaction_headers ({HEADER_COLUMNS}, idempotency_key) "
            "VALUES ('2026-11-20', 'x', 'USD', 2, 100, :acct, 'pending', 'test', 'key-without-hash')",
            "key_has_hash",
        ),
        (
            f"INSERT INTO transaction_headers ({HEADER_COLUMNS}) "
            "VALUES ('2026-11-20', 'x', 'USD', 2, 100, NULL, 'pending', 'test')",
            "payment_account_id",
        ),
    ],
    ids=[
        "zero-quantity",
        "negative-price",
        "wrong-subtotal",
        "line-zero",
        "detail-without-account",
        "debit-and-credit",
        "neither-debit-nor-credit",
        "negative-debit",
        "entry-without-transaction",
        "entry-for-missing-transaction",
        "zero-total",
        "exponent-out-of-range",
        "unknown-status",
        "key-without-hash",
        "header-without-payment-account",
    ],
)
def test_schema_constraints_refuse_bad_rows(
    factory: sessionmaker[Session], sql: str, constraint: str
) -> None:
    with factory.begin() as session:
        params = _ids(session)
        with pytest.raises(IntegrityError) as info, session.begin_nested():
            session.execute(text(sql), params)
        message = str(info.value.orig).lower()
        assert constraint.lower() in message or (constraint == "foreign key" and "foreign key" in message), (
            message
        )
