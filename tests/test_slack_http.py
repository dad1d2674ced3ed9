"""End to end over signed HTTP: the real Bolt app, a real PostgreSQL, the fake Slack Web API."""

import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.orm import Session

from db.models import JournalEntry, TransactionDetail, TransactionHeader
from tests.slack import requests as slack
from tests.slack.harness import ARTICLE, CHANNEL, Bot, running_bot

ARTICLE_TEXT = "Purchase Office Equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000"


def _blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def test_purchase_opens_the_modal_in_time(bot: Bot) -> None:
    reply = bot.command("")
    assert reply.status == 200
    assert reply.seconds < 3
    call = bot.fake.wait_for("views.open")[0]
    assert call.params["trigger_id"].startswith("trigger-")
    view = call.params["view"]
    assert view["callback_id"] == "purchase_modal"
    blocks = _blocks(view)
    for block_id in ("description", "date", "vendor", "payment_account", "currency", "item_0_name"):
        assert block_id in blocks
    groups = blocks["payment_account"]["element"]["option_groups"]  # grouped by account type
    options = [o["value"] for g in groups for o in g["options"]]
    assert {"1000", "1010", "1100"} <= set(options)
    assert blocks["payment_account"]["element"]["initial_option"]["value"] == "1000"
    assert blocks["currency"]["element"]["initial_value"] == "USD"


def test_help_replies_with_usage(bot: Bot) -> None:
    assert bot.command("help").status == 200
    reply = bot.fake.wait_for("response_url")[0]
    assert "/purchase" in reply.params["text"]
    assert reply.params["response_type"] == "ephemeral"
    assert bot.fake.calls_to("views.open") == []


def test_quick_entry_prefills_the_modal(bot: Bot) -> None:
    view, _ = bot.open_modal(ARTICLE_TEXT + " from Bank")
    blocks = _blocks(view)
    assert blocks["description"]["element"]["initial_value"] == "Purchase Office Equipment"
    assert blocks["item_1_name"]["element"]["initial_value"] == "Monitor"
    assert blocks["item_1_quantity"]["element"]["initial_value"] == "4"
    assert blocks["item_0_unit_price"]["element"]["initial_value"] == "4000000"
    assert blocks["payment_account"]["element"]["initial_option"]["value"] == "1010"


def test_unreadable_quick_entry_is_explained(bot: Bot) -> None:
    assert bot.command("bought some stuff").status == 200
    reply = bot.fake.wait_for("response_url")[0]
    assert "description and a colon" in reply.params["text"]
    assert "quantity name @ unit price" in reply.params["text"]
    assert bot.fake.calls_to("views.open") == []


def test_add_and_remove_items_keep_what_was_typed(bot: Bot) -> None:
    view, view_id = bot.open_modal()
    typed = {
        "description": "Snacks",
        "item_0_name": "Coffee",
        "item_0_quantity": "3",
        "item_0_unit_price": "4.50",
    }
    assert bot.interact(slack.block_action(view, view_id, "add_item", "add", typed)).status == 200
    update = bot.fake.wait_for("views.update")[0].params
    assert update["view_id"] == view_id
    assert update["hash"] == f"hash-{view_id}"
    grown = update["view"]
    blocks = _blocks(grown)
    assert "item_1_name" in blocks
    assert blocks["item_0_name"]["element"]["initial_value"] == "Coffee"
    assert blocks["item_0_unit_price"]["element"]["initial_value"] == "4.50"
    assert blocks["description"]["element"]["initial_value"] == "Snacks"

    typed2 = {**typed, "item_1_name": "Tea", "item_1_quantity": "1", "item_1_unit_price": "2"}
    assert bot.interact(slack.block_action(grown, view_id, "remove_item", "0", typed2)).status == 200
    shrunk = bot.fake.wait_for("views.update", 2)[1].params["view"]
    blocks = _blocks(shrunk)
    assert "item_0_name" not in blocks
    assert blocks["item_1_name"]["element"]["initial_value"] == "Tea"
    assert "remove_item" not in str(blocks["item_1_header"])  # the last item cannot be removed


def test_item_cap_is_explained(bot: Bot) -> None:
    view, view_id = bot.open_modal()
    for n in range(1, 15):
        bot.interact(slack.block_action(view, view_id, "add_item", "add"))
        view = bot.fake.wait_for("views.update", n)[-1].params["view"]
    blocks = _blocks(view)
    assert "item_14_name" in blocks
    assert blocks["item_actions"]["type"] == "context"
    assert "most items" in str(blocks["item_actions"])
    assert len(view["blocks"]) <= 100


