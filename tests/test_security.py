"""Security over signed HTTP: the signature window, secrets kept out of logs and messages, and
SQL- or markup-looking text stored verbatim and shown escaped."""

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, selectinload

from db.models import TransactionHeader
from db.session import make_engine
from tests.helpers import ZERO_ROWS
from tests.slack import requests as slack
from tests.slack.harness import ARTICLE, Bot, running_bot
from tests.slack.hostile import count, raw_post

pytestmark = pytest.mark.postgres

ARTICLE_TEXT = "Purchase Office Equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000"
BOT_TOKEN = "xoxb-4242-SECRET-bot-token-do-not-log"
DB_PASSWORD = "db-pa55word-do-not-log"
SQL_TEXT = "'); DROP TABLE transaction_headers;--"
MARKUP_TEXT = "<!channel> <@U123> <https://evil|click> *bold* &amp;"


# --- the signature and its 5-minute window ---------------------------------------------------


def _body(bot: Bot, kind: str) -> str:
    if kind == "command":
        return slack.command_body("", response_url=bot.fake.response_url)
    view, _ = bot.open_modal(ARTICLE_TEXT)
    view_id = f"VSEC{time.time_ns()}"
    if kind == "block_actions":
        return slack.interaction_body(slack.block_action(view, view_id, "add_item", "add"))
    return slack.interaction_body(slack.view_submission(view, view_id))


FORGERIES = [
    "replayed 301 s later",
    "timestamp 360 s ahead",
    "timestamp 1 hour ahead",
    "no signature",
    "no timestamp",
    "no headers",
    "empty signature",
    "other secret",
    "body changed after signing",
    "v1 scheme",
    "timestamp not a number",
]


def _forge(bot: Bot, body: str, forgery: str) -> slack.Reply:
    now = int(time.time())
    data = body.encode()
    signed = {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": slack.signature(body, str(now))}
    if forgery == "replayed 301 s later":
        return raw_post(bot.events, data, timestamp=now - 301)
    if forgery == "timestamp 360 s ahead":
        # Well past the 5 minutes: a loaded machine may take a second or two to deliver it.
        return raw_post(bot.events, data, timestamp=now + 360)
    if forgery == "timestamp 1 hour ahead":
        return raw_post(bot.events, data, timestamp=now + 3600)
    if forgery == "no signature":
        return raw_post(bot.events, data, signed=False, headers={"X-Slack-Request-Timestamp": str(now)})
    if forgery == "no timestamp":
        return raw_post(
            bot.events, data, signed=False, headers={"X-Slack-Signature": signed["X-Slack-Signature"]}
        )
    if forgery == "no headers":
        return raw_post(bot.events, data, signed=False)
    if forgery == "empty signature":
        return raw_post(bot.events, data, signed=False, headers={**signed, "X-Slack-Signature": ""})
    if forgery == "other secret":
        return raw_post(bot.events, data, secret="not-the-signing-secret")
    if forgery == "body changed after signing":
        return raw_post(bot.events, data + b"&extra=1", signed=False, headers=signed)
    if forgery == "v1 scheme":
        return raw_post(
            bot.events,
            data,
            signed=False,
            headers={**signed, "X-Slack-Signature": "v1=" + signed["X-Slack-Signature"][3:]},
        )
    assert forgery == "timestamp not a number"
    return raw_post(
        bot.events,
        data,
        signed=False,
        headers={"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": slack.signature(body, "soon")},
    )


@pytest.mark.parametrize("kind", ["command", "block_actions", "view_submission"])
def test_every_acting_request_needs_a_fresh_valid_signature(bot: Bot, kind: str) -> None:
    body = _body(bot, kind)
    calls = len(bot.fake.calls)
    for forgery in FORGERIES:
        reply = _forge(bot, body, forgery)
        assert reply.status == 401, (forgery, reply)
        assert b"secret" not in reply.body.lower()
    time.sleep(0.2)
    assert len(bot.fake.calls) == calls, [c.method for c in bot.fake.calls[calls:]]
    assert bot.rows() == ZERO_ROWS

    # The same request signed a moment ago (inside the window) is acted on.
    reply = raw_post(bot.events, body.encode(), timestamp=int(time.time()) - 240)
    assert reply.status == 200, reply
    expected = {
        "command": "views.open",
        "block_actions": "views.update",
        "view_submission": "chat.postMessage",
    }
    bot.fake.wait_for(expected[kind])
    assert bot.rows()["transaction_headers"] == (1 if kind == "view_submission" else 0)


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_health_check_leaks_nothing(pg_url: URL) -> None:
    engine = make_engine(pg_url.set(password=DB_PASSWORD))
    dead = create_engine(
        URL.create("postgresql+psycopg", "postgres", DB_PASSWORD, "127.0.0.1", 1, "nowhere"),
        connect_args={"connect_timeout": 1},
    )
    try:
        for db, status, body in (
            (engine, 200, {"ok": True}),
            (dead, 503, {"ok": False, "database": "unreachable"}),
        ):
            with running_bot(db, slack_bot_token=BOT_TOKEN) as bot:
                code, raw, headers = _get(f"{bot.url}/healthz")
                assert (code, json.loads(raw)) == (status, body)
                text = raw.decode() + json.dumps(headers)
                for secret in (BOT_TOKEN, slack.SECRET, DB_PASSWORD, "postgres", "127.0.0.1:1", "Error"):
                    assert secret not in text
                # Nothing else answers a GET, and the answer says nothing about the app.
                code, raw, _ = _get(f"{bot.url}/slack/events")
                assert code == 404
                assert BOT_TOKEN.encode() not in raw
                assert b"Traceback" not in raw
    finally:
        engine.dispose()
        dead.dispose()


# --- secrets never logged ------------------------------------------------------------------

LOGGERS = [
    "",
    "slack_sdk",
    "slack_bolt",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "purchase_bot",
    "handlers",
    "urllib3",
]


def _record_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), record.exc_text or "", record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


