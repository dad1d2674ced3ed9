"""The team channel hears of every purchase exactly once, even when Slack fails or the process that
posted it dies before telling it: the outbox in db/outbox.py and its sweep in handlers/announcements.py."""

import datetime as dt
import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, select, update
from sqlalchemy.engine import URL

from db import lifecycle, outbox
from db.clock import Clock
from db.models import Announcement
from db.posting import Origin
from db.schemas import parse_purchase
from db.session import make_session_factory
from handlers.caches import ChartCache
from handlers.context import Deps
from handlers.usecases.announcements import sweep
from handlers.usecases.recording import Outcome, notify_channel, record
from tests.clock import CLOCK, SetClock
from tests.helpers import purchase_data, until
from tests.serving import free_port, serve, slack_bot_env
from tests.slack import requests as slack
from tests.slack.fake_api import Answer, FakeSlackApi
from tests.slack.harness import CHANNEL, Bot, running_bot
from tests.test_cli import as_json, fails, ok, run

QUICK = "Office: 2 Laptop @ 1200, 1 Mouse @ 25.50"


@pytest.fixture
def bot_engine(engine: Engine) -> Engine:
    """The `bot` fixture (tests/conftest.py) runs here on each database in turn."""
    return engine


@pytest.fixture
def clock() -> SetClock:
    """The bots here keep the books on CLOCK, the clock the sweepers and the checks below read."""
    return CLOCK


def _post(bot: Bot) -> int:
    view, view_id = bot.open_modal(QUICK)
    reply = bot.submit(view, view_id)
    assert reply.status == 200
    shown = str(reply.json()["view"])
    assert "Posted as transaction *#" in shown
    return int(shown.split("Posted as transaction *#")[1].split("*")[0])


def _rows(engine: Engine) -> dict[int, Announcement]:
    with make_session_factory(engine).begin() as session:
        return {a.transaction_id: a for a in session.scalars(select(Announcement))}


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite hands back the UTC times it stores without their zone."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _due_now(engine: Engine) -> None:
    """As if the hold and the pause before the next try had passed."""
    with engine.begin() as conn:
        past = CLOCK.now() - dt.timedelta(seconds=1)
        conn.execute(update(Announcement).values(due_at=past))


def _sweeper_deps(engine: Engine, hold: float = 60, clock: Clock = CLOCK) -> Deps:
    sessions = make_session_factory(engine)
    return Deps(
        sessions=sessions,
        chart=ChartCache(sessions),
        executor=ThreadPoolExecutor(1),
        channel=CHANNEL,
        clock=clock,
        announce_hold=dt.timedelta(seconds=hold),
    )


def _client(fake: FakeSlackApi) -> WebClient:
    return WebClient(token="xoxb-sweeper", base_url=fake.base_url, timeout=5)


def test_an_announcement_that_reached_slack_is_marked_sent(bot: Bot) -> None:
    tx = _post(bot)
    call = bot.fake.wait_for("chat.postMessage")[0]
    assert f"#{tx}" in call.params["text"]
    until(lambda: _rows(bot.engine)[tx].sent_at is not None)
    row = _rows(bot.engine)[tx]
    assert row.message_ref is not None
    assert row.attempts == 1
    assert row.given_up_at is None
    # Nothing is left for a sweep to send.
    _due_now(bot.engine)
    assert sweep(_sweeper_deps(bot.engine), _client(bot.fake)) == 0
    assert len(bot.fake.calls_to("chat.postMessage")) == 1


def test_an_announcement_slack_failed_is_sent_by_a_later_sweep(bot: Bot) -> None:
    # The client retries a 500 once; both fail, so the purchase is saved and the message waits.
    bot.fake.fail("chat.postMessage", "internal_error", status=500, times=2)
    tx = _post(bot)
    warning = str(bot.fake.wait_for("views.update")[0].params["view"])
    assert "The purchase is saved; the team channel will be told when Slack answers" in warning
    row = _rows(bot.engine)[tx]
    assert row.sent_at is None
    assert row.last_error == "internal_error"
    assert _utc(row.due_at) > CLOCK.now() + dt.timedelta(seconds=20)  # not hammered at once

    deps = _sweeper_deps(bot.engine)
    assert sweep(deps, _client(bot.fake)) == 0  # not due yet
    _due_now(bot.engine)
    assert sweep(deps, _client(bot.fake)) == 1
    calls = bot.fake.calls_to("chat.postMessage")
    assert len(calls) == 3  # two refused, one delivered
    assert f"#{tx}" in calls[-1].params["text"]
    assert calls[-1].params["channel"] == CHANNEL
    row = _rows(bot.engine)[tx]
    assert row.sent_at is not None
    assert row.attempts == 2
    _due_now(bot.engine)
    assert sweep(deps, _client(bot.fake)) == 0  # sent once, never again