def _posted_id(reply: slack.Reply) -> int:
    body = reply.json()
    assert body["response_action"] == "update", body
    headline = body["view"]["blocks"][0]["text"]["text"]
    return int(headline.split("#")[1].split("*")[0])


def test_submission_posts_the_article_example(bot: Bot) -> None:
    view, view_id = bot.open_modal()
    bot.interact(slack.block_action(view, view_id, "add_item", "add"))
    view = bot.fake.wait_for("views.update")[0].params["view"]
    reply = bot.submit(view, view_id, ARTICLE)
    assert reply.status == 200
    assert reply.seconds < 3
    tx = _posted_id(reply)
    result = str(reply.json()["view"])
    assert "10,000,000.00" in result
    assert "Laptop" in result
    assert "Cr 10,000,000.00" in result

    with Session(bot.engine) as s:
        header = s.get_one(TransactionHeader, tx)
        assert (header.total, header.currency, header.status.value) == (1_000_000_000, "USD", "posted")
        assert (header.created_by, header.team_id, header.source) == ("U111", "T1", "slack")
        assert header.idempotency_key == f"slack:T1:{view_id}"
        details = s.scalars(select(TransactionDetail).where(TransactionDetail.transaction_id == tx)).all()
        assert [(d.item, d.quantity, d.unit_price) for d in details] == [
            ("Laptop", 2, 400_000_000),
            ("Monitor", 4, 50_000_000),
        ]
        entries = s.scalars(select(JournalEntry).where(JournalEntry.transaction_id == tx)).all()
        assert sum(e.debit for e in entries) == sum(e.credit for e in entries) == 1_000_000_000

    note = bot.fake.wait_for("chat.postMessage")[0].params
    assert note["channel"] == CHANNEL
    assert f"#{tx}" in note["text"]
    assert "<@U111>" in note["text"]


BAD_INPUTS = [
    ({"description": None}, "description", "required"),
    ({"description": "x" * 201}, "description", "at most 200"),
    ({"item_0_name": None}, "item_0_name", "required"),
    ({"item_0_quantity": "0"}, "item_0_quantity", "at least 1"),
    ({"item_0_quantity": "2.5"}, "item_0_quantity", "whole number"),
    ({"item_0_unit_price": "-5"}, "item_0_unit_price", "more than zero"),
    ({"item_0_unit_price": "0"}, "item_0_unit_price", "more than zero"),
    ({"item_0_unit_price": "1.005"}, "item_0_unit_price", "decimal places"),
    ({"item_0_unit_price": "1e3"}, "item_0_unit_price", "plain amount"),
    ({"item_0_unit_price": "NaN"}, "item_0_unit_price", "plain amount"),
    ({"item_0_unit_price": "99999999999999"}, "item_0_unit_price", "too large"),
    ({"currency": "XXQ"}, "currency", "currency code"),
    ({"currency": "JPY", "item_0_unit_price": "10.50"}, "item_0_unit_price", "JPY amounts have no decimal"),
    ({"date": "2026-13-45"}, "date", "date like"),
    ({"payment_account": None}, "payment_account", "Choose the account"),
    ({"payment_account": "1100"}, "payment_account", "must differ"),
    ({"item_0_name": "tab\there"}, "item_0_name", "control characters"),
]


@pytest.mark.parametrize(("typed", "block", "words"), BAD_INPUTS, ids=[b[1] + "-" + b[2] for b in BAD_INPUTS])
def test_bad_input_is_marked_on_its_field(bot: Bot, typed: dict[str, Any], block: str, words: str) -> None:
    view, view_id = bot.open_modal("Snacks: 3 Coffee @ 4.50")
    reply = bot.submit(view, view_id, typed)
    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors", body
    assert block in body["errors"], body["errors"]
    assert words.lower() in body["errors"][block].lower()
    assert bot.rows() == {"transaction_headers": 0, "transaction_details": 0, "journal_entries": 0}
    assert bot.fake.calls_to("chat.postMessage") == []


def test_closed_account_found_by_the_database_is_marked_on_its_field(bot: Bot) -> None:
    view, view_id = bot.open_modal("Snacks: 3 Coffee @ 4.50")
    with bot.engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET active = false WHERE code = '1100'"))
    reply = bot.submit(view, view_id)
    body = reply.json()
    assert body["response_action"] == "errors"
    assert "closed" in body["errors"]["item_0_account"]
    assert bot.rows()["transaction_headers"] == 0


