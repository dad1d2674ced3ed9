"""Many writers at once: every purchase lands, the books balance, and one idempotency key means one
transaction however many submit it."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest
from sqlalchemy import Engine, select

from db.errors import AlreadyDecided, IdempotencyConflict, LedgerError
from db.lifecycle import approve, void
from db.models import TransactionHeader
from db.money import to_minor
from db.posting import Origin, Posted
from db.reports import count_rows, get_transaction, trial_balance, verify
from db.schemas import Purchase
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import item, make_purchase, post

T = TypeVar("T")


def together(threads: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run `work(i)` on `threads` threads released at the same moment; results or exceptions, in order."""
    barrier = threading.Barrier(threads)

    def run(i: int) -> T | BaseException:
        barrier.wait(timeout=30)
        try:
            return work(i)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, range(threads)))


def purchase_number(n: int) -> Purchase:
    return make_purchase(
        description=f"Purchase {n}",
        items=[item("Paper", 1 + n % 5, f"{n + 1}.{n % 100:02d}", "6100"), item("Pens", 2, "0.35", "6200")],
        payment_account=["1000", "1010", "2100"][n % 3],
    )


def test_200_purchases_from_8_threads_all_land_and_balance(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)

    def worker(t: int) -> list[Posted]:
        return [post(factory, purchase_number(n)) for n in range(t, 200, 8)]

    results = together(8, worker)
    posted = [p for r in results if not isinstance(r, BaseException) for p in r]
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert len({p.id for p in posted}) == 200

    with factory.begin() as session:
        assert count_rows(session) == {
            "transaction_headers": 200,
            "transaction_details": 400,
            "journal_entries": 600,
        }
        descriptions = set(session.scalars(select(TransactionHeader.description)))
        assert descriptions == {f"Purchase {n}" for n in range(200)}
        tb = trial_balance(session)
        assert tb.balanced
        expected_total = sum(to_minor(purchase_number(n).items_total, 2) for n in range(200))
        assert tb.totals() == {"USD": (expected_total, expected_total)}
        assert verify(session) == []


def _race_one_key(engine: Engine, threads: int) -> None:
    factory = make_session_factory(engine)
    purchase = make_purchase(idempotency_key="slack:view:V42")

    results = together(threads, lambda _i: post(factory, purchase))
    assert [r for r in results if isinstance(r, BaseException)] == []
    posted = [r for r in results if isinstance(r, Posted)]
    assert len({p.id for p in posted}) == 1
    assert sum(not p.replayed for p in posted) == 1
    with factory.begin() as session:
        assert count_rows(session) == {
            "transaction_headers": 1,
            "transaction_details": 2,
            "journal_entries": 2,
        }
        assert verify(session) == []


def test_20_threads_one_idempotency_key_make_one_transaction_on_postgresql(pg_engine: Engine) -> None:
    _race_one_key(pg_engine, 20)


def test_5_threads_one_idempotency_key_make_one_transaction_on_sqlite(sqlite_engine: Engine) -> None:
    _race_one_key(sqlite_engine, 5)


@pytest.mark.parametrize("db", ["postgresql", "sqlite"])
def test_same_key_different_content_conflicts_under_concurrency(
    db: str, request: pytest.FixtureRequest
) -> None:
    engine: Engine = request.getfixturevalue("pg_engine" if db == "postgresql" else "sqlite_engine")
    threads = 12 if db == "postgresql" else 4
    factory = make_session_factory(engine)
    variants = [make_purchase(idempotency_key="k", description=f"Variant {i % 2}") for i in range(threads)]

    results = together(threads, lambda i: post(factory, variants[i]))
    with factory.begin() as session:
        assert count_rows(session)["transaction_headers"] == 1
        winner = session.scalars(select(TransactionHeader)).one()
    for i, result in enumerate(results):
        if variants[i].description == winner.description:
            assert isinstance(result, Posted)
            assert result.id == winner.id
        else:
            assert isinstance(result, IdempotencyConflict)
            assert f"already recorded as transaction {winner.id} with different details" in str(result)


def test_two_people_voiding_at_once_get_one_void(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    original = post(factory, make_purchase()).id

    def void_it(i: int) -> Posted:
        with factory.begin() as session:
            return void(session, original, reason=f"reason {i}", origin=Origin(user=f"U{i}"), clock=CLOCK)

    results = together(6, void_it)
    done = [r for r in results if isinstance(r, Posted)]
    refused = [r for r in results if isinstance(r, AlreadyDecided)]
    assert (len(done), len(refused)) == (1, 5)
    with factory.begin() as session:
        header = get_transaction(session, original)
        assert all(f"was already voided by {header.voided_by}" in str(r) for r in refused)
        assert count_rows(session)["transaction_headers"] == 2
        assert verify(session) == []


def test_two_approvers_at_once_get_one_approval(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    pending = post(factory, make_purchase(), Origin(user="U0"), pending=True).id

    def approve_it(i: int) -> Posted:
        with factory.begin() as session:
            return approve(session, pending, by=f"U{i + 1}", clock=CLOCK)

    results = together(6, approve_it)
    assert sum(isinstance(r, Posted) for r in results) == 1
    assert all(isinstance(r, Posted | AlreadyDecided) for r in results)
    assert not any(isinstance(r, LedgerError) and not isinstance(r, AlreadyDecided) for r in results)
    with factory.begin() as session:
        assert count_rows(session)["journal_entries"] == 2
        assert verify(session) == []
