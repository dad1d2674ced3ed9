"""Block Kit builders, modal state and quick entry: pure functions, no server."""

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from db.errors import FieldError
from db.schemas import parse_purchase
from handlers.blocks.common import escape
from handlers.blocks.purchase_form import (
    MAX_MODAL_ITEMS,
    FormValues,
    ItemValues,
    ModalMeta,
    build_failure_view,
    build_purchase_modal,
)
from handlers.blocks.purchase_input import block_errors, missing_selects, purchase_input, read_form
from handlers.blocks.receipt import build_notification, build_result_view
from handlers.caches import AccountOption
from handlers.quick_entry import QuickEntryError, parse_quick_entry
from handlers.receipt import Receipt, ReceiptEntry, ReceiptItem
from tests.clock import BOOKS_DAY
from tests.slack.requests import state_of

ACCOUNTS = [
    AccountOption("1000", "Cash", "asset"),
    AccountOption("1010", "Bank", "asset"),
    AccountOption("1100", "Inventory", "asset"),
    AccountOption("6100", "Office Supplies", "expense"),
]
TODAY = dt.date(2026, 11, 23)


def modal(
    values: FormValues | None = None, rows: list[int] | None = None, notice: str | None = None
) -> dict[str, Any]:
    rows = rows if rows is not None else [0]
    meta = ModalMeta(rows=rows, next_row=max(rows, default=-1) + 1, channel="C1")
    return build_purchase_modal(
        ACCOUNTS, values=values or FormValues(), meta=meta, default_currency="EUR", today=TODAY, notice=notice
    )


def test_modal_respects_slack_limits() -> None:
    view = modal(rows=list(range(MAX_MODAL_ITEMS)))
    assert len(view["blocks"]) <= 100
    for key in ("title", "submit", "close"):
        assert len(view[key]["text"]) <= 24
    assert len(view["private_metadata"]) <= 3000
    block_ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))
    assert all(len(b) <= 255 for b in block_ids)
    assert view["blocks"][-1]["type"] == "context"  # no more "Add item" at the cap


def test_modal_defaults() -> None:
    view = modal()
    blocks = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    assert blocks["date"]["element"]["initial_date"] == "2026-11-23"
    assert blocks["currency"]["element"]["initial_value"] == "EUR"
    assert blocks["payment_account"]["element"]["initial_option"]["value"] == "1000"
    assert blocks["item_0_account"]["element"]["initial_option"]["value"] == "1100"
    assert blocks["item_0_quantity"]["element"]["is_decimal_allowed"] is False
    assert "accessory" not in blocks["item_0_header"]  # a single item cannot be removed
    assert blocks["item_actions"]["elements"][0]["action_id"] == "add_item"
    assert view["callback_id"] == "purchase_modal"


def test_block_ids_are_stable_across_redraws() -> None:
    first = modal(rows=[0, 3])
    second = modal(FormValues(description="x", items=[ItemValues("a"), ItemValues("b")]), rows=[0, 3])
    ids = [b.get("block_id") for b in first["blocks"]]
    assert ids == [b.get("block_id") for b in second["blocks"]]
    assert "item_3_unit_price" in ids


def test_state_round_trip_into_the_ledger_input() -> None:
    view = modal(rows=[0, 2])
    typed = {
        "description": "Office chairs",
        "vendor": "Ikea",
        "item_0_name": "Chair",
        "item_0_quantity": "4",
        "item_0_unit_price": "149.90",
        "item_2_name": "Mat",
        "item_2_quantity": "1",
        "item_2_unit_price": "35",
        "item_2_account": "6100",
        "payment_account": "1010",
    }
    values, meta = read_form({**view, "state": {"values": state_of(view, typed)}})
    assert meta.rows == [0, 2]
    assert meta.channel == "C1"
    data = purchase_input(values, key="slack:T1:V1")
    purchase = parse_purchase(data, today=BOOKS_DAY)
    assert purchase.currency == "EUR"
    assert purchase.payment_account == "1010"
    assert [(i.name, i.quantity, i.unit_price, i.account) for i in purchase.items] == [
        ("Chair", 4, Decimal("149.90"), "1100"),
        ("Mat", 1, Decimal("35"), "6100"),
    ]
    assert purchase.items_total == Decimal("634.60")
    assert missing_selects(values) == []


def test_read_form_survives_garbage() -> None:
    values, meta = read_form({"private_metadata": "not json", "state": {"values": {"description": 5}}})
    assert meta.rows == [0]
    assert values.description is None
    values, meta = read_form({"private_metadata": json.dumps({"rows": ["x"], "next": 1})})
    assert meta.rows == [0]


def test_errors_land_on_the_right_blocks() -> None:
    meta = ModalMeta(rows=[0, 5], next_row=6)
    errors = [
        FieldError(("description",), "is required"),
        FieldError(("items", 1, "unit_price"), "must be more than zero"),
        FieldError(("items", 1, "unit_price"), "has too many decimal places"),
        FieldError(("items",), "needs at least one line item"),
        FieldError(("payment_account",), "must differ"),
    ]
    assert block_errors(errors, meta) == {
        "description": "Is required.",
        "item_5_unit_price": "Must be more than zero. Has too many decimal places.",
        "item_0_name": "Needs at least one line item.",
        "payment_account": "Must differ.",
    }