def test_double_submission_posts_once(bot: Bot) -> None:
    view, view_id = bot.open_modal(ARTICLE_TEXT)
    replies: list[slack.Reply] = []

    def submit() -> None:
        replies.append(bot.submit(view, view_id))

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    again = bot.submit(view, view_id)
    ids = {_posted_id(r) for r in [*replies, again]}
    assert len(ids) == 1
    assert bot.rows() == {"transaction_headers": 1, "transaction_details": 2, "journal_entries": 2}
    assert "Already recorded" in str(again.json()["view"])
    bot.fake.wait_for("chat.postMessage")
    time.sleep(0.5)  # a second announcement, if any, would show up by now
    assert len(bot.fake.calls_to("chat.postMessage")) == 1


def test_notification_failure_keeps_the_purchase_and_tells_the_user(bot: Bot) -> None:
    bot.fake.fail("chat.postMessage", "not_in_channel")
    view, view_id = bot.open_modal(ARTICLE_TEXT)
    reply = bot.submit(view, view_id)
    tx = _posted_id(reply)
    # The receipt comes first; the warning follows as soon as Slack has refused the notification.
    update = bot.fake.wait_for("views.update")[0].params
    assert update["view_id"] == view_id
    shown = str(update["view"])
    assert f"#{tx}" in shown
    assert "not_in_channel" in shown
    assert "The purchase is saved" in shown
    with Session(bot.engine) as s:
        assert s.get_one(TransactionHeader, tx).status.value == "posted"


def test_slow_database_answers_posting_then_updates_the_view(bot: Bot) -> None:
    view, view_id = bot.open_modal(ARTICLE_TEXT)
    blocker = bot.engine.connect()
    transaction = blocker.begin()
    blocker.execute(text("LOCK TABLE transaction_headers IN ACCESS EXCLUSIVE MODE"))
    try:
        reply = bot.submit(view, view_id)
        assert reply.status == 200
        assert reply.seconds < 3
        assert reply.json()["response_action"] == "update"
        assert "Posting" in str(reply.json()["view"])
    finally:
        time.sleep(0.5)
        transaction.rollback()
        blocker.close()
    update = bot.fake.wait_for("views.update")[0].params
    assert update["view_id"] == view_id
    assert "Posted as transaction" in str(update["view"])
    assert bot.rows()["transaction_headers"] == 1


def test_database_unreachable_tells_the_user_and_writes_nothing(pg_engine: Engine) -> None:
    dead = create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 1}
    )
    with running_bot(dead) as down:
        assert down.command("").status == 200
        told = down.fake.wait_for("response_url")[0].params["text"]
        assert "could not be reached, so the form cannot open" in told
        assert down.fake.calls_to("views.open") == []

    # A modal opened while the database was up, submitted while it is down.
    with running_bot(pg_engine) as up:
        view, view_id = up.open_modal(ARTICLE_TEXT)
    with running_bot(dead) as down:
        reply = down.submit(view, view_id)
        assert reply.status == 200
        assert reply.seconds < 3
        shown = str(reply.json()["view"]) if reply.json()["response_action"] == "update" else ""
        if "Posting" in shown:
            shown = str(down.fake.wait_for("views.update")[0].params["view"])
        assert "could not be reached, so nothing was saved" in shown
    with pg_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar() == 0


@pytest.mark.parametrize("forgery", ["bad-signature", "old-timestamp", "other-secret"])
def test_forged_or_stale_requests_are_refused(bot: Bot, forgery: str) -> None:
    view, view_id = bot.open_modal(ARTICLE_TEXT)
    body = slack.interaction_body(slack.view_submission(view, view_id))
    if forgery == "bad-signature":
        reply = slack.send(bot.events, body, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    elif forgery == "old-timestamp":
        reply = slack.send(bot.events, body, timestamp=int(time.time()) - 6 * 60)
    else:
        reply = slack.send(bot.events, body, secret="not-the-secret")
    assert reply.status == 401
    command = slack.send(bot.events, slack.command_body(""), secret="not-the-secret")
    assert command.status == 401
    assert bot.rows()["transaction_headers"] == 0
    assert len(bot.fake.calls_to("views.open")) == 1


def test_health_check_and_body_limits(bot: Bot) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{bot.url}/healthz", timeout=5) as response:
        assert response.status == 200
    big = "payload=" + "x" * (1024 * 1024 + 1)
    assert slack.send(bot.events, big).status == 413
    assert slack.send(bot.events, "{}", content_type="text/plain").status == 415
    malformed = slack.send(bot.events, "payload=%7Bnot-json")
    assert malformed.status == 400
