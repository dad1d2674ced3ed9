"""The form's type-aheads over signed HTTP: the real Bolt app, PostgreSQL, the fake Slack Web API.

Vendor is an external select answered from the vendors table, with the typed name offered back as
a new vendor. A chart of more than 100 accounts (400 here, loaded with `purchase-bot accounts load`)
turns every account field into an external select searched in the cached chart; below that, the
fields are static selects grouped by account type.
"""

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload
from typer.testing import CliRunner

from bot.cli import app as cli
from db.models import JournalEntry, TransactionHeader
from db.session import make_session_factory
from db.vendors import find_or_create
from tests.slack import requests as slack
from tests.slack.harness import Bot

pytestmark = pytest.mark.postgres

KINDS = ("asset", "liability", "equity", "income", "expense")


def big_chart() -> list[dict[str, str]]:
    """400 accounts: the default codes the form starts with, then 397 more, each with a word of its
    own (`Item123`) and words many share (the type's name, `Account`)."""
    chart = [
        {"code": "1000", "name": "Cash", "type": "asset"},
        {"code": "1010", "name": "Bank", "type": "asset"},
        {"code": "1100", "name": "Inventory", "type": "asset"},
    ]
    for n in range(397):
        kind = KINDS[n % 5]
        chart.append(
            {"code": f"{10000 + n * 7}", "name": f"{kind.title()} Account Item{n:03d}", "type": kind}
        )
    return chart


def load_chart(bot: Bot, tmp_path: Path, chart: list[dict[str, str]]) -> None:
    path = tmp_path / "chart.json"
    path.write_text(json.dumps(chart))
    url = bot.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["accounts", "load", str(path)], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert f"{len(chart)} accounts" in result.output


