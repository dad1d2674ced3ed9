"""The database guards the books itself: raw SQL that bypasses the application is refused.

PostgreSQL: a deferred constraint trigger checks the balance at COMMIT; other triggers make entries
and items append-only, headers undeletable and let a header change only by allowed status moves.
SQLite: the append-only and status rules.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from db.lifecycle import approve, reject, void
from db.posting import Origin, post_purchase
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import make_purchase

HEADER = (
    "INSERT INTO transaction_headers "
    "(effective_date, description, currency, exponent, total, payment_account_id, status, source) "
    "VALUES ('2026-11-20', :description, 'USD', 2, :total, "
    "(SELECT id FROM accounts WHERE code = '1000'), :status, 'raw') RETURNING id"
)
ENTRY = (
    "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) "
    "VALUES (:tx, (SELECT id FROM accounts WHERE code = :code), :debit, :credit)"
)


def header(conn: Connection, total: int, status: str = "posted", description: str = "raw") -> int:
    tx = conn.scalar(text(HEADER), {"total": total, "status": status, "description": description})
    assert isinstance(tx, int)
    return tx


def entry(conn: Connection, tx: int, code: str, debit: int = 0, credit: int = 0) -> None:
    conn.execute(text(ENTRY), {"tx": tx, "code": code, "debit": debit, "credit": credit})


def commit(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    """Run `work` in one transaction and COMMIT it."""
    with engine.begin() as conn:
        return work(conn)


def execute(engine: Engine, sql: str, **params: Any) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.scalar(text(sql), params)


def raw_headers(engine: Engine) -> int:
    return int(scalar(engine, "SELECT count(*) FROM transaction_headers WHERE source = 'raw'"))


def build_books(engine: Engine) -> dict[str, int]:
    """Committed transactions in every state: posted, voided (and its reversal), pending, rejected, approved."""
    factory = make_session_factory(engine)
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase()).id
        to_void = post_purchase(session, make_purchase(description="Wrong")).id
        pending = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
        to_reject = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
        to_approve = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
    with factory.begin() as session:
        reversal = void(session, to_void, reason="typo", origin=Origin(user="U2"), clock=CLOCK).id
        reject(session, to_reject, by="U2", reason="not needed", clock=CLOCK)
        approve(session, to_approve, by="U2", clock=CLOCK)
    return {
        "posted": posted,
        "voided": to_void,
        "reversal": reversal,
        "pending": pending,
        "rejected": to_reject,
        "approved": to_approve,
    }


@pytest.fixture(scope="module")
def books(pg_module_engine: Engine) -> dict[str, int]:
    """Shared by the tests whose every write must be refused (so the books never change)."""
    return build_books(pg_module_engine)


@pytest.fixture
def shared(pg_module_engine: Engine, books: dict[str, int]) -> Iterator[Engine]:
    """The shared books' engine; checks after each test that nothing in them changed."""
    before = snapshot(pg_module_engine)
    yield pg_module_engine
    assert snapshot(pg_module_engine) == before


def snapshot(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return [
            conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).all()
            for table in ("transaction_headers", "transaction_details", "journal_entries")
        ]


@pytest.fixture
def own_books(pg_engine: Engine) -> dict[str, int]:
    """The same books in a database of the test's own, for tests that change them."""
    return build_books(pg_engine)


# --- The balance, checked at COMMIT -------------------------------------------------------------


def test_unbalanced_entries_are_rejected_at_commit(pg_engine: Engine) -> None:
    def unbalanced(conn: Connection) -> None:
        tx = header(conn, 1000)
        entry(conn, tx, "6100", debit=1000)
        entry(conn, tx, "1000", credit=900)
        # Accepted row by row: the check is deferred to COMMIT.
        assert (
            conn.scalar(text("SELECT count(*) FROM journal_entries WHERE transaction_id = :tx"), {"tx": tx})
            == 2
        )

    with pytest.raises(IntegrityError, match=r"does not balance: debits 1000 <> credits 900"):
        commit(pg_engine, unbalanced)
    assert raw_headers(pg_engine) == 0
    assert scalar(pg_engine, "SELECT count(*) FROM journal_entries") == 0


