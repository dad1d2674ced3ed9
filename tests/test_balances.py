"""Maintained balances (migration 0002): always equal to the sums over journal_entries."""

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from db.lifecycle import void
from db.migrate import upgrade
from db.models import Account, JournalEntry, TransactionHeader
from db.money import to_minor
from db.posting import Origin, Posted, post_purchase
from db.reports import BalanceRow, account_balance, trial_balance, verify, verify_balances
from db.schemas import parse_purchase
from db.session import make_engine, make_session_factory
from tests.clock import BOOKS_DAY, CLOCK
from tests.conftest import _admin, _drop, _pg_url, migrate_and_seed

ACCOUNTS = ("1100", "1500", "6100", "6200", "6300")
PAYERS = ("1000", "1010", "2100")


def purchase(n: int, *, currency: str = "USD", payer: str = "1000", key: str | None = None) -> Any:
    price = "1234" if currency == "JPY" else f"{n % 50 + 1}.{n % 100:02d}"
    return parse_purchase(
        {
            "description": f"Purchase {n}",
            "date": "2026-11-20",
            "currency": currency,
            "payment_account": payer,
            "vendor": "Card Co" if payer == "2100" else None,  # on account: a bill, which names its vendor
            "idempotency_key": key,
            "items": [
                {"name": "A", "quantity": n % 3 + 1, "unit_price": price, "account": ACCOUNTS[n % 5]},
                {"name": "B", "quantity": 1, "unit_price": price, "account": ACCOUNTS[(n + 2) % 5]},
            ],
        },
        today=BOOKS_DAY,
    )


def post(factory: sessionmaker[Session], n: int, **kwargs: Any) -> Posted:
    with factory.begin() as session:
        return post_purchase(session, purchase(n, **kwargs), Origin(source="test"))


def summed_trial_balance(session: Session) -> list[BalanceRow]:
    """The trial balance the slow way, straight from the journal entries."""
    e, h, a = JournalEntry, TransactionHeader, Account
    rows = session.execute(
        select(a.code, a.name, a.type, h.currency, h.exponent, func.sum(e.debit), func.sum(e.credit))
        .join(e, e.account_id == a.id)
        .join(h, h.id == e.transaction_id)
        .group_by(a.code, a.name, a.type, h.currency, h.exponent)
        .order_by(h.currency, a.code)
    )
    return [BalanceRow(c, n, t, cur, x, int(d), int(cr)) for c, n, t, cur, x, d, cr in rows]


def assert_balances_match(factory: sessionmaker[Session]) -> None:
    with factory.begin() as session:
        assert verify_balances(session) == []
        assert verify(session) == []
        assert trial_balance(session).rows == summed_trial_balance(session)


def test_balances_equal_sums_after_many_posts(factory: sessionmaker[Session]) -> None:
    for n in range(40):
        post(factory, n, currency="JPY" if n % 7 == 0 else "USD", payer=PAYERS[n % 3])
    assert_balances_match(factory)
    with factory.begin() as session:
        tb = trial_balance(session)
        assert tb.balanced
        assert {r.currency for r in tb.rows} == {"USD", "JPY"}
        cash = account_balance(session, "1000", "usd")
        assert cash is not None
        assert cash == next(r for r in tb.rows if r.code == "1000" and r.currency == "USD")
        assert cash.debit == 0
        assert cash.balance == -cash.credit
        assert account_balance(session, "3000", "USD") is None


def test_balances_after_void_and_replay(factory: sessionmaker[Session]) -> None:
    posted = [post(factory, n, key=f"k-{n}") for n in range(6)]
    assert post(factory, 0, key="k-0").replayed
    with factory.begin() as session:
        void(session, posted[2].id, reason="typo", origin=Origin(source="test"), clock=CLOCK)
    assert_balances_match(factory)
    with factory.begin() as session:
        before = {(r.code, r.currency): (r.debit, r.credit) for r in trial_balance(session).rows}
        void(session, posted[3].id, reason="duplicate", origin=Origin(source="test"), clock=CLOCK)
    with factory.begin() as session:
        after = {(r.code, r.currency): (r.debit, r.credit) for r in trial_balance(session).rows}
    assert after != before
    assert_balances_match(factory)


def test_verify_detects_a_tampered_balance(factory: sessionmaker[Session]) -> None:
    for n in range(5):
        post(factory, n)
    with factory.begin() as session:
        session.execute(
            text(
                "UPDATE account_balances SET credit = credit + 1 "
                "WHERE account_id = (SELECT id FROM accounts WHERE code = '1000')"
            )
        )
        problems = verify(session)
    assert [(p.transaction_id, p.account) for p in problems] == [(None, "1000")]
    assert "differs from its journal entries" in problems[0].message
    assert str(problems[0]).startswith("Account 1000: maintained balance in USD")