def test_a_late_announcement_shows_the_purchase_as_it_stands_now(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", "internal_error", status=500, times=2)
    tx = _post(bot)
    bot.fake.wait_for("views.update")
    with make_session_factory(bot.engine).begin() as session:
        lifecycle.void(session, tx, reason="bought twice", origin=Origin("slack", user="U999"), clock=CLOCK)
    _due_now(bot.engine)
    assert sweep(_sweeper_deps(bot.engine), _client(bot.fake)) == 1
    message = bot.fake.calls_to("chat.postMessage")[-1].params
    assert f"#{tx}" in message["text"]
    assert "Voided by <@U999>" in str(message["blocks"])
    assert "bought twice" in str(message["blocks"])
    assert not [
        b
        for b in message["blocks"]
        if b.get("type") == "actions" and b.get("block_id") != "documents_actions"
    ]  # nothing left to click


def test_a_timed_out_announcement_is_tried_again(bot: Bot) -> None:
    bot.fake.answer("chat.postMessage", Answer(delay=6))  # the client gives up after 5 s
    tx = _post(bot)
    warning = str(bot.fake.wait_for("views.update", timeout=20)[0].params["view"])
    assert "will be told when Slack answers (Slack did not answer)" in warning
    _due_now(bot.engine)
    assert sweep(_sweeper_deps(bot.engine), _client(bot.fake)) == 1
    assert _rows(bot.engine)[tx].sent_at is not None


def test_an_announcement_slack_refused_for_good_is_given_up(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", "channel_not_found")
    tx = _post(bot)
    warning = str(bot.fake.wait_for("views.update")[0].params["view"])
    assert "could not be told (channel_not_found)" in warning
    row = _rows(bot.engine)[tx]
    assert row.given_up_at is not None
    assert row.sent_at is None
    _due_now(bot.engine)
    assert sweep(_sweeper_deps(bot.engine), _client(bot.fake)) == 0
    assert len(bot.fake.calls_to("chat.postMessage")) == 1


def test_concurrent_sweeps_send_each_announcement_once(engine: Engine) -> None:
    with running_bot(engine) as bot:
        bot.fake.fail("chat.postMessage", "service_unavailable", status=503, times=16)
        posted = [_post(bot) for _ in range(8)]
        bot.fake.wait_for("views.update", 8)  # each purchase's warning: it will be told later
        _due_now(engine)
        before = len(bot.fake.calls_to("chat.postMessage"))
        deps = _sweeper_deps(engine)
        with ThreadPoolExecutor(4) as pool:
            taken = sum(pool.map(lambda _: sweep(deps, _client(bot.fake)), range(4)))
        assert taken == 8
        sent = [c.params["text"] for c in bot.fake.calls_to("chat.postMessage")[before:]]
        assert sorted(sent) == sorted({t for t in sent})  # no transaction twice
        assert len(sent) == 8
        assert all(row.sent_at is not None for row in _rows(engine).values())
        assert sorted(_rows(engine)) == sorted(posted)


def test_an_announcement_outlives_the_process_that_posted_it(
    pg_url: URL, pg_engine: Engine, tmp_path: Path
) -> None:
    fake = FakeSlackApi().start()
    env = slack_bot_env(
        pg_url.render_as_string(hide_password=False),
        fake,
        ANNOUNCE_HOLD_SECONDS="2",
        ANNOUNCE_SWEEP_SECONDS="0.5",
    )
    try:
        events = f"http://127.0.0.1:{env['PORT']}/slack/events"
        with serve(env, tmp_path / "first.log") as process:
            slack.send(events, slack.command_body(QUICK, response_url=fake.response_url))
            view = fake.wait_for("views.open")[0].params["view"]
            # Slack hangs on the channel message; the process dies while waiting for it.
            fake.answer("chat.postMessage", Answer(delay=30))
            reply = slack.send(events, slack.interaction_body(slack.view_submission(view, "VOUTBOX1")))
            assert "Posted as transaction" in str(reply.json()["view"])
            fake.wait_for_arrival("chat.postMessage")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        (tx,) = _rows(pg_engine)
        assert _rows(pg_engine)[tx].sent_at is None

        env["PORT"] = str(free_port())
        with serve(env, tmp_path / "second.log"):
            # A fresh process (any process) takes it over once the dead one's hold has lapsed.
            call = fake.wait_for("chat.postMessage", timeout=20)[0]
            until(lambda: _rows(pg_engine)[tx].sent_at is not None)
        assert f"#{tx}" in call.params["text"]
        assert call.params["channel"] == CHANNEL
    finally:
        fake.stop()


def _record(deps: Deps, key: str) -> Outcome:
    """A purchase recorded as a submission records it (its announcement held), not yet announced."""
    outcome = record(
        deps, parse_purchase(purchase_data(idempotency_key=key), today=CLOCK.today()), Origin("slack", "U1")
    )
    assert outcome.receipt is not None
    return outcome


def test_a_poster_late_for_its_hold_leaves_the_message_to_the_sweep(
    engine: Engine, fake_slack: FakeSlackApi
) -> None:
    """However long the poster took to get round to it, the channel hears of the purchase once."""
    deps = _sweeper_deps(engine, hold=0.2)
    outcome = _record(deps, "late-poster")
    time.sleep(0.25)  # the hold has run out: a sweep may have taken the message over
    assert sweep(deps, _client(fake_slack)) == 1
    assert notify_channel(deps, _client(fake_slack), outcome, "U1") is None
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert outcome.receipt is not None
    assert _rows(engine)[outcome.receipt.id].sent_at is not None


def test_a_sweep_that_fails_unexpectedly_tries_again_later(
    engine: Engine, fake_slack: FakeSlackApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps = _sweeper_deps(engine, hold=0.01)
    receipt = _record(deps, "sweep-fails").receipt
    assert receipt is not None
    time.sleep(0.02)

    def broken(*_: object) -> None:
        raise RuntimeError("not today")

    monkeypatch.setattr("handlers.usecases.announcements.load_state", broken)
    assert sweep(deps, _client(fake_slack)) == 1
    row = _rows(engine)[receipt.id]
    assert row.sent_at is None
    assert row.given_up_at is None
    assert row.last_error == "RuntimeError: not today"
    assert _utc(row.due_at) > CLOCK.now() + dt.timedelta(seconds=20)  # with the backoff
    monkeypatch.undo()
    _due_now(engine)
    assert sweep(deps, _client(fake_slack)) == 1
    assert _rows(engine)[receipt.id].sent_at is not None
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_an_announcement_out_of_attempts_is_given_up(engine: Engine, fake_slack: FakeSlackApi) -> None:
    deps = _sweeper_deps(engine, hold=0.01)
    receipt = _record(deps, "worn-out").receipt
    assert receipt is not None
    with engine.begin() as conn:
        conn.execute(update(Announcement).values(attempts=outbox.ATTEMPTS))
    _due_now(engine)
    assert sweep(deps, _client(fake_slack)) == 0
    assert fake_slack.calls_to("chat.postMessage") == []
    row = _rows(engine)[receipt.id]
    assert row.given_up_at is not None
    assert row.last_error == "no answer after every attempt"


def test_a_void_by_command_edits_the_announced_message_in_place(bot: Bot) -> None:
    tx = _post(bot)
    until(lambda: _rows(bot.engine)[tx].sent_at is not None)
    announced = _rows(bot.engine)[tx]
    assert announced.channel_id == CHANNEL
    assert bot.command(f"void {tx} Typed twice").status == 200
    edit = bot.fake.wait_for("chat.update")[0].params
    assert (edit["channel"], edit["ts"]) == (CHANNEL, announced.message_ref)
    assert "Voided by <@U111>" in str(edit["blocks"])
    assert not [
        b for b in edit["blocks"] if b.get("type") == "actions" and b.get("block_id") != "documents_actions"
    ]  # the Void button is gone
    notices = [c.params["text"] for c in bot.fake.wait_for("chat.postMessage", 2)]
    time.sleep(0.5)  # anything more (a second copy of the purchase) would show by now
    assert (
        len(bot.fake.calls_to("chat.postMessage")) == 2
    )  # the announcement, then the void notice; no second copy of the purchase
    assert f"voided purchase #{tx}" in notices[1]


def test_a_void_before_the_announcement_leaves_the_whole_story_to_it(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", "internal_error", status=500, times=2)
    tx = _post(bot)
    bot.fake.wait_for("views.update")  # the warning: the channel will be told later
    assert bot.command(f"void {tx} Typed twice").status == 200
    bot.fake.wait_for("chat.postMessage", 3)  # two refused announcement tries, then the void notice
    assert bot.fake.calls_to("chat.update") == []  # nothing to edit yet, and nothing posted twice
    _due_now(bot.engine)
    assert sweep(_sweeper_deps(bot.engine), _client(bot.fake)) == 1
    late = bot.fake.calls_to("chat.postMessage")[-1].params
    assert f"#{tx}" in late["text"]
    assert "Voided by <@U111>" in str(late["blocks"])


def test_undelivered_announcements_are_listed_and_resent_from_the_cli(bot: Bot, tmp_path: Path) -> None:
    bot.fake.fail("chat.postMessage", "not_in_channel")
    tx = _post(bot)
    until(lambda: _rows(bot.engine)[tx].given_up_at is not None)
    url = bot.engine.url

    (listed,) = as_json(run(tmp_path, "announcements", "list", "--json", url=url))
    assert (listed["transaction_id"], listed["state"], listed["last_error"]) == (
        tx,
        "given up",
        "not_in_channel",
    )
    assert "given up" in ok(run(tmp_path, "announcements", "list", url=url))
    assert "Transaction 999 has no given-up announcement" in fails(
        run(tmp_path, "announcements", "resend", "999", url=url)
    )
    assert _rows(bot.engine)[tx].given_up_at is not None  # a refused resend changes nothing

    # Someone invites the bot to the channel, then:
    assert "1 announcement(s) queued" in ok(run(tmp_path, "announcements", "resend", str(tx), url=url))
    # The CLI ran on the system clock; so does the running bot that sweeps the row it queued.
    assert sweep(_sweeper_deps(bot.engine, clock=Clock()), _client(bot.fake)) == 1
    assert _rows(bot.engine)[tx].sent_at is not None
    assert f"#{tx}" in bot.fake.calls_to("chat.postMessage")[-1].params["text"]
    assert "Every announcement has been delivered." in ok(run(tmp_path, "announcements", "list", url=url))
