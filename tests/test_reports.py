"""Reports: one transaction, the trial balance, and `verify`, which names any transaction that is off."""

import random
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from db.errors import NotFound
from db.lifecycle import void
from db.money import to_minor
from db.posting import Origin, post_purchase
from db.reports import Problem, count_rows, get_transaction, trial_balance, verify
from db.schemas import Purchase
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import item, make_purchase, post

ITEM_ACCOUNTS = ["1100", "1500", "6100", "6200", "6300", "6400"]
PAYMENT_ACCOUNTS = ["1000", "1010", "2000", "2100"]
CREDIT_NORMAL = {"2000", "2100"}


def random_purchase(rng: random.Random, n: int, currency: str = "USD") -> Purchase:
    exp_places = {"USD": 2, "EUR": 2, "JPY": 0}[currency]
    items = [
        item(
            f"Item {n}.{i}",
            rng.randint(1, 20),
            f"{rng.randint(1, 500_000) / 10**exp_places:.{exp_places}f}",
            rng.choice(ITEM_ACCOUNTS),
        )
        for i in range(rng.randint(1, 6))
    ]
    return make_purchase(
        description=f"Random purchase {n}",
        currency=currency,
        items=items,
        payment_account=rng.choice(PAYMENT_ACCOUNTS),
    )


def expected_sides(purchases: list[Purchase]) -> dict[tuple[str, str], tuple[int, int]]:
    """(currency, account) -> (debits, credits), computed independently of the ledger code."""
    sides: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for p in purchases:
        exp = p.exponent
        for it in p.items:
            sides[(p.currency, it.account)][0] += it.quantity * to_minor(it.unit_price, exp)
        sides[(p.currency, p.payment_account)][1] += to_minor(p.items_total, exp)
    return {key: (d, c) for key, (d, c) in sides.items()}


def test_trial_balance_after_many_random_purchases(engine: Engine) -> None:
    rng = random.Random(20261123)
    purchases = [random_purchase(rng, n, rng.choice(["USD", "USD", "EUR", "JPY"])) for n in range(50)]
    factory = make_session_factory(engine)
    for p in purchases:
        post(factory, p)
    with factory.begin() as session:
        tb = trial_balance(session)
        assert count_rows(session)["transaction_headers"] == 50
        assert verify(session) == []
    expected = expected_sides(purchases)
    assert {(r.currency, r.code): (r.debit, r.credit) for r in tb.rows} == expected
    assert tb.balanced
    totals = tb.totals()
    assert set(totals) == {p.currency for p in purchases}
    for currency, (debit, credit) in totals.items():
        assert (
            debit
            == credit
            == sum(to_minor(p.items_total, p.exponent) for p in purchases if p.currency == currency)
        )
    for row in tb.rows:
        if row.code in CREDIT_NORMAL:
            assert row.balance == row.credit - row.debit
        else:
            assert row.balance == row.debit - row.credit
    # The exponent travels with each currency.
    assert {r.currency: r.exponent for r in tb.rows} == {c: {"JPY": 0}.get(c, 2) for c in totals}


def test_trial_balance_for_one_account(factory: sessionmaker[Session]) -> None:
    post(factory, make_purchase(items=[item(unit_price="10.00", account="6100")], payment_account="2100"))
    post(factory, make_purchase(items=[item(unit_price="2.50", account="6100")], payment_account="2100"))
    with factory.begin() as session:
        rows = trial_balance(session, "2100").rows
        assert [(r.code, r.name, r.debit, r.credit, r.balance) for r in rows] == [
            ("2100", "Company Credit Card", 0, 1250, 1250)
        ]
        assert trial_balance(session, "6100").rows[0].balance == 1250
        assert trial_balance(session, "9999").rows == []


