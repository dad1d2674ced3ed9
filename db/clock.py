"""The books' calendar: the one place that knows what time it is and what day it is in the books.

"Today" is the calendar day in BOOKS_TIMEZONE, not the server's: a team in Jakarta whose bot runs
on a UTC server dates a purchase made at 06:00 on the 1st to the 1st. Every default date, month
bound and timestamp is asked of a `Clock`; tests give it a time source they set.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = ZoneInfo("UTC")


def system_time() -> dt.datetime:
    """The real time, as an aware UTC datetime: the only call to the system clock in the product."""
    return dt.datetime.now(dt.UTC)


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of `day`'s month."""
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return first, following - dt.timedelta(days=1)


@dataclass(frozen=True)
class Clock:
    """Now (an instant, in UTC) and today (a day in the books' time zone)."""

    zone: ZoneInfo = UTC
    source: Callable[[], dt.datetime] = field(default=system_time, compare=False)

    def now(self) -> dt.datetime:
        """This instant, aware, in UTC: for timestamps (decided at, voided at, outbox leases)."""
        return self.source().astimezone(dt.UTC)

    def local_now(self) -> dt.datetime:
        """This instant on the books' wall clock."""
        return self.source().astimezone(self.zone)

    def today(self) -> dt.date:
        """The calendar day in the books' time zone."""
        return self.local_now().date()

    def this_month(self) -> tuple[dt.date, dt.date]:
        """The first and last day of the books' current month."""
        return month_bounds(self.today())