def test_missing_selects_are_reported() -> None:
    values = FormValues(payment_account=None, items=[ItemValues("a", "1", "2", None)])
    assert [e.loc for e in missing_selects(values)] == [("payment_account",), ("items", 0, "account")]


RECEIPT = Receipt(
    id=42,
    status="posted",
    date=TODAY,
    description="<script>*bold* & co",
    vendor="A&B <Ltd>",
    total="USD 10,000,000.00",
    items=(ReceiptItem("Laptop <b>", 2, "4,000,000.00", "8,000,000.00", "1100"),),
    entries=(
        ReceiptEntry("1100 Inventory", "10,000,000.00", ""),
        ReceiptEntry("1000 Cash", "", "10,000,000.00"),
    ),
    created_by="U1",
)


def test_result_view_shows_id_items_journal_and_escapes_user_text() -> None:
    view = build_result_view(RECEIPT, warning="channel <not> told")
    text = json.dumps(view)
    assert "#42" in text
    assert "Dr 10,000,000.00" in text and "Cr 10,000,000.00" in text  # noqa: PT018
    assert "Laptop &lt;b&gt;" in text
    assert "A&amp;B &lt;Ltd&gt;" in text
    # Plain text shows the description verbatim; Slack never interprets it as markup.
    assert view["blocks"][1]["text"] == {"type": "plain_text", "text": "<script>*bold* & co", "emoji": True}
    assert "channel &lt;not&gt; told" in text
    assert len(view["title"]["text"]) <= 24


def test_replayed_and_pending_headlines() -> None:
    replay = Receipt(**{**RECEIPT.__dict__, "replayed": True})
    assert "Already recorded" in build_result_view(replay)["blocks"][0]["text"]["text"]
    pending = Receipt(**{**RECEIPT.__dict__, "status": "pending"})
    assert "waits for approval" in build_result_view(pending)["blocks"][0]["text"]["text"]


def test_notification_and_failure() -> None:
    text, blocks = build_notification(RECEIPT, "U9")
    assert text.startswith("<@U9> recorded purchase #42")
    assert "&lt;script&gt;" in text
    assert blocks[0]["text"]["text"] == text
    failure = build_failure_view("db <down>")
    assert "Nothing was saved" in json.dumps(failure)
    assert "db &lt;down&gt;" in json.dumps(failure)
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_quick_entry_reads_the_example() -> None:
    values = parse_quick_entry("Office equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000 from Bank", ACCOUNTS)
    assert values.description == "Office equipment"
    assert values.payment_account == "1010"
    assert [(i.quantity, i.name, i.unit_price) for i in values.items] == [
        ("2", "Laptop", "4000000"),
        ("4", "Monitor", "500000"),
    ]


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("Snacks: Coffee @ 4.50", [("1", "Coffee", "4.50")]),
        ("Snacks: 3 x Coffee @ 4.50; 2 Tea @ 1", [("3", "Coffee", "4.50"), ("2", "Tea", "1")]),
        ("Kit: 2 Desk @ 1,250.00, 1 Lamp @ 40", [("2", "Desk", "1,250.00"), ("1", "Lamp", "40")]),
        ("Kit: 1 USB-C hub (4 port) @ 30 from cash", [("1", "USB-C hub (4 port)", "30")]),
    ],
)
def test_quick_entry_variants(text: str, items: list[tuple[str, str, str]]) -> None:
    values = parse_quick_entry(text, ACCOUNTS)
    assert [(i.quantity, i.name, i.unit_price) for i in values.items] == items


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("just words", "description and a colon"),
        (": 2 Laptop @ 3", "description and a colon"),
        ("Kit: Laptop", "quantity name @ unit price"),
        ("Kit: 2 Laptop @ 3 from Piggy bank", "no account called `Piggy bank`"),
        ("Kit: " + "; ".join(f"1 thing{n} @ 1" for n in range(MAX_MODAL_ITEMS + 1)), "at most 15"),
    ],
)
def test_quick_entry_errors(text: str, words: str) -> None:
    with pytest.raises(QuickEntryError) as caught:
        parse_quick_entry(text, ACCOUNTS)
    assert words in str(caught.value)


def test_accounts_are_read_back_from_the_modal_and_garbage_is_skipped() -> None:
    from handlers.blocks.purchase_input import accounts_in as _accounts_in

    view = modal()
    assert [(a.code, a.name) for a in _accounts_in(view)] == [(a.code, a.name) for a in ACCOUNTS]
    garbage: dict[str, Any] = {"blocks": ["text", None, 5, {"block_id": "payment_account", "element": None}]}
    assert _accounts_in(garbage) == []
    assert _accounts_in({"blocks": None}) == []