def test_verify_detects_a_missing_balance_row(factory: sessionmaker[Session]) -> None:
    post(factory, 1)
    with factory.begin() as session:
        session.execute(
            text(
                "DELETE FROM account_balances WHERE account_id = (SELECT id FROM accounts WHERE code = '1000')"
            )
        )
        problems = verify_balances(session)
    assert [p.account for p in problems] == ["1000"]


@pytest.mark.postgres
def test_concurrent_posts_to_cash_keep_balances_exact(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(w: int) -> None:
        try:
            start.wait()
            for i in range(15):
                post(factory, w * 100 + i, key=f"c-{w}-{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_balances_match(factory)
    with factory.begin() as session:
        slots = session.scalar(
            text(
                "SELECT count(*) FROM account_balances WHERE account_id = "
                "(SELECT id FROM accounts WHERE code = '1000')"
            )
        )
        assert slots is not None
        assert 1 <= slots <= 16


def _post_raw(conn: Connection, n: int) -> int:
    """Purchase `n` written with SQL in the schema of migration 0001 (the models are newer)."""
    p = purchase(n)
    ids: dict[str, int] = {c: i for c, i in conn.execute(text("SELECT code, id FROM accounts"))}
    lines = [(i.name, i.quantity, to_minor(i.unit_price, p.exponent), ids[i.account]) for i in p.items]
    total = sum(q * u for _, q, u, _ in lines)
    tx = conn.scalar(
        text(
            "INSERT INTO transaction_headers (effective_date, description, vendor, currency, exponent, "
            "total, payment_account_id, status, source) VALUES (:date, :description, 'Old Co', :currency, "
            ":exponent, :total, :payment, 'posted', 'test') RETURNING id"
        ),
        {
            "date": p.date,
            "description": p.description,
            "currency": p.currency,
            "exponent": p.exponent,
            "total": total,
            "payment": ids[p.payment_account],
        },
    )
    debits: dict[int, int] = {}
    for line, (name, quantity, price, account) in enumerate(lines, start=1):
        conn.execute(
            text(
                "INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, "
                "account_id) VALUES (:tx, :line, :item, :q, :u, :s, :a)"
            ),
            {
                "tx": tx,
                "line": line,
                "item": name,
                "q": quantity,
                "u": price,
                "s": quantity * price,
                "a": account,
            },
        )
        debits[account] = debits.get(account, 0) + quantity * price
    entries = [(a, d, 0) for a, d in debits.items()] + [(ids[p.payment_account], 0, total)]
    for account, debit, credit in entries:
        conn.execute(
            text(
                "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) VALUES (:tx, :a, :d, :c)"
            ),
            {"tx": tx, "a": account, "d": debit, "c": credit},
        )
    assert isinstance(tx, int)
    return tx


def _void_raw(conn: Connection, tx: int) -> None:
    """Void `tx` the way db.lifecycle does, in SQL of migration 0001."""
    reversal = conn.scalar(
        text(
            "INSERT INTO transaction_headers (effective_date, description, vendor, currency, exponent, total, "
            "payment_account_id, status, reverses_id, source) SELECT effective_date, 'Void', vendor, currency, "
            "exponent, total, payment_account_id, 'posted', id, 'test' FROM transaction_headers WHERE id = :tx "
            "RETURNING id"
        ),
        {"tx": tx},
    )
    conn.execute(
        text(
            "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) "
            "SELECT :r, account_id, credit, debit FROM journal_entries WHERE transaction_id = :tx ORDER BY id"
        ),
        {"r": reversal, "tx": tx},
    )
    conn.execute(
        text(
            "UPDATE transaction_headers SET status = 'voided', voided_by = 'test', voided_at = :at, "
            "void_reason = 'typo' WHERE id = :tx"
        ),
        {"tx": tx, "at": CLOCK.now()},
    )


def _post_at_0001_then_upgrade(engine: Engine) -> sessionmaker[Session]:
    upgrade(engine, "0001")
    with make_session_factory(engine).begin() as session:
        from db.accounts import seed_default_chart

        seed_default_chart(session)
    for n in range(10):
        with engine.begin() as conn:
            tx = _post_raw(conn, n)
        if n == 3:
            with engine.begin() as conn:
                _void_raw(conn, tx)
    upgrade(engine)
    return make_session_factory(engine)


def test_migration_backfills_sqlite(tmp_path: Path) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    factory = _post_at_0001_then_upgrade(engine)
    assert_balances_match(factory)
    post(factory, 99)
    assert_balances_match(factory)
    engine.dispose()


@pytest.mark.postgres
def test_migration_backfills_postgresql(pg_template: str) -> None:
    name = f"pb_old_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url(name))
    try:
        factory = _post_at_0001_then_upgrade(engine)
        assert_balances_match(factory)
        post(factory, 99)
        assert_balances_match(factory)
    finally:
        engine.dispose()
        _drop(name)


def test_fresh_database_starts_with_no_balances(tmp_path: Path) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'new.sqlite3'}"))
    migrate_and_seed(engine)
    with make_session_factory(engine).begin() as session:
        assert trial_balance(session).rows == []
        assert verify(session) == []
    engine.dispose()