def test_tokens_and_secrets_never_appear_in_logs_or_messages(
    pg_url: URL, caplog: pytest.LogCaptureFixture
) -> None:
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = (BOT_TOKEN, slack.SECRET, DB_PASSWORD)
    engine = make_engine(pg_url.set(password=DB_PASSWORD), pool_size=5)
    dead = create_engine(
        URL.create("postgresql+psycopg", "postgres", DB_PASSWORD, "127.0.0.1", 1, "nowhere"),
        connect_args={"connect_timeout": 1},
    )
    replies: list[slack.Reply] = []
    calls: list[Any] = []
    try:
        with running_bot(engine, slack_bot_token=BOT_TOKEN) as bot:
            assert DB_PASSWORD in str(bot.engine.url.render_as_string(hide_password=False))
            view, view_id = bot.open_modal()
            replies.append(count(bot.interact(slack.block_action(view, view_id, "add_item", "add"))))
            view = bot.fake.wait_for("views.update")[0].params["view"]
            replies.append(count(bot.submit(view, view_id, {**ARTICLE, "item_0_unit_price": "-1"})))
            replies.append(count(bot.submit(view, view_id, ARTICLE)))
            bot.fake.wait_for("chat.postMessage")
            bot.fake.fail("chat.postMessage", "invalid_auth")
            other, other_id = bot.open_modal(ARTICLE_TEXT)
            replies.append(count(bot.submit(other, other_id)))
            bot.fake.wait_for("chat.postMessage", 2)
            time.sleep(0.2)
            bot.fake.fail("views.open", "invalid_auth")
            replies.append(count(bot.command("")))
            bot.fake.wait_for("response_url")
            replies.append(count(slack.send(bot.events, slack.command_body(""), secret="wrong")))
            calls += bot.fake.calls
        with running_bot(dead, slack_bot_token=BOT_TOKEN) as down:
            replies.append(count(down.command("")))
            down.fake.wait_for("response_url")
            reply = count(down.submit(view, f"{view_id}-again", ARTICLE))
            replies.append(reply)
            if "Posting" in reply.body.decode():
                down.fake.wait_for("views.update")
            calls += down.fake.calls
    finally:
        engine.dispose()
        dead.dispose()

    names = {r.name for r in caplog.records}
    assert any(n.startswith("slack_sdk") for n in names), names  # DEBUG really was captured
    assert any(n.startswith("sqlalchemy") for n in names), names
    assert any(r.exc_info or r.exc_text for r in caplog.records), "the database outage left no trace"
    assert any("invalid_auth" in r.getMessage() for r in caplog.records), (
        "the failed notification left no trace"
    )
    for record in caplog.records:
        text = _record_text(record)
        for secret in secrets:
            assert secret not in text, (record.name, text[:500])
    for call in calls:
        body = json.dumps(call.params)
        for secret in secrets:
            assert secret not in body, (call.method, body[:500])
    for reply in replies:
        for secret in secrets:
            assert secret not in reply.body.decode()