def test_entries_may_be_unbalanced_midway_if_they_balance_at_commit(pg_engine: Engine) -> None:
    def balanced_at_the_end(conn: Connection) -> int:
        tx = header(conn, 1000)
        entry(conn, tx, "6100", debit=600)
        entry(conn, tx, "1000", credit=1000)
        entry(conn, tx, "1500", debit=400)
        return tx

    tx = commit(pg_engine, balanced_at_the_end)
    assert (
        scalar(
            pg_engine,
            "SELECT sum(debit) - sum(credit) FROM journal_entries WHERE transaction_id = :tx",
            tx=tx,
        )
        == 0
    )


def test_posted_header_without_entries_is_rejected_at_commit(pg_engine: Engine) -> None:
    with pytest.raises(
        IntegrityError, match=r"is posted but its entries \(0\) do not equal its total \(1000\)"
    ):
        commit(pg_engine, lambda conn: header(conn, 1000))
    assert raw_headers(pg_engine) == 0


def test_posted_entries_must_add_up_to_the_total(pg_engine: Engine) -> None:
    def short(conn: Connection) -> None:
        tx = header(conn, 1000)
        entry(conn, tx, "6100", debit=999)
        entry(conn, tx, "1000", credit=999)

    with pytest.raises(IntegrityError, match=r"entries \(999\) do not equal its total \(1000\)"):
        commit(pg_engine, short)
    assert raw_headers(pg_engine) == 0


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_pending_or_rejected_header_with_entries_is_rejected_at_commit(
    pg_engine: Engine, status: str
) -> None:
    def with_entries(conn: Connection) -> None:
        tx = header(conn, 1000, status)
        entry(conn, tx, "6100", debit=1000)
        entry(conn, tx, "1000", credit=1000)

    with pytest.raises(IntegrityError, match=rf"is {status} and must have no journal entries"):
        commit(pg_engine, with_entries)
    assert raw_headers(pg_engine) == 0


def test_balanced_pair_added_to_a_committed_transaction_is_rejected(
    shared: Engine, books: dict[str, int]
) -> None:
    def extra_pair(conn: Connection) -> None:
        entry(conn, books["posted"], "6100", debit=500)
        entry(conn, books["posted"], "1000", credit=500)

    with pytest.raises(IntegrityError, match="do not equal its total"):
        commit(shared, extra_pair)


def test_legal_pending_to_posted_with_balanced_entries_is_accepted(
    pg_engine: Engine, own_books: dict[str, int]
) -> None:
    tx = own_books["pending"]
    total = scalar(pg_engine, "SELECT total FROM transaction_headers WHERE id = :tx", tx=tx)

    def approve_by_hand(conn: Connection) -> None:
        entry(conn, tx, "6100", debit=total)
        entry(conn, tx, "1000", credit=total)
        conn.execute(
            text("UPDATE transaction_headers SET status = 'posted', decided_by = 'U9' WHERE id = :tx"),
            {"tx": tx},
        )

    commit(pg_engine, approve_by_hand)
    assert scalar(pg_engine, "SELECT status FROM transaction_headers WHERE id = :tx", tx=tx) == "posted"


def test_pending_to_posted_without_entries_is_rejected_at_commit(
    shared: Engine, books: dict[str, int]
) -> None:
    with pytest.raises(IntegrityError, match="is posted but its entries"):
        execute(
            shared, "UPDATE transaction_headers SET status = 'posted' WHERE id = :tx", tx=books["pending"]
        )
    assert (
        scalar(shared, "SELECT status FROM transaction_headers WHERE id = :tx", tx=books["pending"])
        == "pending"
    )


# --- Append-only entries and items; undeletable headers -----------------------------------------


APPEND_ONLY = [
    (
        "UPDATE journal_entries SET debit = debit + 1 WHERE transaction_id = :tx AND debit > 0",
        "journal_entries",
    ),
    ("UPDATE journal_entries SET account_id = account_id WHERE transaction_id = :tx", "journal_entries"),
    ("DELETE FROM journal_entries WHERE transaction_id = :tx", "journal_entries"),
    (
        "UPDATE transaction_details SET quantity = 3, subtotal = 3 * unit_price WHERE transaction_id = :tx",
        "transaction_details",
    ),
    (
        "UPDATE transaction_details SET item = 'Something else' WHERE transaction_id = :tx",
        "transaction_details",
    ),
    ("DELETE FROM transaction_details WHERE transaction_id = :tx", "transaction_details"),
    ("DELETE FROM transaction_headers WHERE id = :tx", "transaction_headers"),
]
APPEND_ONLY_IDS = [
    "update-entry-amount",
    "update-entry-noop",
    "delete-entries",
    "update-item-quantity",
    "update-item-name",
    "delete-items",
    "delete-header",
]


