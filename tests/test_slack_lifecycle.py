"""The purchase lifecycle end to end over signed HTTP: approve, reject, void, show, list, App Home,
permissions. The real Bolt app, a real PostgreSQL, the fake Slack Web API recording every call."""

import json
import logging
import threading
import time
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from db.models import JournalEntry, Status, TransactionHeader
from db.posting import Origin
from db.session import make_session_factory
from tests.helpers import item, make_purchase, post
from tests.slack import requests as slack
from tests.slack.fake_api import Answer, Call
from tests.slack.harness import ARTICLE, CHANNEL, Bot, running_bot
from tests.slack.requests import message_action

APPROVERS = "U201 U202"
MESSAGE_TS = "1700000000.000100"

# The `bot` fixture (tests/conftest.py) of every test here asks for approval from 1000 up.
pytestmark = [pytest.mark.postgres, pytest.mark.bot_settings(approval_threshold="1000", approvers=APPROVERS)]


def _origin(user: str) -> Origin:
    return Origin(source="slack", user=user, team="T1", channel=CHANNEL)


def _record(bot: Bot, user: str = "U111", *, pending: bool = False, **overrides: Any) -> int:
    """A purchase written straight to the database, as the modal would have recorded it."""
    if pending:
        overrides.setdefault("items", [item("Server", 1, "5000.00", "1500")])
    posted = post(
        make_session_factory(bot.engine), make_purchase(**overrides), _origin(user), pending=pending
    )
    return posted.id


def _header(bot: Bot, tx: int) -> TransactionHeader:
    with Session(bot.engine) as session:
        return session.get_one(TransactionHeader, tx)


def _entries(bot: Bot, tx: int) -> int:
    with Session(bot.engine) as session:
        count = session.scalar(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.transaction_id == tx)
        )
        return int(count or 0)


def _click(bot: Bot, action_id: str, tx: int | str, user: str, **kw: Any) -> slack.Reply:
    reply = bot.interact(message_action(bot.fake.response_url, action_id, str(tx), user=user, **kw))
    assert reply.status == 200, reply.body
    assert reply.seconds < 3
    return reply


def _responses(bot: Bot, count: int = 1) -> list[dict[str, Any]]:
    return [c.params for c in bot.fake.wait_for("response_url", count)]


def _dms(bot: Bot, user: str, count: int = 1) -> list[Call]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        calls = [c for c in bot.fake.calls_to("chat.postMessage") if c.params.get("channel") == user]
        if len(calls) >= count:
            return calls
        time.sleep(0.05)
    raise AssertionError(f"no DM to {user}: {[c.params for c in bot.fake.calls_to('chat.postMessage')]}")


def _submit_pending_via_modal(bot: Bot) -> int:
    view, view_id = bot.open_modal()
    bot.interact(slack.block_action(view, view_id, "add_item", "add"))
    view = bot.fake.wait_for("views.update")[0].params["view"]
    reply = bot.submit(view, view_id, ARTICLE)
    body = reply.json()
    assert body["response_action"] == "update", body
    headline = body["view"]["blocks"][0]["text"]["text"]
    assert "waits for approval" in headline
    return int(headline.split("#")[1].split("*")[0])


