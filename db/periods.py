"""Accounting periods (calendar months of the books): start, close, reopen, and dates checks.

A closed period is enforced by the database (migration 0006's triggers): nothing dated in it is
inserted, approved or rejected. This module records who closed or reopened what and why, and turns
the database's refusal into a message that names the period and what to do (`refusal`).
"""

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.clock import Clock, month_bounds
from db.errors import LedgerError
from db.migrations.ledger_sql import BEFORE_FIRST_MARK, CLOSED_MARK
from db.models import Period, PeriodEvent, Status, TransactionHeader

MAX_REASON = 500
_MONTH = re.compile(r"(\d{4})-(\d{2})")


class ClosedPeriod(LedgerError):
    """Something dated in a closed period, or before the books' first period, was refused."""


def parse_month(text: str) -> str:
    """`2026-11` as given, checked; anything else is an error saying what a period looks like."""
    match = _MONTH.fullmatch(text.strip())
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise LedgerError(f"{text!r} is not a period; give a month as YYYY-MM, e.g. 2026-11")
    return match[0]


def month_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"


def _first_day(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:]), 1)


def closed_message(day: dt.date) -> str:
    month = month_of(day)
    return (
        f"period {month} is closed, so nothing dated {day.isoformat()} can be recorded; date it in an open "
        f"period, or ask an accountant to reopen {month} (purchase-bot period reopen {month} --reason ...)"
    )


def before_first_message(day: dt.date) -> str:
    return (
        f"{day.isoformat()} is before the books' first period; date it within the books (purchase-bot "
        "period list shows where they start), or start them earlier (purchase-bot period start YYYY-MM)"
    )


@contextmanager
def refusal(day: dt.date) -> Iterator[None]:
    """Turn the database's refusal of a date (migration 0006) into a `ClosedPeriod` naming it."""
    try:
        yield
    except IntegrityError as exc:
        text = str(exc.orig)
        if CLOSED_MARK in text:
            raise ClosedPeriod(closed_message(day)) from exc
        if BEFORE_FIRST_MARK in text:
            raise ClosedPeriod(before_first_message(day)) from exc
        raise


def check_not_too_far(day: dt.date, *, clock: Clock, max_future_days: int) -> str | None:
    """Why `day` is too far ahead of the books' today, or None."""
    limit = clock.today() + dt.timedelta(days=max_future_days)
    if day > limit:
        return f"{day.isoformat()} is more than {max_future_days} days ahead of today; the latest date is {limit}"
    return None


def is_closed(session: Session, day: dt.date) -> bool:
    return bool(session.scalar(select(Period.closed).where(Period.month == month_of(day))))


def first_open_day(session: Session, day: dt.date) -> dt.date:
    """`day`, or if its period is closed the first day of the first open period after it."""
    closed = set(session.scalars(select(Period.month).where(Period.closed, Period.last_day >= day)))
    while month_of(day) in closed:
        day = month_bounds(day)[1] + dt.timedelta(days=1)
    return day


@dataclass(frozen=True)
class PeriodState:
    month: str
    closed: bool
    by: str | None
    at: dt.datetime
    action: str
    reason: str | None


def _period(session: Session, month: str, *, lock: bool = False) -> Period | None:
    query = select(Period).where(Period.month == month)
    return session.scalar(query.with_for_update() if lock else query)


def _record(
    session: Session, month: str, action: str, by: str | None, clock: Clock, reason: str | None
) -> None:
    session.add(PeriodEvent(month=month, action=action, by=by, at=clock.now(), reason=reason))
    session.flush()


def _ensure(session: Session, month: str) -> Period:
    period = _period(session, month, lock=True)
    if period is None:
        first, last = month_bounds(_first_day(month))
        period = Period(month=month, first_day=first, last_day=last, closed=False)
        session.add(period)
        session.flush()
    return period


def start(session: Session, month: str, *, by: str | None, clock: Clock) -> None:
    """Make `month` the books' first period: nothing may be dated before it."""
    month = parse_month(month)
    earliest = session.scalar(select(func.min(TransactionHeader.effective_date)))
    if earliest is not None and earliest < _first_day(month):
        raise LedgerError(
            f"the books already have a transaction dated {earliest.isoformat()}, before {month}; "
            f"start them at {month_of(earliest)} or earlier"
        )
    first = session.scalar(select(func.min(Period.first_day)))
    if first is not None and first <= _first_day(month):
        raise LedgerError(f"the books already start at {month_of(first)}; a start can only move earlier")
    _ensure(session, month)
    _record(session, month, "start", by, clock, None)


def close(session: Session, month: str, *, by: str | None, clock: Clock) -> None:
    """Close `month`; refused while purchases dated in it wait for approval (they are listed)."""
    month = parse_month(month)
    period = _ensure(session, month)
    if period.closed:
        last = _last_event(session, month)
        who = f" by {last.by}" if last and last.by else ""
        when = f" on {last.at:%Y-%m-%d}" if last else ""
        raise LedgerError(f"period {month} is already closed{who}{when}")
    pending = list(
        session.scalars(
            select(TransactionHeader.id)
            .where(
                TransactionHeader.status == Status.PENDING,
                TransactionHeader.effective_date.between(period.first_day, period.last_day),
            )
            .order_by(TransactionHeader.id)
        )
    )
    if pending:
        listed = ", ".join(str(i) for i in pending)
        raise LedgerError(
            f"period {month} still has purchases waiting for approval: {listed}; approve or reject them first"
        )
    period.closed = True
    _record(session, month, "close", by, clock, None)


def reopen(session: Session, month: str, *, reason: str, by: str | None, clock: Clock) -> None:
    """Reopen a closed `month`, recording why."""
    month = parse_month(month)
    why = " ".join(reason.split())
    if not why:
        raise LedgerError(f"say why period {month} is reopened (--reason TEXT); it is kept in the books")
    if len(why) > MAX_REASON:
        raise LedgerError(f"the reason is too long; at most {MAX_REASON} characters")
    period = _period(session, month, lock=True)
    if period is None or not period.closed:
        raise LedgerError(f"period {month} is not closed")
    period.closed = False
    _record(session, month, "reopen", by, clock, why)


def _last_event(session: Session, month: str) -> PeriodEvent | None:
    return session.scalar(
        select(PeriodEvent).where(PeriodEvent.month == month).order_by(PeriodEvent.id.desc()).limit(1)
    )


def list_periods(session: Session) -> list[PeriodState]:
    """Every recorded period, oldest first, with its latest event."""
    states = []
    for period in session.scalars(select(Period).order_by(Period.first_day)):
        event = _last_event(session, period.month)
        assert event is not None  # a period row is made only with its first event
        at = event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.UTC)
        states.append(PeriodState(period.month, period.closed, event.by, at, event.action, event.reason))
    return states