def blocks_of(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def suggest(bot: Bot, view: dict[str, Any], block_id: str, typed: str, user: str = "U111") -> slack.Reply:
    reply = bot.interact(slack.block_suggestion(view, block_id, typed, user=user))
    assert reply.status == 200, reply.body
    return reply


def options(
    bot: Bot, view: dict[str, Any], block_id: str, typed: str, user: str = "U111"
) -> list[dict[str, Any]]:
    answer = suggest(bot, view, block_id, typed, user).json()
    assert set(answer) == {"options"}, answer
    found: list[dict[str, Any]] = answer["options"]
    assert len(found) <= 100
    return found


def values(found: list[dict[str, Any]]) -> list[str]:
    return [o["value"] for o in found]


def labels(found: list[dict[str, Any]]) -> list[str]:
    return [o["text"]["text"] for o in found]


def header(bot: Bot) -> TransactionHeader:
    with Session(bot.engine) as session:
        found = session.scalars(
            select(TransactionHeader).options(
                selectinload(TransactionHeader.vendor_record), selectinload(TransactionHeader.entries)
            )
        ).one()
        session.expunge_all()
        return found


# --- vendors ----------------------------------------------------------------------------------


def test_vendor_options_are_known_vendors_and_the_typed_name(bot: Bot) -> None:
    with make_session_factory(bot.engine).begin() as session:
        for name in ("Dell Inc.", "Dell Technologies", "Delta Airlines", "Staples", "Big Dell Outlet"):
            find_or_create(session, name)
    view, _ = bot.open_modal()
    element = blocks_of(view)["vendor"]["element"]
    assert element["type"] == "external_select"
    assert blocks_of(view)["vendor"]["optional"] is True

    found = options(bot, view, "vendor", "del")
    assert found[0] == {
        "text": {"type": "plain_text", "text": "New vendor: del", "emoji": True},
        "value": "del",
    }
    assert set(values(found)[1:]) == {"Dell Inc.", "Dell Technologies", "Delta Airlines", "Big Dell Outlet"}
    # A name a known vendor already has (ignoring case and spaces) is not offered as new.
    found = options(bot, view, "vendor", "  DELL   inc. ")
    assert values(found) == ["Dell Inc."]
    assert labels(options(bot, view, "vendor", " Ikea Berlin ")) == ["New vendor: Ikea Berlin"]
    assert options(bot, view, "vendor", "zzz")[0]["value"] == "zzz"


def test_vendor_names_slack_or_the_ledger_cannot_take_get_no_new_option(bot: Bot) -> None:
    view, _ = bot.open_modal()
    assert options(bot, view, "vendor", "   ") == []
    assert options(bot, view, "vendor", "v" * 201) == []
    longest = options(bot, view, "vendor", "v" * 200)
    assert len(longest) == 1
    assert longest[0]["value"] == "v" * 150  # Slack's limit for an option's value
    assert len(longest[0]["text"]["text"]) <= 75


def test_the_chosen_vendor_is_posted_and_kept_across_redraws(bot: Bot) -> None:
    view, view_id = bot.open_modal("Snacks: 3 Coffee @ 4.50")
    chosen = options(bot, view, "vendor", "Corner Shop")[0]
    typed = {"vendor": chosen["value"]}
    assert bot.interact(slack.block_action(view, view_id, "add_item", "add", typed)).status == 200
    redrawn = bot.fake.wait_for("views.update")[0].params["view"]
    assert blocks_of(redrawn)["vendor"]["element"]["initial_option"]["value"] == "Corner Shop"
    reply = bot.submit(
        redrawn, view_id, {"item_1_name": "Tea", "item_1_quantity": "1", "item_1_unit_price": "2"}
    )
    assert reply.json()["response_action"] == "update", reply.json()
    assert header(bot).vendor == "Corner Shop"


def test_quick_entry_names_the_vendor(bot: Bot) -> None:
    view, view_id = bot.open_modal("Snacks: 3 Coffee @ 4.50 at Dell from Bank")
    blocks = blocks_of(view)
    assert blocks["vendor"]["element"]["initial_option"]["value"] == "Dell"
    assert blocks["payment_account"]["element"]["initial_option"]["value"] == "1010"
    assert blocks["item_0_name"]["element"]["initial_value"] == "Coffee"
    reply = bot.submit(view, view_id)
    assert reply.json()["response_action"] == "update", reply.json()
    posted = header(bot)
    assert (posted.vendor, posted.description, posted.payment_account_id is not None) == (
        "Dell",
        "Snacks",
        True,
    )


# --- accounts ---------------------------------------------------------------------------------


def test_a_small_chart_is_a_static_select_grouped_by_type(bot: Bot) -> None:
    view, _ = bot.open_modal()
    for block_id, default in (("payment_account", "1000"), ("item_0_account", "1100")):
        element = blocks_of(view)[block_id]["element"]
        assert element["type"] == "static_select"
        groups = {g["label"]["text"]: values(g["options"]) for g in element["option_groups"]}
        assert groups == {
            "Assets": ["1000", "1010", "1100", "1400", "1500"],
            "Liabilities": ["2000", "2100"],
            "Equity": ["3000"],
            "Expenses": ["6100", "6200", "6300", "6400"],
        }
        assert element["initial_option"]["value"] == default
    assert json.loads(view["private_metadata"]).get("search") is None


def test_every_account_of_a_400_account_chart_is_reachable(bot: Bot, tmp_path: Path) -> None:
    chart = big_chart()
    load_chart(bot, tmp_path, chart)
    view, _ = bot.open_modal()
    blocks = blocks_of(view)
    for block_id, default in (("payment_account", "1000"), ("item_0_account", "1100")):
        element = blocks[block_id]["element"]
        assert element["type"] == "external_select"
        assert element["initial_option"]["value"] == default
    for n, account in enumerate(chart):
        block = "payment_account" if n % 2 else "item_0_account"
        by_code = options(bot, view, block, account["code"])
        assert by_code[0] == {
            "text": {"type": "plain_text", "text": f"{account['code']} {account['name']}", "emoji": True},
            "value": account["code"],
        }
        word = account["name"].split()[-1]
        assert account["code"] in values(options(bot, view, block, word.lower()))


def test_a_short_search_of_a_big_chart_answers_fast_from_the_cache(bot: Bot, tmp_path: Path) -> None:
    load_chart(bot, tmp_path, big_chart())
    view, _ = bot.open_modal()  # loads the chart into the cache
    blocker = bot.engine.connect()
    transaction = blocker.begin()
    # Any read of the accounts table would now wait: answers prove the cache is searched.
    blocker.execute(text("LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE"))
    try:
        for typed in ("1", "10", "ex", "It", "account", "item0"):
            reply = suggest(bot, view, "item_0_account", typed)
            assert reply.seconds < 1, (typed, reply.seconds)
            found = reply.json()["options"]
            assert 0 < len(found) <= 100, typed
        two = options(bot, view, "item_0_account", "10")  # 145 codes start with 10
        assert len(two) == 100
        assert values(two)[:3] == ["1000", "10000", "10007"]  # in chart order
        assert len(options(bot, view, "payment_account", "item0")) == 100  # Item000 to Item099
        assert values(options(bot, view, "payment_account", "inc item01")) == [
            f"{10000 + n * 7}" for n in range(10, 20) if n % 5 == 3
        ]
        assert options(bot, view, "payment_account", "nothing-like-it") == []
    finally:
        transaction.rollback()
        blocker.close()


def test_a_submission_books_to_an_account_past_the_first_hundred(bot: Bot, tmp_path: Path) -> None:
    chart = big_chart()
    load_chart(bot, tmp_path, chart)
    far = chart[350]
    view, view_id = bot.open_modal("Kit: 2 Widget @ 10")
    chosen = options(bot, view, "item_0_account", far["code"])[0]
    paid = options(bot, view, "payment_account", "bank")[0]
    assert paid["value"] == "1010"
    # Add an item first: the form is redrawn from the view alone, keeping both choices.
    typed = {"item_0_account": chosen["value"], "payment_account": paid["value"]}
    payload = slack.block_action(view, view_id, "add_item", "add", typed)
    state = payload["view"]["state"]["values"]
    state["item_0_account"]["value"]["selected_option"] = chosen
    state["payment_account"]["value"]["selected_option"] = paid
    assert bot.interact(payload).status == 200
    redrawn = bot.fake.wait_for("views.update")[0].params["view"]
    blocks = blocks_of(redrawn)
    assert blocks["item_0_account"]["element"]["initial_option"] == chosen
    assert blocks["payment_account"]["element"]["initial_option"] == paid
    assert blocks["item_1_account"]["element"]["type"] == "external_select"

    reply = bot.submit(
        redrawn, view_id, {"item_1_name": "Bolt", "item_1_quantity": "1", "item_1_unit_price": "1"}
    )
    assert reply.json()["response_action"] == "update", reply.json()
    with Session(bot.engine) as session:
        booked: dict[str, int] = dict(
            session.execute(
                text(
                    "SELECT a.code, e.debit FROM journal_entries e JOIN accounts a ON a.id = e.account_id"
                    " WHERE e.debit > 0"
                )
            ).all()
        )
        assert booked == {far["code"]: 2000, "1100": 100}
        assert session.scalar(select(JournalEntry.credit).where(JournalEntry.credit > 0)) == 2100


@pytest.mark.bot_settings(purchase_allowed_users="U111")
def test_no_suggestions_for_whom_may_not_record_or_for_other_views(bot: Bot) -> None:
    with make_session_factory(bot.engine).begin() as session:
        find_or_create(session, "Dell")
    view, _ = bot.open_modal()
    assert values(options(bot, view, "vendor", "dell")) == ["Dell"]
    assert options(bot, view, "vendor", "dell", user="U999") == []
    assert options(bot, view, "payment_account", "10", user="U999") == []
    other = {**view, "callback_id": "reject_reason"}
    assert options(bot, other, "vendor", "dell") == []
    assert options(bot, view, "description", "dell") == []


def test_many_keystrokes_at_once(bot: Bot) -> None:
    """Type-ahead requests come in bursts; each is answered within Slack's 3 seconds."""
    from concurrent.futures import ThreadPoolExecutor

    view, _ = bot.open_modal()
    started = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda n: suggest(bot, view, "vendor", f"shop {n}"), range(64)))
    assert all(r.seconds < 3 for r in replies)
    assert [r.json()["options"][0]["value"] for r in replies] == [f"shop {n}" for n in range(64)]
    assert time.monotonic() - started < 30
