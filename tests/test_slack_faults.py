"""Slack Web API faults from the fake server: retried where Slack's guidance says so (429 after
Retry-After, 5xx), otherwise the user is told; a posted purchase is never lost to a failed message."""

import pytest
from sqlalchemy import Engine, text

from tests.slack import requests as slack
from tests.slack.fake_api import Answer
from tests.slack.harness import CHANNEL, Bot

QUICK = "Office: 2 Laptop @ 1200, 1 Mouse @ 25.50"


def _headers(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar_one())


def _submit(bot: Bot) -> slack.Reply:
    view, view_id = bot.open_modal(QUICK)
    reply = bot.submit(view, view_id)
    assert reply.status == 200
    assert reply.seconds < 3
    assert "Posted as transaction" in str(reply.json()["view"])
    return reply


def test_rate_limited_notification_is_retried_after_retry_after(bot: Bot) -> None:
    bot.fake.answer(
        "chat.postMessage",
        Answer(status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}),
    )
    _submit(bot)
    calls = bot.fake.wait_for("chat.postMessage", 2)
    assert [c.params["channel"] for c in calls] == [CHANNEL, CHANNEL]
    assert bot.fake.calls_to("views.update") == []  # no warning: the retry delivered it
    assert _headers(bot.engine) == 1


def test_server_error_on_notification_is_retried(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", "internal_error", status=500)
    _submit(bot)
    assert len(bot.fake.wait_for("chat.postMessage", 2)) == 2
    assert bot.fake.calls_to("views.update") == []


@pytest.mark.parametrize("error", ["invalid_auth", "channel_not_found", "not_in_channel"])
def test_refused_notification_warns_the_user_and_keeps_the_purchase(bot: Bot, error: str) -> None:
    bot.fake.fail("chat.postMessage", error)
    _submit(bot)
    warning = bot.fake.wait_for("views.update")[0].params["view"]
    assert error in str(warning)
    assert "The purchase is saved" in str(warning)
    assert _headers(bot.engine) == 1
    assert len(bot.fake.calls_to("chat.postMessage")) == 1  # not retried: retrying cannot help


def test_notification_timeout_warns_and_keeps_the_purchase(bot: Bot) -> None:
    # The client waits 5 s per call; a timed-out call is not retried blindly (it may have landed).
    bot.fake.answer("chat.postMessage", Answer(delay=6))
    _submit(bot)
    warning = bot.fake.wait_for("views.update", timeout=20)[0].params["view"]
    assert "Slack did not answer" in str(warning)
    assert _headers(bot.engine) == 1


@pytest.mark.parametrize(
    ("answer", "told"),
    [
        (Answer(body={"ok": False, "error": "invalid_auth"}), "invalid_auth"),
        (Answer(body={"ok": False, "error": "expired_trigger_id"}), "expired_trigger_id"),
        (Answer(delay=6), "Slack did not answer"),
    ],
)
def test_views_open_failure_tells_the_user(bot: Bot, answer: Answer, told: str) -> None:
    bot.fake.answer("views.open", answer)
    assert bot.command(QUICK).status == 200
    reply = bot.fake.wait_for("response_url", timeout=20)[0].params
    assert told in reply["text"]
    assert reply["response_type"] == "ephemeral"


def test_views_open_rate_limit_is_retried(bot: Bot) -> None:
    bot.fake.answer(
        "views.open",
        Answer(status=429, body={"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}),
    )
    assert bot.command(QUICK).status == 200
    assert len(bot.fake.wait_for("views.open", 2)) == 2
    assert bot.fake.calls_to("response_url") == []


def test_views_update_failure_on_add_item_keeps_the_view(bot: Bot) -> None:
    view, view_id = bot.open_modal()
    bot.fake.fail("views.update", "hash_conflict")
    assert bot.interact(slack.block_action(view, view_id, "add_item", "add")).status == 200
    bot.fake.wait_for("views.update")
    # The user's newer view stands; a later submission still posts.
    typed = {"description": "x", "item_0_name": "y", "item_0_quantity": "1", "item_0_unit_price": "1"}
    reply = bot.submit(view, view_id, typed)
    assert "Posted as transaction" in str(reply.json()["view"])


def test_late_outcome_falls_back_to_a_direct_message_when_the_modal_is_gone(bot: Bot) -> None:
    view, view_id = bot.open_modal(QUICK)
    blocker = bot.engine.connect()
    blocker.execute(text("LOCK TABLE journal_entries IN ACCESS EXCLUSIVE MODE"))
    bot.fake.fail("views.update", "not_found")
    try:
        reply = bot.submit(view, view_id)
        assert "Posting" in str(reply.json()["view"])
    finally:
        blocker.rollback()
        blocker.close()
    dm = bot.fake.wait_for("chat.postMessage", 2)
    direct = [c for c in dm if c.params["channel"] == "U111"]
    assert len(direct) == 1
    assert "Purchase #" in direct[0].params["text"]
    assert _headers(bot.engine) == 1