# --- SQL- and markup-looking text ----------------------------------------------------------


def _mrkdwn(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield value["text"]
        for item in value.values():
            yield from _mrkdwn(item)
    elif isinstance(value, list):
        for item in value:
            yield from _mrkdwn(item)


def _plain(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("type") == "plain_text" and isinstance(value.get("text"), str):
            yield value["text"]
        for item in value.values():
            yield from _plain(item)
    elif isinstance(value, list):
        for item in value:
            yield from _plain(item)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def assert_shown_safely(message: Any, typed: str) -> None:
    """`typed` appears verbatim as plain_text, or escaped in mrkdwn; never as live markup."""
    for text in _mrkdwn(message):
        for live in ("<!channel>", "<@U123>", "<https://evil"):
            assert live not in text, text
    shown = [t for t in _plain(message) if typed in t] + [t for t in _mrkdwn(message) if _escaped(typed) in t]
    assert shown, f"{typed!r} is not shown in {json.dumps(message)[:800]}"


def test_sql_and_markup_are_stored_verbatim_and_shown_escaped(bot: Bot) -> None:
    view, view_id = bot.open_modal()
    bot.interact(slack.block_action(view, view_id, "add_item", "add"))
    view = bot.fake.wait_for("views.update")[0].params["view"]
    typed = {
        **ARTICLE,
        "description": SQL_TEXT,
        "vendor": MARKUP_TEXT,
        "item_0_name": MARKUP_TEXT,
        "item_1_name": SQL_TEXT,
    }
    reply = bot.submit(view, view_id, typed)
    body = reply.json()
    assert body["response_action"] == "update", body
    with Session(bot.engine) as session:
        header = session.scalars(
            select(TransactionHeader).options(selectinload(TransactionHeader.details))
        ).one()
        assert (header.description, header.vendor) == (SQL_TEXT, MARKUP_TEXT)
        assert [d.item for d in header.details] == [MARKUP_TEXT, SQL_TEXT]
    assert bot.rows() == {"transaction_headers": 1, "transaction_details": 2, "journal_entries": 2}

    note = bot.fake.wait_for("chat.postMessage")[0].params
    for message in (body["view"], note["blocks"]):
        assert_shown_safely(message, SQL_TEXT)
        assert_shown_safely(message, MARKUP_TEXT)
    # The fallback text is mrkdwn too: the bot's own mention of the user is its only live markup.
    assert note["text"].startswith("<@U111> ")
    assert "<!channel>" not in note["text"]
    assert "<@U123>" not in note["text"]


def test_markup_in_quick_entry_prefills_the_form_verbatim(bot: Bot) -> None:
    name = "<!channel> <@U123> *bold* & <x>"  # quick entry reads ";" and ":" as its own
    view, _ = bot.open_modal(f"{SQL_TEXT}: 2 {name} @ 5")
    blocks = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    assert blocks["description"]["element"]["initial_value"] == SQL_TEXT
    assert blocks["item_0_name"]["element"]["initial_value"] == name
    for text in _mrkdwn(view):
        assert "<!channel>" not in text


def test_markup_in_an_unreadable_quick_entry_is_not_echoed_live(bot: Bot) -> None:
    assert bot.command(f"Snacks: {MARKUP_TEXT}").status == 200
    told = bot.fake.wait_for("response_url")[0].params["text"]
    for live in ("<!channel>", "<@U123>", "<https://evil"):
        assert live not in told, told