@pytest.mark.parametrize(("sql", "table"), APPEND_ONLY, ids=APPEND_ONLY_IDS)
def test_postgresql_entries_and_items_are_append_only(
    shared: Engine, books: dict[str, int], sql: str, table: str
) -> None:
    before = scalar(shared, "SELECT count(*) FROM journal_entries")
    with pytest.raises(IntegrityError, match=rf"{table} is append-only"):
        execute(shared, sql, tx=books["posted"])
    assert scalar(shared, "SELECT count(*) FROM journal_entries") == before


@pytest.mark.parametrize("table", ["journal_entries", "transaction_details", "transaction_headers"])
def test_postgresql_truncate_is_refused(shared: Engine, books: dict[str, int], table: str) -> None:
    with pytest.raises(IntegrityError, match=rf"{table} is append-only"):
        execute(shared, f"TRUNCATE {table} CASCADE")


def test_pending_header_cannot_be_deleted_either(shared: Engine, books: dict[str, int]) -> None:
    with pytest.raises(IntegrityError, match="transaction_headers is append-only"):
        execute(shared, "DELETE FROM transaction_headers WHERE id = :tx", tx=books["pending"])


# --- Headers: fixed once recorded; only allowed status moves ------------------------------------


@pytest.mark.parametrize(
    "assignment",
    [
        "total = total + 100",
        "description = 'Something nicer'",
        "effective_date = '2020-01-01'",
        "currency = 'EUR'",
        "payment_account_id = (SELECT id FROM accounts WHERE code = '1010')",
        "created_by = 'U666'",
        "created_at = now() - interval '1 year'",
        "idempotency_key = 'k', request_hash = 'h'",
        "source_link = 'https://evil.slack.com/archives/C1/p1'",
    ],
)
@pytest.mark.parametrize("state", ["posted", "pending"])
def test_header_fields_cannot_be_edited(
    shared: Engine, books: dict[str, int], assignment: str, state: str
) -> None:
    with pytest.raises(IntegrityError, match="is recorded and cannot be edited; void it and post a new one"):
        execute(shared, f"UPDATE transaction_headers SET {assignment} WHERE id = :tx", tx=books[state])


@pytest.mark.parametrize(
    ("state", "new_status"),
    [
        ("voided", "posted"),
        ("voided", "pending"),
        ("posted", "pending"),
        ("posted", "rejected"),
        ("rejected", "posted"),
        ("rejected", "pending"),
        ("pending", "voided"),
        ("approved", "pending"),
    ],
)
def test_illegal_status_transitions_are_refused(
    shared: Engine, books: dict[str, int], state: str, new_status: str
) -> None:
    old_status = "posted" if state == "approved" else state
    with pytest.raises(IntegrityError, match=rf"cannot go from {old_status} to {new_status}"):
        execute(
            shared,
            "UPDATE transaction_headers SET status = :s WHERE id = :tx",
            s=new_status,
            tx=books[state],
        )
    assert (
        scalar(shared, "SELECT status FROM transaction_headers WHERE id = :tx", tx=books[state]) == old_status
    )


def test_a_decision_cannot_be_rewritten(shared: Engine, books: dict[str, int]) -> None:
    for state in ("approved", "rejected"):
        with pytest.raises(IntegrityError, match=r"the decision on transaction \d+ is already recorded"):
            execute(
                shared,
                "UPDATE transaction_headers SET decided_by = 'U666' WHERE id = :tx",
                tx=books[state],
            )


def test_void_details_only_with_a_void(shared: Engine, books: dict[str, int]) -> None:
    with pytest.raises(IntegrityError, match="can only be recorded when it is voided"):
        execute(
            shared,
            "UPDATE transaction_headers SET void_reason = 'sneaky' WHERE id = :tx",
            tx=books["posted"],
        )
    with pytest.raises(IntegrityError, match="can only be recorded when it is voided"):
        execute(
            shared, "UPDATE transaction_headers SET voided_by = 'U666' WHERE id = :tx", tx=books["voided"]
        )


