"""The books' calendar: "today" is the day in BOOKS_TIMEZONE, whatever the server's zone or the real date.

The edges: 23:30 UTC on the last day of a month is already the 1st in Jakarta (UTC+7) and in
Kiritimati (UTC+14), and 10:30 UTC on the 1st is still the last day in Pago Pago (UTC-11).
"""

import datetime as dt
import json
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import Engine
from typer.testing import CliRunner

from bot.cli import app as cli
from db.clock import Clock, month_bounds
from db.posting import Origin
from db.reports import get_transaction
from db.session import make_session_factory
from tests.clock import SetClock
from tests.helpers import make_purchase, post
from tests.slack.harness import running_bot

MONTH_END = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
FIRST_MORNING = dt.datetime(2026, 12, 1, 10, 30, tzinfo=dt.UTC)
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "office-equipment.json"


@pytest.mark.parametrize(
    ("instant", "zone", "today"),
    [
        (MONTH_END, "UTC", dt.date(2026, 11, 30)),
        (MONTH_END, "Asia/Jakarta", dt.date(2026, 12, 1)),
        (MONTH_END, "Pacific/Kiritimati", dt.date(2026, 12, 1)),
        (MONTH_END, "Pacific/Pago_Pago", dt.date(2026, 11, 30)),
        (FIRST_MORNING, "Pacific/Kiritimati", dt.date(2026, 12, 2)),
        (FIRST_MORNING, "Pacific/Pago_Pago", dt.date(2026, 11, 30)),
        (dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC), "Asia/Jakarta", dt.date(2027, 1, 1)),
    ],
)
def test_today_is_the_day_in_the_books_time_zone(instant: dt.datetime, zone: str, today: dt.date) -> None:
    clock = SetClock().in_zone(zone)
    clock.set(instant)
    assert clock.today() == today
    assert clock.this_month() == month_bounds(today)
    assert clock.now().tzinfo is not None
    assert abs(clock.now() - instant) < dt.timedelta(minutes=1)


def test_the_clock_runs_on_from_where_it_was_set(clock: SetClock) -> None:
    clock.set(MONTH_END)
    clock.source.advance(dt.timedelta(hours=1))
    assert clock.today() == dt.date(2026, 12, 1)


def test_month_bounds_handle_every_month_length() -> None:
    assert month_bounds(dt.date(2028, 2, 10)) == (dt.date(2028, 2, 1), dt.date(2028, 2, 29))
    assert month_bounds(dt.date(2026, 12, 31)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


def test_the_real_clock_answers_in_the_books_zone() -> None:
    with time_machine.travel(MONTH_END, tick=False):
        assert Clock().today() == dt.date(2026, 11, 30)
        assert Clock(zone=SetClock().in_zone("Asia/Jakarta").zone).today() == dt.date(2026, 12, 1)


def test_jakarta_form_and_home_turn_over_at_local_midnight(pg_engine: Engine, clock: SetClock) -> None:
    """At 23:30 UTC on 30 November it is 06:30 on 1 December in Jakarta: the form is dated the 1st,
    and App Home's "this month" is December, without November's purchase."""
    clock = clock.in_zone("Asia/Jakarta")
    clock.set(MONTH_END)
    factory = make_session_factory(pg_engine)
    november = post(
        factory, make_purchase(date="2026-11-30", description="November paper"), Origin(user="U111")
    )
    december = post(
        factory, make_purchase(date="2026-12-01", description="December toner"), Origin(user="U111")
    )
    with running_bot(pg_engine, clock=clock) as bot:
        view, _ = bot.open_modal()
        date_block = next(b for b in view["blocks"] if b.get("block_id") == "date")
        assert date_block["element"]["initial_date"] == "2026-12-01"

        assert bot.home_opened("U111").status == 200
        home = json.dumps(bot.published_home("U111"))
        assert "Account balances for December 2026" in home
        assert "USD 168.90" in home  # December's purchase alone, not both

        bot.command("list this month")
        listed = json.dumps(bot.fake.wait_for("response_url")[0].params["blocks"])
        assert f"#{december.id}" in listed
        assert f"#{november.id}" not in listed


@pytest.mark.parametrize(
    ("zone", "instant", "day"),
    [
        ("Pacific/Kiritimati", MONTH_END - dt.timedelta(hours=13), "2026-12-01"),  # 10:30 UTC, 00:30 next day
        ("Pacific/Pago_Pago", FIRST_MORNING, "2026-11-30"),  # 10:30 UTC, 23:30 the day before
    ],
)
def test_cli_post_dates_the_purchase_in_the_books_zone(
    sqlite_engine: Engine, zone: str, instant: dt.datetime, day: str
) -> None:
    env = {"DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False), "BOOKS_TIMEZONE": zone}
    with time_machine.travel(instant, tick=False):
        result = CliRunner().invoke(cli, ["post", str(EXAMPLE), "--json"], env=env)
    assert result.exit_code == 0, result.output
    transaction_id = json.loads(result.stdout)["id"]
    with make_session_factory(sqlite_engine).begin() as session:
        assert get_transaction(session, transaction_id).effective_date.isoformat() == day
