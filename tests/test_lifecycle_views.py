"""Pure tests of the lifecycle Block Kit builders: no server, no database."""

import datetime as dt
import json
from typing import Any

import pytest

from db.models import AccountType, Status
from db.queries import Page, Summary
from db.reports import BalanceRow
from handlers.blocks.browse import list_message, read_page_value, show_message
from handlers.blocks.home import home_view
from handlers.blocks.lifecycle import (
    ACTION_APPROVE,
    ACTION_REJECT,
    ACTION_VOID,
    already_text,
    channel_message,
    outcome_text,
    read_reason_modal,
    reason_modal,
    status_line,
)
from handlers.receipt import Audit, Receipt, ReceiptEntry, ReceiptItem

WHEN = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
RECEIPT = Receipt(
    id=7,
    status="pending",
    date=dt.date(2026, 11, 20),
    description="Laptops <fast> & light",
    vendor="Store",
    total="USD 2,599.98",
    items=(ReceiptItem("Laptop", 2, "1,299.99", "2,599.98", "1500"),),
    entries=(),
    created_by="U111",
)


def _summary(n: int, status: Status = Status.POSTED) -> Summary:
    return Summary(n, dt.date(2026, 11, 1), f"Thing {n}", None, "USD", 2, 1250, status, "U111", WHEN)


def _actions(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The lifecycle buttons (approve, reject, void); the documents' buttons are always there."""
    return {
        e["action_id"]: e
        for b in blocks
        if b["type"] == "actions" and b.get("block_id") != "documents_actions"
        for e in b["elements"]
    }


def test_pending_message_carries_approve_and_reject() -> None:
    text, blocks = channel_message(RECEIPT, Audit(7, Status.PENDING, created_by="U111"))
    buttons = _actions(blocks)
    assert set(buttons) == {ACTION_APPROVE, ACTION_REJECT}
    assert buttons[ACTION_APPROVE]["value"] == "7"
    assert buttons[ACTION_APPROVE]["style"] == "primary"
    assert buttons[ACTION_REJECT]["style"] == "danger"
    assert "&lt;fast&gt; &amp; light" in text
    assert "Waiting for an approver" in json.dumps(blocks)


def test_posted_message_carries_void_with_a_confirm_dialog() -> None:
    _, blocks = channel_message(RECEIPT, Audit(7, Status.POSTED, created_by="U111"))
    void = _actions(blocks)[ACTION_VOID]
    assert void["value"] == "7"
    confirm = void["confirm"]
    assert {"title", "text", "confirm", "deny"} <= set(confirm)
    assert all(len(confirm[k]["text"]) <= 30 for k in ("title", "confirm", "deny"))
    assert "status" not in {b.get("block_id") for b in blocks}  # a plain post needs no status line


@pytest.mark.parametrize(
    ("audit", "words"),
    [
        (
            Audit(7, Status.POSTED, decided_by="U201", decided_at=WHEN),
            "Approved by <@U201> on 2026-11-23 09:30",
        ),
        (
            Audit(7, Status.REJECTED, decided_by="U202", decision_note="too <much>"),
            "Rejected by <@U202>: too &lt;much&gt;",
        ),
        (
            Audit(7, Status.VOIDED, voided_by="U111", voided_at=WHEN, void_reason="dup", reversal_id=9),
            "Voided by <@U111> on 2026-11-23 09:30 UTC: dup (reversing transaction #9)",
        ),
        (Audit(9, Status.POSTED, reverses_id=7), "Reverses transaction #7"),
        (Audit(7, Status.VOIDED, voided_by="cli"), "Voided by cli"),
    ],
)
def test_status_lines_say_who_and_when(audit: Audit, words: str) -> None:
    assert words in status_line(audit)


def test_decided_messages_have_no_buttons() -> None:
    for status in (Status.REJECTED, Status.VOIDED):
        _, blocks = channel_message(RECEIPT, Audit(7, status, created_by="U111", decided_by="U201"))
        assert _actions(blocks) == {}


def test_reason_modal_round_trips_and_fits_slack_limits() -> None:
    for kind, callback in (("reject", "reject_reason"), ("void", "void_reason")):
        view = reason_modal(kind, 123456789, channel="CTEAM", ts="1.2")
        assert view["callback_id"] == callback
        assert len(view["title"]["text"]) <= 24
        assert len(view["submit"]["text"]) <= 24
        view["state"] = {
            "values": {"reason": {"value": {"type": "plain_text_input", "value": "  too\n much  "}}}
        }
        assert read_reason_modal(view) == (123456789, "CTEAM", "1.2", "too much")
    assert read_reason_modal({"private_metadata": "junk"})[0] is None


def test_list_pages_carry_the_offset() -> None:
    page = Page([_summary(n) for n in range(10)], total=25, offset=10, limit=10)
    text, blocks = list_message(page, "mine")
    assert "11–20 of 25" in text
    buttons = _actions(blocks)
    assert read_page_value(buttons["list_page_next"]["value"]) == ("mine", 20)
    assert read_page_value(buttons["list_page_prev"]["value"]) == ("mine", 0)
    assert len(blocks) <= 50
    last = Page([_summary(1)], total=21, offset=20, limit=10)
    assert "list_page_next" not in _actions(list_message(last, "all")[1])
    assert "Nothing to show" in json.dumps(list_message(Page([], 0, 0, 10), "pending")[1])
    assert read_page_value("not json") == ("all", 0)
    assert read_page_value('{"k": "evil", "o": -5}') == ("all", 0)


def test_show_message_has_items_journal_and_history() -> None:
    receipt = Receipt(**{**RECEIPT.__dict__, "entries": (ReceiptEntry("1000 Cash", "", "2,599.98"),)})
    text, blocks = show_message(
        receipt, Audit(7, Status.POSTED, created_by="U111", created_at=WHEN, decided_by="U201")
    )
    dumped = json.dumps(blocks)
    assert "Purchase #7" in text
    assert "Laptop" in dumped
    assert "Cr 2,599.98" in dumped
    assert "<@U111>" in dumped
    assert "Approved by <@U201>" in dumped


def test_home_view_sections() -> None:
    balances = [BalanceRow("6100", "Office Supplies", AccountType.EXPENSE, "USD", 2, 12345, 0)]
    awaiting = Page([_summary(3, Status.PENDING)], total=12, offset=0, limit=1)
    view = home_view(recent=[_summary(1)], awaiting=awaiting, balances=balances, month=dt.date(2026, 11, 5))
    dumped = json.dumps(view)
    assert view["type"] == "home"
    assert "Waiting for your approval" in dumped
    assert _actions(view["blocks"])[ACTION_APPROVE]["value"] == "3"
    assert "11 more" in dumped
    assert "November 2026" in dumped
    assert "USD 123.45" in dumped
    assert len(view["blocks"]) <= 100
    plain = json.dumps(home_view(recent=[], awaiting=None, balances=[], month=dt.date(2026, 11, 5)))
    assert "Waiting for your approval" not in plain
    assert "not recorded any purchases" in plain


def test_outcome_and_already_texts() -> None:
    approved = Audit(7, Status.POSTED, decided_by="U201", decided_at=WHEN)
    assert "approved by <@U201>" in outcome_text(approved, "Laptops", "USD 1.00")
    assert already_text(approved) == "Purchase #7 was already approved by <@U201> on 2026-11-23 09:30 UTC"
    voided = Audit(7, Status.VOIDED, voided_by="U111", voided_at=WHEN, void_reason="dup")
    assert already_text(voided) == "Purchase #7 was already voided by <@U111> on 2026-11-23 09:30 UTC: dup"