def _actions(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The lifecycle buttons (approve, reject, void); the documents' buttons are always there."""
    return {
        e["action_id"]: e
        for b in blocks
        if b["type"] == "actions" and b.get("block_id") != "documents_actions"
        for e in b["elements"]
    }


def _reason_view(bot: Bot, count: int = 1) -> dict[str, Any]:
    view: dict[str, Any] = bot.fake.wait_for("views.open", count)[-1].params["view"]
    return view


def _submit_reason(bot: Bot, view: dict[str, Any], reason: str | None, user: str) -> slack.Reply:
    payload = slack.view_submission(view, "VREASON1", {"reason": reason}, user=user)
    reply = bot.interact(payload)
    assert reply.status == 200
    assert reply.seconds < 3
    return reply


def test_approve_posts_updates_the_message_and_tells_the_requester(bot: Bot) -> None:
    tx = _submit_pending_via_modal(bot)
    assert _header(bot, tx).status == Status.PENDING
    assert _entries(bot, tx) == 0

    note = bot.fake.wait_for("chat.postMessage")[0].params
    assert note["channel"] == CHANNEL
    buttons = _actions(note["blocks"])
    assert buttons["approve_purchase"]["value"] == buttons["reject_purchase"]["value"] == str(tx)
    assert "void_purchase" not in buttons

    _click(bot, "approve_purchase", tx, "U201")
    update = bot.fake.wait_for("chat.update")[0].params
    assert (update["channel"], update["ts"]) == (CHANNEL, MESSAGE_TS)
    assert "Approved by <@U201>" in json.dumps(update["blocks"])
    assert set(_actions(update["blocks"])) == {"void_purchase"}

    header = _header(bot, tx)
    assert (header.status, header.decided_by, header.created_by) == (Status.POSTED, "U201", "U111")
    assert header.decided_at is not None
    assert (header.team_id, header.channel_id) == ("T1", "C123")
    assert _entries(bot, tx) == 2

    dm = _dms(bot, "U111")[0].params["text"]
    assert f"#{tx}" in dm
    assert "approved by <@U201>" in dm
    assert f"#{tx}" in json.dumps(bot.published_home("U111", "posted"))


def test_reject_asks_why_then_records_who_and_why(bot: Bot) -> None:
    tx = _record(bot, pending=True)
    _click(bot, "reject_purchase", tx, "U202")
    view = _reason_view(bot)
    assert view["callback_id"] == "reject_reason"
    assert bot.fake.calls_to("views.open")[0].params["trigger_id"].startswith("trigger-")

    empty = _submit_reason(bot, view, "   ", "U202").json()
    assert empty["response_action"] == "errors"
    assert "reason" in empty["errors"]
    assert _header(bot, tx).status == Status.PENDING

    done = _submit_reason(bot, view, "Not in the budget", "U202").json()
    assert done["response_action"] == "update"
    assert "rejected" in json.dumps(done["view"])
    header = _header(bot, tx)
    assert (header.status, header.decided_by, header.decision_note) == (
        Status.REJECTED,
        "U202",
        "Not in the budget",
    )
    assert _entries(bot, tx) == 0
    update = bot.fake.wait_for("chat.update")[0].params
    assert update["ts"] == MESSAGE_TS
    assert "Rejected by <@U202>" in json.dumps(update["blocks"])
    assert _actions(update["blocks"]) == {}
    assert "Not in the budget" in _dms(bot, "U111")[0].params["text"]

    # A rejected purchase can never be approved afterwards.
    _click(bot, "approve_purchase", tx, "U201")
    assert "already rejected by <@U202>" in _responses(bot)[0]["text"]
    assert _header(bot, tx).status == Status.REJECTED


def test_self_approval_is_refused_and_logged(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    tx = _record(bot, "U201", pending=True)
    with caplog.at_level(logging.WARNING):
        _click(bot, "approve_purchase", tx, "U201")
        told = _responses(bot)[0]
    assert "cannot approve your own" in told["text"]
    assert told["response_type"] == "ephemeral"
    assert _header(bot, tx).status == Status.PENDING
    assert any("U201" in r.getMessage() and "refused" in r.getMessage() for r in caplog.records)
    assert bot.fake.calls_to("chat.update") == []


def test_non_approver_cannot_approve_or_reject(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    tx = _record(bot, pending=True)
    with caplog.at_level(logging.WARNING):
        _click(bot, "approve_purchase", tx, "U999")
        _click(bot, "reject_purchase", tx, "U999")
        told = _responses(bot, 2)
    assert all("Only approvers" in t["text"] for t in told)
    assert bot.fake.calls_to("views.open") == []
    assert _header(bot, tx).status == Status.PENDING
    assert sum("U999" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING) >= 2


def test_concurrent_approvals_have_exactly_one_outcome(bot: Bot) -> None:
    tx = _record(bot, pending=True)
    barrier = threading.Barrier(2)

    def approve(user: str) -> None:
        barrier.wait()
        _click(bot, "approve_purchase", tx, user)

    threads = [threading.Thread(target=approve, args=(u,)) for u in ("U201", "U202")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    told = _responses(bot)[0]["text"]
    header = _header(bot, tx)
    assert header.status == Status.POSTED
    assert header.decided_by in ("U201", "U202")
    assert f"already approved by <@{header.decided_by}>" in told
    assert _entries(bot, tx) == 2
    bot.fake.wait_for("chat.update")
    bot.fake.wait_for("response_url")
    time.sleep(0.5)  # a second outcome, if any, would show up by now
    assert len(bot.fake.calls_to("chat.update")) == 1
    assert len(bot.fake.calls_to("response_url")) == 1
    assert len(_dms(bot, "U111")) == 1


def test_void_by_command_then_a_second_void_is_refused(bot: Bot) -> None:
    tx = _record(bot)
    bot.command(f"void {tx} Typed twice", user="U111")
    first = _responses(bot)[0]
    assert first["response_type"] == "ephemeral"
    assert f"#{tx} is void" in first["text"]
    header = _header(bot, tx)
    assert (header.status, header.voided_by, header.void_reason) == (Status.VOIDED, "U111", "Typed twice")
    assert header.voided_at is not None
    with Session(bot.engine) as s:
        reversal = s.scalars(select(TransactionHeader).where(TransactionHeader.reverses_id == tx)).one()
        assert (reversal.created_by, reversal.team_id, reversal.channel_id) == ("U111", "T1", "C123")
    notice = bot.fake.wait_for("chat.postMessage")[0].params
    assert notice["channel"] == CHANNEL
    assert f"voided purchase #{tx}" in notice["text"]

    bot.command(f"void {tx} again", user="U201")
    second = _responses(bot, 2)[1]["text"]
    assert "already voided by <@U111>" in second
    assert f"{header.voided_at:%Y-%m-%d}" in second
    with Session(bot.engine) as s:
        assert s.scalar(select(func.count()).where(TransactionHeader.reverses_id == tx)) == 1

    bot.command("void 12", user="U111")
    assert "reason" in _responses(bot, 3)[2]["text"]


def test_void_button_confirms_asks_why_and_updates_the_message(bot: Bot) -> None:
    view, view_id = bot.open_modal("Snacks: 3 Coffee @ 4.50")
    reply = bot.submit(view, view_id).json()
    tx = int(reply["view"]["blocks"][0]["text"]["text"].split("#")[1].split("*")[0])
    note = bot.fake.wait_for("chat.postMessage")[0].params
    button = _actions(note["blocks"])["void_purchase"]
    assert button["value"] == str(tx)
    assert button["confirm"]["confirm"]["text"] == "Void it"

    _click(bot, "void_purchase", tx, "U202", block_id="void")
    reason_view = _reason_view(bot, 2)
    assert reason_view["callback_id"] == "void_reason"
    done = _submit_reason(bot, reason_view, "Wrong vendor", "U202").json()
    assert done["response_action"] == "update"
    assert "is void" in json.dumps(done["view"])
    header = _header(bot, tx)
    assert (header.status, header.voided_by, header.void_reason) == (Status.VOIDED, "U202", "Wrong vendor")
    update = bot.fake.wait_for("chat.update")[0].params
    assert update["ts"] == MESSAGE_TS
    assert "Voided by <@U202>" in json.dumps(update["blocks"])
    assert _actions(update["blocks"]) == {}


def test_slow_void_answers_in_time_then_shows_the_outcome(bot: Bot) -> None:
    tx = _record(bot, "U111")
    _click(bot, "void_purchase", tx, "U111", block_id="void")
    reason_view = _reason_view(bot)
    blocker = bot.engine.connect()
    blocker.execute(text("LOCK TABLE journal_entries IN ACCESS EXCLUSIVE MODE"))
    try:
        waiting = _submit_reason(bot, reason_view, "Duplicate", "U111").json()
        assert "Posting the reversal" in json.dumps(waiting["view"])
    finally:
        blocker.rollback()
        blocker.close()
    update = bot.fake.wait_for("views.update")[0].params
    assert update["view_id"] == "VREASON1"
    assert "is void" in json.dumps(update["view"])
    assert _header(bot, tx).status == Status.VOIDED


def test_void_by_someone_else_is_refused(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    tx = _record(bot, "U111")
    with caplog.at_level(logging.WARNING):
        bot.command(f"void {tx} not mine", user="U333")
        told = _responses(bot)[0]["text"]
    assert "Only the person who recorded" in told
    assert _header(bot, tx).status == Status.POSTED
    assert any("U333" in r.getMessage() for r in caplog.records)


def test_pending_purchase_cannot_be_voided(bot: Bot) -> None:
    tx = _record(bot, pending=True)
    bot.command(f"void {tx} oops", user="U111")
    assert "reject it instead" in _responses(bot)[0]["text"]


def test_only_allowed_users_may_record(pg_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    with running_bot(pg_engine, purchase_allowed_users="U111 S0BUYERS") as bot:
        bot.fake.answer("usergroups.users.list", Answer(body={"ok": True, "users": ["U555"]}))
        with caplog.at_level(logging.WARNING):
            assert bot.command("", user="U999").status == 200
            told = _responses(bot)[0]
        assert "not allowed to record purchases" in told["text"]
        assert told["response_type"] == "ephemeral"
        assert any("U999" in r.getMessage() for r in caplog.records)
        assert bot.fake.calls_to("views.open") == []

        bot.command("", user="U555")  # a member of the group
        bot.fake.wait_for("views.open")
        bot.command("", user="U555")
        bot.fake.wait_for("views.open", 2)
        groups = bot.fake.calls_to("usergroups.users.list")
        assert len(groups) == 1  # cached
        assert groups[0].params["usergroup"] == "S0BUYERS"

        # A form submitted by someone not allowed (e.g. a forged view) writes nothing.
        view, view_id = bot.open_modal("Snacks: 3 Coffee @ 4.50")
        reply = bot.submit(view, view_id, user="U999").json()
        assert reply["response_action"] == "errors"
        assert "not allowed" in reply["errors"]["description"]
        assert bot.rows()["transaction_headers"] == 0
        ok = bot.submit(view, view_id).json()
        assert ok["response_action"] == "update"
        assert bot.rows()["transaction_headers"] == 1


def test_approvers_may_be_a_user_group(pg_engine: Engine) -> None:
    with running_bot(pg_engine, approval_threshold="USD 1000", approvers="S0BOSSES") as bot:
        bot.fake.answer("usergroups.users.list", Answer(body={"ok": True, "users": ["U777"]}))
        tx = _record(bot, pending=True)
        _click(bot, "approve_purchase", tx, "U777")
        bot.fake.wait_for("chat.update")
        assert _header(bot, tx).decided_by == "U777"


def test_app_home_shows_recent_purchases_approvals_and_balances(bot: Bot) -> None:
    mine = _record(bot, "U111")
    waiting = _record(bot, "U111", pending=True, description="Big server")
    assert bot.home_opened("U201").status == 200
    home = bot.published_home("U201")
    assert home["type"] == "home"
    text = json.dumps(home)
    assert "Waiting for your approval" in text
    assert f"#{waiting}" in text
    assert _actions(home["blocks"])["approve_purchase"]["value"] == str(waiting)
    assert "Account balances" in text

    assert bot.home_opened("U111").status == 200
    own = json.dumps(bot.published_home("U111"))
    assert f"#{mine}" in own
    assert "Waiting for your approval" not in own  # not an approver

    # Approving from the Home tab: no message to edit, so the channel gets a new one; Homes refresh.
    bot.fake.clear()
    payload = message_action(bot.fake.response_url, "approve_purchase", str(waiting), user="U201")
    payload["container"] = {"type": "view", "view_id": "VHOME"}
    payload.pop("response_url")
    assert bot.interact(payload).status == 200
    assert bot.fake.wait_for("chat.postMessage")[0].params is not None
    after = json.dumps(bot.published_home("U201", "Nothing waits for you"))
    assert "Office Supplies" in after or "Equipment" in after
    assert f"#{waiting}" in json.dumps(bot.published_home("U111", "posted"))


def test_show_replies_ephemerally_with_the_purchase(bot: Bot) -> None:
    tx = _record(bot, "U111", vendor="Paper & Co")
    bot.command(f"show {tx}", user="U333")
    reply = _responses(bot)[0]
    assert reply["response_type"] == "ephemeral"
    text = json.dumps(reply["blocks"])
    assert f"Purchase #{tx}" in text
    assert "A4 paper" in text
    assert "Paper &amp; Co" in text
    assert "Cr 168.90" in text
    bot.command("show 999999")
    assert "no purchase #999999" in _responses(bot, 2)[1]["text"]


def test_list_is_paged_with_a_next_page_button(bot: Bot) -> None:
    ids = [_record(bot, "U111", description=f"Purchase {n}") for n in range(23)]
    _record(bot, "U333", description="Someone else's")
    bot.command("list mine", user="U111")
    first = _responses(bot)[0]
    assert first["response_type"] == "ephemeral"
    rows = [b for b in first["blocks"] if b["type"] == "section" and "·" in b["text"]["text"]]
    assert len(rows) == 10
    assert f"#{ids[-1]}*" in rows[0]["text"]["text"]  # newest first
    next_button = _actions(first["blocks"])["list_page_next"]
    assert json.loads(next_button["value"]) == {"k": "mine", "o": 10}

    seen = [r["text"]["text"] for r in rows]
    nxt = next_button["value"]
    for page, expected in ((2, 10), (3, 3)):
        click = message_action(bot.fake.response_url, "list_page_next", nxt, user="U111")
        click["container"]["is_ephemeral"] = True
        assert bot.interact(click).status == 200
        reply = _responses(bot, page)[page - 1]
        assert reply["replace_original"] is True
        rows = [b for b in reply["blocks"] if b["type"] == "section" and "·" in b["text"]["text"]]
        assert len(rows) == expected
        seen += [r["text"]["text"] for r in rows]
        buttons = _actions(reply["blocks"])
        assert "list_page_prev" in buttons
        nxt = buttons["list_page_next"]["value"] if "list_page_next" in buttons else ""
    assert nxt == ""
    assert len(seen) == 23
    assert all("Someone else" not in s for s in seen)
    assert "of 23" in json.dumps(reply["blocks"])


def test_list_pending_and_this_month(bot: Bot) -> None:
    waiting = _record(bot, "U111", pending=True)
    posted = _record(bot, "U111")
    bot.command("list pending")
    pending_text = json.dumps(_responses(bot)[0]["blocks"])
    assert f"#{waiting}*" in pending_text
    assert f"#{posted}*" not in pending_text
    bot.command("list this month")
    month = _responses(bot, 2)[1]
    assert "this month" in month["text"]
    bot.command("list everything")
    assert "takes nothing, `mine`" in _responses(bot, 3)[2]["text"]
