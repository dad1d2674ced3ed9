"""In Slack, a date the books refuse is marked on the form's date field, and nothing is saved."""

from db import periods
from db.posting import Origin, post_purchase
from db.reports import count_rows
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import ZERO_ROWS, make_purchase
from tests.slack.harness import ARTICLE, Bot


def _date_error(bot: Bot, date: str) -> str:
    view, view_id = bot.open_modal()
    reply = bot.submit(view, view_id, {**ARTICLE, "date": date})
    body = reply.json()
    assert body["response_action"] == "errors", body
    assert set(body["errors"]) == {"date"}, body["errors"]
    return str(body["errors"]["date"])


def test_a_date_in_a_closed_period_or_too_far_ahead_is_marked_on_the_date(bot: Bot) -> None:
    with make_session_factory(bot.engine).begin() as session:
        periods.close(session, "2026-10", by="U_ACCOUNTANT", clock=CLOCK)
    assert _date_error(bot, "2026-10-30").startswith("Period 2026-10 is closed, so nothing dated 2026-10-30")
    assert _date_error(bot, "2027-06-01") == (
        "2027-06-01 is more than 31 days ahead of today; the latest date is 2026-12-21."
    )
    with make_session_factory(bot.engine).begin() as session:
        assert {k: v for k, v in count_rows(session).items() if k in ZERO_ROWS} == ZERO_ROWS


def test_a_void_in_a_closed_period_says_where_its_reversal_went(bot: Bot) -> None:
    factory = make_session_factory(bot.engine)
    with factory.begin() as session:
        tx = post_purchase(session, make_purchase(), Origin(source="slack", user="U111")).id
        periods.close(session, "2026-11", by="U_ACCOUNTANT", clock=CLOCK)
    bot.command(f"void {tx} Typed twice", user="U111")
    told = bot.fake.wait_for("response_url")[0].params["text"]
    assert f"Transaction {tx} is dated in closed period 2026-11; its reversal" in told
    assert "is dated 2026-12-01, in the first open period." in told