def test_legal_posted_to_voided_is_accepted(pg_engine: Engine, own_books: dict[str, int]) -> None:
    execute(
        pg_engine,
        "UPDATE transaction_headers SET status = 'voided', voided_by = 'U9', void_reason = 'by hand' WHERE id = :tx",
        tx=own_books["posted"],
    )
    assert (
        scalar(pg_engine, "SELECT status FROM transaction_headers WHERE id = :tx", tx=own_books["posted"])
        == "voided"
    )


def test_the_books_built_through_the_application_pass_every_trigger(
    pg_engine: Engine, own_books: dict[str, int]
) -> None:
    rows = scalar(pg_engine, "SELECT string_agg(status, ',' ORDER BY id) FROM transaction_headers")
    assert rows == "posted,voided,pending,rejected,posted,posted"


# --- SQLite: append-only and status rules -------------------------------------------------------


def build_sqlite_books(engine: Engine) -> dict[str, int]:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase()).id
        to_void = post_purchase(session, make_purchase(description="Wrong")).id
        pending = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
        to_reject = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True).id
    with factory.begin() as session:
        void(session, to_void, reason="typo", origin=Origin(user="U2"), clock=CLOCK)
        reject(session, to_reject, by="U2", reason="no", clock=CLOCK)
    return {"posted": posted, "voided": to_void, "pending": pending, "rejected": to_reject}


@pytest.fixture(scope="module")
def sqlite_books(sqlite_module_engine: Engine) -> dict[str, int]:
    return build_sqlite_books(sqlite_module_engine)


@pytest.fixture
def sqlite_shared(sqlite_module_engine: Engine, sqlite_books: dict[str, int]) -> Iterator[Engine]:
    before = snapshot(sqlite_module_engine)
    yield sqlite_module_engine
    assert snapshot(sqlite_module_engine) == before


@pytest.mark.parametrize(("sql", "table"), APPEND_ONLY, ids=APPEND_ONLY_IDS)
def test_sqlite_entries_and_items_are_append_only(
    sqlite_shared: Engine, sqlite_books: dict[str, int], sql: str, table: str
) -> None:
    before = scalar(sqlite_shared, "SELECT count(*) FROM journal_entries")
    with pytest.raises(DBAPIError, match=rf"{table} is append-only"):
        execute(sqlite_shared, sql, tx=sqlite_books["posted"])
    assert scalar(sqlite_shared, "SELECT count(*) FROM journal_entries") == before


@pytest.mark.parametrize(
    "assignment",
    [
        "total = total + 100",
        "description = 'Nicer'",
        "effective_date = '2020-01-01'",
        "created_by = 'U666'",
        "source_link = 'https://evil.slack.com/archives/C1/p1'",
    ],
)
def test_sqlite_header_fields_cannot_be_edited(
    sqlite_shared: Engine, sqlite_books: dict[str, int], assignment: str
) -> None:
    with pytest.raises(DBAPIError, match="a recorded transaction cannot be edited"):
        execute(
            sqlite_shared,
            f"UPDATE transaction_headers SET {assignment} WHERE id = :tx",
            tx=sqlite_books["posted"],
        )


@pytest.mark.parametrize(
    ("state", "new_status"),
    [("voided", "posted"), ("posted", "pending"), ("rejected", "posted"), ("pending", "voided")],
)
def test_sqlite_illegal_status_transitions_are_refused(
    sqlite_shared: Engine, sqlite_books: dict[str, int], state: str, new_status: str
) -> None:
    with pytest.raises(DBAPIError, match="this status change is not allowed"):
        execute(
            sqlite_shared,
            "UPDATE transaction_headers SET status = :s WHERE id = :tx",
            s=new_status,
            tx=sqlite_books[state],
        )
    assert (
        scalar(sqlite_shared, "SELECT status FROM transaction_headers WHERE id = :tx", tx=sqlite_books[state])
        == state
    )


def test_sqlite_legal_status_transition_is_allowed(sqlite_engine: Engine) -> None:
    own = build_sqlite_books(sqlite_engine)
    execute(
        sqlite_engine,
        "UPDATE transaction_headers SET status = 'voided' WHERE id = :tx",
        tx=own["posted"],
    )
    assert (
        scalar(sqlite_engine, "SELECT status FROM transaction_headers WHERE id = :tx", tx=own["posted"])
        == "voided"
    )
