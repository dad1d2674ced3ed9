"""Paying bills over signed HTTP: the "Record payment" button and its form, `/purchase pay`,
errors on the form's fields, double submissions, and PAYERS. Real Bolt app, real PostgreSQL."""

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import TransactionHeader
from db.posting import Origin
from db.session import make_session_factory
from tests.helpers import item, make_purchase, post
from tests.slack import requests as slack
from tests.slack.harness import ARTICLE, CHANNEL, Bot
from tests.slack.requests import message_action

pytestmark = [pytest.mark.postgres, pytest.mark.bot_settings(approvers="U201", payers="U201 U202")]


def _bill(bot: Bot) -> int:
    purchase = make_purchase(
        vendor="Dell", items=[item("Laptop", 2, "150.00", "1500")], payment_account="2000"
    )
    return post(
        make_session_factory(bot.engine), purchase, Origin(source="slack", user="U111", channel=CHANNEL)
    ).id


def _payments(bot: Bot, bill: int) -> list[int]:
    with Session(bot.engine) as session:
        return list(session.scalars(select(TransactionHeader.total).where(TransactionHeader.pays_id == bill)))


def _paid(bot: Bot, bill: int) -> int:
    with Session(bot.engine) as session:
        return session.get_one(TransactionHeader, bill).paid


def _click_pay(bot: Bot, bill: int, user: str = "U201") -> dict[str, Any]:
    before = len(bot.fake.calls_to("views.open"))
    reply = bot.interact(
        message_action(bot.fake.response_url, "pay_bill", str(bill), user=user, block_id="pay")
    )
    assert reply.status == 200
    assert reply.seconds < 3
    view: dict[str, Any] = bot.fake.wait_for("views.open", before + 1)[-1].params["view"]
    return view


def test_record_payment_button_opens_the_form_and_pays_in_parts(bot: Bot) -> None:
    bill = _bill(bot)
    view = _click_pay(bot, bill)
    assert view["callback_id"] == "pay_bill_form"
    amount = next(b for b in view["blocks"] if b.get("block_id") == "amount")
    assert amount["element"]["initial_value"] == "300.00"  # what is still open
    options = next(b for b in view["blocks"] if b.get("block_id") == "from_account")["element"]["options"]
    assert {o["value"] for o in options} >= {"1000", "1010"}
    assert "2000" not in {o["value"] for o in options}  # only assets pay

    reply = bot.interact(
        slack.view_submission(view, "VPAY1", {"amount": "100", "from_account": "1010"}, user="U201")
    )
    body = reply.json()
    assert body["response_action"] == "update", body
    assert "Recorded payment" in body["view"]["blocks"][0]["text"]["text"]
    assert "partly paid, USD 200.00 open" in body["view"]["blocks"][0]["text"]["text"]
    # Submitted twice (a double click): paid once.
    again = bot.interact(
        slack.view_submission(view, "VPAY1", {"amount": "100", "from_account": "1010"}, user="U201")
    )
    assert "Already recorded as payment" in again.json()["view"]["blocks"][0]["text"]["text"]
    assert _payments(bot, bill) == [10000]
    # The clicked message shows the bill's new state.
    updated = bot.fake.wait_for("chat.update")[-1].params
    assert updated["ts"] == "1700000000.000100"
    assert "partly paid" in str(updated["blocks"])


def test_bad_fields_are_marked_on_the_form_and_nothing_is_saved(bot: Bot) -> None:
    bill = _bill(bot)
    view = _click_pay(bot, bill)
    cases = {
        "amount": ({"amount": "300.01", "from_account": "1010"}, "is more than bill"),
        "date": ({"from_account": "1010", "date": "2026-11-01"}, "must not be before the bill's date"),
    }
    for n, (block, (typed, message)) in enumerate(cases.items()):
        body = bot.interact(slack.view_submission(view, f"VBAD{n}", typed, user="U201")).json()
        assert body["response_action"] == "errors", body
        assert message in body["errors"][block]
    body = bot.interact(
        slack.view_submission(view, "VBAD9", {"amount": "0", "from_account": None}, user="U201")
    ).json()
    assert body["errors"] == {"from_account": "Choose the account the bill is paid from."}
    assert _payments(bot, bill) == []


def test_pay_command_pays_what_is_open_and_refuses_what_is_not_a_bill(bot: Bot) -> None:
    bill = _bill(bot)
    bot.command(f"pay {bill} 120.50 from bank", user="U202")
    assert "partly paid, USD 179.50 open" in bot.fake.wait_for("response_url")[-1].params["text"]
    bot.command(f"pay {bill} from 1000 on 2026-11-20", user="U202")
    assert "paid, USD 0.00 open" in bot.fake.wait_for("response_url", 2)[-1].params["text"]
    assert _paid(bot, bill) == 30000
    bot.command(f"pay {bill} from 1000", user="U202")
    assert f"Bill {bill} is already paid in full" in bot.fake.wait_for("response_url", 3)[-1].params["text"]
    cash = post(make_session_factory(bot.engine), make_purchase(), Origin(source="slack", user="U111")).id
    bot.command(f"pay {cash} from 1000", user="U202")
    assert f"Transaction {cash} is not a bill" in bot.fake.wait_for("response_url", 4)[-1].params["text"]
    bot.command("pay twelve", user="U202")
    assert "Usage: `/purchase pay ID" in bot.fake.wait_for("response_url", 5)[-1].params["text"]


