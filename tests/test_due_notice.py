"""The daily notice of bills to pay: one message a day in the team channel, however many processes
sweep, listing overdue bills and those due within BILLS_DUE_NOTICE_DAYS with "Record payment"."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine

from db.session import make_session_factory
from handlers.caches import ChartCache
from handlers.context import Deps
from handlers.usecases.due_notice import send_due_notice
from tests.clock import SetClock, SetTime
from tests.helpers import item, make_purchase, post
from tests.slack.fake_api import FakeSlackApi
from tests.slack.harness import CHANNEL

JAKARTA = ZoneInfo("Asia/Jakarta")


def _deps(engine: Engine, clock: SetClock, hold: float = 60) -> Deps:
    sessions = make_session_factory(engine)
    return Deps(
        sessions=sessions,
        chart=ChartCache(sessions),
        executor=ThreadPoolExecutor(1),
        channel=CHANNEL,
        clock=clock,
        announce_hold=dt.timedelta(seconds=hold),
        bills_due_notice_days=3,
    )


def _client(fake: FakeSlackApi) -> WebClient:
    return WebClient(token="xoxb-notice", base_url=fake.base_url, timeout=5)


def _bills(engine: Engine) -> dict[str, int]:
    factory = make_session_factory(engine)
    due = {"overdue": "2026-11-18", "soon": "2026-11-23", "later": "2026-11-24"}
    return {
        name: post(
            factory,
            make_purchase(
                vendor=f"Vendor {name}",
                date="2026-11-01",
                due_date=day,
                items=[item("Thing", 1, "10.00", "6100")],
                payment_account="2000",
            ),
        ).id
        for name, day in due.items()
    }


def _at(local: dt.datetime) -> SetClock:
    """The books' clock in Jakarta at `local`."""
    return SetClock(zone=JAKARTA, source=SetTime(local.astimezone(dt.UTC)))


def test_the_notice_lists_bills_due_soon_and_overdue_once_a_day(
    engine: Engine, fake_slack: FakeSlackApi
) -> None:
    ids = _bills(engine)
    early = _at(dt.datetime(2026, 11, 20, 8, 59, tzinfo=JAKARTA))
    assert not send_due_notice(_deps(engine, early), _client(fake_slack))  # before 09:00 in the books' zone
    clock = _at(dt.datetime(2026, 11, 20, 9, 1, tzinfo=JAKARTA))
    assert send_due_notice(_deps(engine, clock), _client(fake_slack))
    assert not send_due_notice(_deps(engine, clock), _client(fake_slack))  # once a day
    (call,) = fake_slack.calls_to("chat.postMessage")
    assert call.params["channel"] == CHANNEL
    assert call.params["text"].endswith("Bills to pay: 1 overdue, 1 due within 3 days")
    blocks = {b["block_id"]: b for b in call.params["blocks"]}
    assert set(blocks) == {"due_notice", f"bill_{ids['overdue']}", f"bill_{ids['soon']}"}
    overdue = blocks[f"bill_{ids['overdue']}"]
    assert "2 days overdue" in overdue["text"]["text"]
    assert overdue["accessory"]["action_id"] == "pay_bill"
    assert overdue["accessory"]["value"] == str(ids["overdue"])
    # The next day (in Jakarta) has its own notice.
    clock.set(dt.datetime(2026, 11, 21, 9, 0, tzinfo=JAKARTA))
    assert send_due_notice(_deps(engine, clock), _client(fake_slack))


@pytest.mark.postgres
def test_several_processes_send_the_days_notice_once(pg_engine: Engine, fake_slack: FakeSlackApi) -> None:
    _bills(pg_engine)
    clock = _at(dt.datetime(2026, 11, 20, 10, 0, tzinfo=JAKARTA))
    with ThreadPoolExecutor(8) as pool:
        sent = list(
            pool.map(lambda _: send_due_notice(_deps(pg_engine, clock), _client(fake_slack)), range(8))
        )
    assert sent.count(True) == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_a_notice_slack_failed_is_sent_by_a_later_sweep_once_its_hold_lapses(
    engine: Engine, fake_slack: FakeSlackApi
) -> None:
    _bills(engine)
    clock = _at(dt.datetime(2026, 11, 20, 10, 0, tzinfo=JAKARTA))
    fake_slack.fail("chat.postMessage", "service_unavailable", status=503, times=1)
    deps = _deps(engine, clock, hold=60)
    client = WebClient(token="xoxb-notice", base_url=fake_slack.base_url, timeout=5, retry_handlers=[])
    assert not send_due_notice(deps, client)
    assert not send_due_notice(deps, client)  # still held by the sender that failed
    clock.source.advance(dt.timedelta(seconds=61))
    assert send_due_notice(deps, client)


def test_no_bills_no_message(engine: Engine, fake_slack: FakeSlackApi) -> None:
    assert not send_due_notice(
        _deps(engine, _at(dt.datetime(2026, 11, 20, 10, 0, tzinfo=JAKARTA))), _client(fake_slack)
    )
    assert fake_slack.calls_to("chat.postMessage") == []
