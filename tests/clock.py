"""A books' clock for the tests: it starts at an instant the test chose and runs on from there.

Time keeps moving (holds lapse, backoffs pass), but the day is the one the test set, never the
real one, so no test changes its outcome with the date it runs on.
"""

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from db.clock import Clock

# The books' day most tests live on, at noon UTC: the same calendar day in every zone from UTC-11 to UTC+11.
BOOKS_DAY = dt.date(2026, 11, 20)
START = dt.datetime.combine(BOOKS_DAY, dt.time(12), tzinfo=dt.UTC)


class SetTime:
    """A time source set to an instant, running on with the monotonic clock from that moment."""

    def __init__(self, start: dt.datetime = START) -> None:
        self._lock = threading.Lock()
        self.set(start)

    def set(self, instant: dt.datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("set the clock to an aware datetime")
        with self._lock:
            self._at, self._since = instant, time.monotonic()

    def advance(self, delta: dt.timedelta) -> None:
        with self._lock:
            self._at += delta

    def __call__(self) -> dt.datetime:
        with self._lock:
            return self._at + dt.timedelta(seconds=time.monotonic() - self._since)


@dataclass(frozen=True)
class SetClock(Clock):
    """The books' clock with a time source the test sets."""

    source: SetTime = field(default_factory=SetTime, compare=False)

    def set(self, instant: dt.datetime) -> None:
        self.source.set(instant)

    def in_zone(self, zone: str) -> "SetClock":
        """The same time, with the books kept in `zone`."""
        return SetClock(zone=ZoneInfo(zone), source=self.source)


# For tests that need a clock but no say over it: the books' day is BOOKS_DAY.
CLOCK = SetClock()