def test_only_payers_may_pay(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bill = _bill(bot)
    bot.command(f"pay {bill} from 1000", user="U111")
    assert "Only the bot's PAYERS" in bot.fake.wait_for("response_url")[-1].params["text"]
    reply = bot.interact(
        message_action(bot.fake.response_url, "pay_bill", str(bill), user="U111", block_id="pay")
    )
    assert reply.status == 200
    assert "Only the bot's PAYERS" in bot.fake.wait_for("response_url", 2)[-1].params["text"]
    assert _payments(bot, bill) == []
    assert f"refused payment of bill {bill} for user U111" in caplog.text


def test_app_home_shows_bills_due_within_a_week_and_overdue(bot: Bot) -> None:
    factory = make_session_factory(bot.engine)
    due = {"overdue": "2026-11-19", "week": "2026-11-27", "later": "2026-11-28"}
    ids = {
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
    assert bot.home_opened("U201").status == 200
    home = bot.published_home("U201", "Bills to pay")
    blocks = {b.get("block_id"): b for b in home["blocks"]}
    assert f"bill_{ids['overdue']}" in blocks
    assert "1 day overdue" in blocks[f"bill_{ids['overdue']}"]["text"]["text"]
    assert "due in 7 days" in blocks[f"bill_{ids['week']}"]["text"]["text"]
    assert f"bill_{ids['later']}" not in blocks
    assert blocks[f"bill_{ids['week']}"]["accessory"]["action_id"] == "pay_bill"


def _blocks(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if "block_id" in b}


def _choose_paid_from(
    bot: Bot, view: dict[str, Any], view_id: str, code: str, typed: dict[str, Any]
) -> dict[str, Any]:
    """Choose "Paid from" (it dispatches at once); the form Slack shows after the bot redraws it."""
    before = len(bot.fake.calls_to("views.update"))
    payload = slack.block_action(view, view_id, "value", code, {**typed, "payment_account": code})
    payload["actions"][0].update(
        block_id="payment_account", type="static_select", selected_option={"value": code}
    )
    assert bot.interact(payload).status == 200
    redrawn: dict[str, Any] = bot.fake.wait_for("views.update", before + 1)[-1].params["view"]
    return redrawn


def test_the_form_shows_a_bills_fields_for_a_payable_and_records_the_bill(bot: Bot) -> None:
    typed = {
        "description": "Laptops",
        "vendor": "Dell",
        **{k: v for k, v in ARTICLE.items() if k.startswith("item_0")},
    }
    typed["item_0_account"] = "1500"
    view, view_id = bot.open_modal()
    assert "due_date" not in _blocks(view)
    assert _blocks(view)["payment_account"]["dispatch_action"] is True
    view = _choose_paid_from(bot, view, view_id, "2000", typed)
    assert {"due_date", "invoice_number"} <= set(_blocks(view))
    assert "due_date" not in _blocks(_choose_paid_from(bot, view, view_id, "1000", typed))

    early = bot.submit(view, view_id, {**typed, "payment_account": "2000", "due_date": "2026-11-01"}).json()
    assert early["response_action"] == "errors"
    assert early["errors"] == {"due_date": "Must not be before the bill's date, 2026-11-20."}
    body = bot.submit(
        view,
        view_id,
        {**typed, "payment_account": "2000", "due_date": "2026-12-31", "invoice_number": "INV-9"},
    ).json()
    assert body["response_action"] == "update", body
    text = json.dumps(body["view"])
    assert "Due 2026-12-31, invoice INV-9: open, USD 8,000,000.00 open" in text
    assert "pay_bill" in text  # Record payment, on the receipt
    second, second_id = bot.open_modal()
    second = _choose_paid_from(bot, second, second_id, "2000", typed)
    again = bot.submit(
        second, second_id, {**typed, "payment_account": "2000", "invoice_number": "INV-9"}
    ).json()
    assert again["response_action"] == "errors"
    assert "INV-9 from Dell is already recorded as transaction" in again["errors"]["invoice_number"]
    nobody = bot.submit(second, second_id, {**typed, "vendor": None, "payment_account": "2000"}).json()
    assert nobody["errors"]["vendor"].startswith("Is required for a bill")


def test_show_and_list_show_a_bills_state_and_voiding_a_payment_reopens_it(bot: Bot) -> None:
    bill = _bill(bot)
    bot.command(f"pay {bill} 100 from 1010", user="U201")
    paid = bot.fake.wait_for("response_url")[-1].params["text"]
    payment = int(paid.split("payment #")[1].split()[0])
    bot.command(f"show {bill}", user="U201")
    shown = json.dumps(bot.fake.wait_for("response_url", 2)[-1].params["blocks"])
    assert "Due 2026-12-20: partly paid, USD 200.00 open" in shown
    assert "pay_bill" in shown
    bot.command("list", user="U111")
    listed = json.dumps(bot.fake.wait_for("response_url", 3)[-1].params["blocks"])
    assert "bill due 2026-12-20, partly paid" in listed

    bot.command(f"void {bill} wrong vendor", user="U201")
    refused = bot.fake.wait_for("response_url", 4)[-1].params["text"]
    assert f"Bill {bill} has payments ({payment}); void them first" in refused
    bot.command(f"void {payment} bounced", user="U201")
    assert "is void" in bot.fake.wait_for("response_url", 5)[-1].params["text"]
    assert _paid(bot, bill) == 0
    bot.command(f"show {bill}", user="U201")
    assert "open, USD 300.00 open" in json.dumps(bot.fake.wait_for("response_url", 6)[-1].params["blocks"])
