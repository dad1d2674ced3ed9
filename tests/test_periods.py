"""Closed periods: the database refuses anything dated in one (PostgreSQL and SQLite), a void of a
transaction in one is reversed in the first open period, and dates are checked for sanity."""

import datetime as dt

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from db import periods
from db.errors import InvalidPurchase, LedgerError
from db.lifecycle import approve, void
from db.posting import Origin, post_purchase
from db.reports import verify
from db.session import make_session_factory
from tests.clock import BOOKS_DAY, CLOCK
from tests.helpers import make_purchase


def _close(engine: Engine, month: str = "2026-11") -> None:
    with make_session_factory(engine).begin() as session:
        periods.close(session, month, by="U_ACCOUNTANT", clock=CLOCK)


def test_posting_into_a_closed_period_is_refused_naming_it(engine: Engine) -> None:
    _close(engine)
    factory = make_session_factory(engine)
    with pytest.raises(InvalidPurchase) as caught, factory.begin() as session:
        post_purchase(session, make_purchase())
    (error,) = caught.value.errors
    assert error.loc == ("date",)
    assert "period 2026-11 is closed" in error.message
    assert "purchase-bot period reopen 2026-11 --reason" in error.message
    with factory.begin() as session:
        assert post_purchase(session, make_purchase(date="2026-12-01")).id


def test_the_database_itself_refuses_a_header_in_a_closed_period(engine: Engine) -> None:
    _close(engine)
    insert = text(
        "INSERT INTO transaction_headers (effective_date, description, currency, exponent, total, "
        "payment_account_id, status, source) VALUES ('2026-11-05', 'raw', 'USD', 2, 100, "
        "(SELECT id FROM accounts WHERE code = '1000'), 'posted', 'raw')"
    )
    with pytest.raises(IntegrityError, match="closed period"), engine.begin() as conn:
        conn.execute(insert)


def test_reopening_needs_a_reason_and_is_recorded(engine: Engine) -> None:
    _close(engine)
    factory = make_session_factory(engine)
    with pytest.raises(LedgerError, match="already closed by U_ACCOUNTANT"), factory.begin() as session:
        periods.close(session, "2026-11", by="U_X", clock=CLOCK)
    with pytest.raises(LedgerError, match="say why period 2026-11 is reopened"), factory.begin() as session:
        periods.reopen(session, "2026-11", reason="  ", by="U_X", clock=CLOCK)
    with factory.begin() as session:
        periods.reopen(session, "2026-11", reason="late invoice", by="U_CFO", clock=CLOCK)
    with factory.begin() as session:
        (state,) = periods.list_periods(session)
        assert (state.month, state.closed, state.action, state.by, state.reason) == (
            "2026-11",
            False,
            "reopen",
            "U_CFO",
            "late invoice",
        )
        assert post_purchase(session, make_purchase()).id


def test_closing_with_purchases_waiting_for_approval_lists_them(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        waiting = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True)
    with pytest.raises(LedgerError, match=f"waiting for approval: {waiting.id};"), factory.begin() as session:
        periods.close(session, "2026-11", by="U_ACCOUNTANT", clock=CLOCK)
    with factory.begin() as session:
        approve(session, waiting.id, by="U2", clock=CLOCK)
    _close(engine)


def test_approving_in_a_closed_period_is_refused(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        waiting = post_purchase(session, make_purchase(), Origin(user="U1"), pending=True)
    # Closed behind the check's back (as a concurrent close that raced it would): the trigger still refuses.
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO periods VALUES ('2026-11', '2026-11-01', '2026-11-30', true)"))
    with pytest.raises(LedgerError, match="period 2026-11 is closed"), factory.begin() as session:
        approve(session, waiting.id, by="U2", clock=CLOCK)


def test_a_void_in_a_closed_period_is_reversed_in_the_first_open_one(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase())
    _close(engine)
    _close(engine, "2026-12")
    with factory.begin() as session:
        reversal = void(session, posted.id, reason="duplicate", origin=Origin(user="U1"), clock=CLOCK)
    assert reversal.note == (
        f"Transaction {posted.id} is dated in closed period 2026-11; its reversal {reversal.id} is dated "
        "2027-01-01, in the first open period."
    )
    with factory.begin() as session:
        assert session.scalar(
            text(f"SELECT effective_date FROM transaction_headers WHERE id = {reversal.id}")
        ) in (dt.date(2027, 1, 1), "2027-01-01")
        assert verify(session) == []


def test_dates_before_the_first_period_or_too_far_ahead_are_date_errors(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with factory.begin() as session:
        periods.start(session, "2026-01", by="U_ACCOUNTANT", clock=CLOCK)
    with pytest.raises(InvalidPurchase) as caught, factory.begin() as session:
        post_purchase(session, make_purchase(date="2025-12-31"))
    assert caught.value.errors[0].loc == ("date",)
    assert "2025-12-31 is before the books' first period" in caught.value.errors[0].message
    with pytest.raises(InvalidPurchase) as caught, factory.begin() as session:
        post_purchase(session, make_purchase(date="9999-12-31"), clock=CLOCK, max_future_days=31)
    assert caught.value.errors[0].loc == ("date",)
    latest = BOOKS_DAY + dt.timedelta(days=31)
    assert caught.value.errors[0].message == (
        f"9999-12-31 is more than 31 days ahead of today; the latest date is {latest}"
    )
    with factory.begin() as session:
        assert post_purchase(
            session, make_purchase(date=latest.isoformat()), clock=CLOCK, max_future_days=31
        ).id


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "november", ""])
def test_a_period_must_be_a_month(month: str) -> None:
    with pytest.raises(LedgerError, match="give a month as YYYY-MM"):
        periods.parse_month(month)
