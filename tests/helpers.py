"""Shared builders for the ledger tests."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from db.posting import Origin, Posted, post_purchase
from db.schemas import Purchase, parse_purchase
from db.session import make_session_factory
from tests.clock import BOOKS_DAY

ZERO_ROWS = {"transaction_headers": 0, "transaction_details": 0, "journal_entries": 0}

T = TypeVar("T")


def purchase_data(**overrides: Any) -> dict[str, Any]:
    """A valid purchase as raw input; keyword arguments replace or add top-level fields."""
    data: dict[str, Any] = {
        "description": "Printer paper",
        "date": BOOKS_DAY.isoformat(),
        "vendor": "Paper Co",
        "currency": "USD",
        "items": [
            {"name": "A4 paper", "quantity": 10, "unit_price": "4.99", "account": "6100"},
            {"name": "Toner", "quantity": 2, "unit_price": "59.50", "account": "6100"},
        ],
        "payment_account": "1000",
    }
    data.update(overrides)
    return data


def item(
    name: str = "Thing", quantity: Any = 1, unit_price: Any = "1.00", account: str = "6100"
) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "unit_price": unit_price, "account": account}


def make_purchase(**overrides: Any) -> Purchase:
    return parse_purchase(purchase_data(**overrides), today=BOOKS_DAY)


def post(
    factory: sessionmaker[Session], purchase: Purchase, origin: Origin | None = None, *, pending: bool = False
) -> Posted:
    with factory.begin() as session:
        return post_purchase(session, purchase, origin or Origin(), pending=pending)


def in_session(engine_or_factory: Engine | sessionmaker[Session], fn: Callable[[Session], T]) -> T:
    factory = (
        make_session_factory(engine_or_factory)
        if isinstance(engine_or_factory, Engine)
        else engine_or_factory
    )
    with factory.begin() as session:
        return fn(session)


@contextmanager
def before_first_insert_into(table: str, action: Callable[[Any], None]) -> Iterator[None]:
    """Call `action(dbapi_cursor)` once, just before the first INSERT into `table` is sent.

    Works for ORM flushes and plain INSERTs alike; the cursor belongs to the transaction being
    written, so `action` can look at (or break) it mid-way.
    """
    fired: list[bool] = []

    def hook(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not fired and statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            fired.append(True)
            action(cursor)

    event.listen(Engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        event.remove(Engine, "before_cursor_execute", hook)


def until(condition: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait for `condition()` to hold, polling; fail the test if it does not within `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")