def test_empty_books(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        tb = trial_balance(session)
        assert tb.rows == []
        assert tb.balanced
        assert verify(session) == []


def test_pending_purchases_are_not_in_the_trial_balance(factory: sessionmaker[Session]) -> None:
    post(factory, make_purchase(), Origin(user="U1"), pending=True)
    with factory.begin() as session:
        assert trial_balance(session).rows == []


def test_a_void_nets_every_account_to_zero(factory: sessionmaker[Session]) -> None:
    keep = post(factory, make_purchase(items=[item(unit_price="7.00")])).id
    drop = post(factory, make_purchase(items=[item(unit_price="100.00", account="1500")])).id
    with factory.begin() as session:
        void(session, drop, reason="wrong", origin=Origin(user="U1"), clock=CLOCK)
    with factory.begin() as session:
        balances = {r.code: r.balance for r in trial_balance(session).rows}
        assert balances == {"1000": -700, "1500": 0, "6100": 700}
        assert get_transaction(session, keep).total == 700


def test_show_unknown_transaction(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session, pytest.raises(NotFound, match="There is no transaction 31337"):
        get_transaction(session, 31337)


# --- verify names a broken transaction ----------------------------------------------------------

HEADER = (
    "INSERT INTO transaction_headers "
    "(effective_date, description, currency, exponent, total, payment_account_id, status, source) "
    "VALUES ('2026-11-20', :d, 'USD', 2, :total, (SELECT id FROM accounts WHERE code = '1000'), :status, 'raw') "
    "RETURNING id"
)
DETAIL = (
    "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id) "
    "VALUES (:tx, 1, 'x', 1, :amount, :amount, (SELECT id FROM accounts WHERE code = '6100'))"
)
ENTRY = (
    "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) "
    "VALUES (:tx, (SELECT id FROM accounts WHERE code = :code), :debit, :credit)"
)


def broken_books(conn: Connection) -> dict[str, int]:
    """Transactions that each break one rule (inserted around the database's own guards)."""

    def tx(name: str, total: int, status: str, items: int | None, entries: list[tuple[str, int, int]]) -> int:
        tx_id = conn.scalar(text(HEADER), {"d": name, "total": total, "status": status})
        assert isinstance(tx_id, int)
        if items is not None:
            conn.execute(text(DETAIL), {"tx": tx_id, "amount": items})
        for code, debit, credit in entries:
            conn.execute(text(ENTRY), {"tx": tx_id, "code": code, "debit": debit, "credit": credit})
        return tx_id

    return {
        "unbalanced": tx("unbalanced", 1000, "posted", 1000, [("6100", 1000, 0), ("1000", 0, 900)]),
        "no_entries": tx("no entries", 1000, "posted", 1000, []),
        "short": tx("short", 1000, "posted", 1000, [("6100", 500, 0), ("1000", 0, 500)]),
        "pending_with_entries": tx("pending", 1000, "pending", 1000, [("6100", 1000, 0), ("1000", 0, 1000)]),
        "items_off": tx("items off", 1000, "posted", 999, [("6100", 1000, 0), ("1000", 0, 1000)]),
        "void_without_reversal": tx("void", 1000, "voided", 1000, [("6100", 1000, 0), ("1000", 0, 1000)]),
    }


def expected_problems(ids: dict[str, int]) -> list[Problem]:
    return sorted(
        [
            Problem(ids["unbalanced"], "debits do not equal credits"),
            Problem(ids["no_entries"], "is posted but its journal entries do not add up to its total"),
            Problem(ids["short"], "is posted but its journal entries do not add up to its total"),
            Problem(ids["pending_with_entries"], "is not posted but has journal entries"),
            Problem(ids["items_off"], "items do not add up to its total"),
            Problem(ids["void_without_reversal"], "is marked void but has no reversing transaction"),
            # Inserted around the application, none of them was linked into the hash chain.
            *(Problem(tx, "has no link in the hash chain") for tx in ids.values()),
        ],
        key=lambda p: (p.transaction_id, p.message),
    )


def _sorted(problems: list[Problem]) -> list[Problem]:
    """The problems with transactions (with triggers bypassed, maintained balances may be off too)."""
    return sorted(
        (p for p in problems if p.transaction_id is not None),
        key=lambda p: (p.transaction_id or 0, p.message),
    )


def test_verify_is_clean_on_good_books_and_names_broken_transactions_on_postgresql(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    good = post(factory, make_purchase()).id
    with factory.begin() as session:
        void(
            session,
            post_purchase(session, make_purchase()).id,
            reason="x",
            origin=Origin(user="U1"),
            clock=CLOCK,
        )
    with factory.begin() as session:
        assert verify(session) == []

    with pg_engine.begin() as conn:
        conn.exec_driver_sql("SET session_replication_role = replica")  # triggers off, for this test only
        ids = broken_books(conn)
        conn.exec_driver_sql("SET session_replication_role = DEFAULT")
    with factory.begin() as session:
        problems = verify(session)
    assert _sorted(problems) == expected_problems(ids)
    assert good not in {p.transaction_id for p in problems}
    assert f"Transaction {ids['unbalanced']}: debits do not equal credits" in {str(p) for p in problems}


def test_verify_names_broken_transactions_on_sqlite(sqlite_engine: Engine) -> None:
    """SQLite has no balance trigger, so `verify` is what catches a bad write there."""
    factory = make_session_factory(sqlite_engine)
    good = post(factory, make_purchase()).id
    with sqlite_engine.begin() as conn:
        ids = broken_books(conn)
    with factory.begin() as session:
        problems = verify(session)
    assert _sorted(problems) == expected_problems(ids)
    assert good not in {p.transaction_id for p in problems}


def test_verify_is_clean_after_posting_voiding_and_approving(factory: sessionmaker[Session]) -> None:
    rng = random.Random(7)
    ids: list[Any] = [post(factory, random_purchase(rng, n)).id for n in range(5)]
    with factory.begin() as session:
        void(session, ids[0], reason="x", origin=Origin(user="U1"), clock=CLOCK)
    with factory.begin() as session:
        assert verify(session) == []
