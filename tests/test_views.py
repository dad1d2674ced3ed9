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
    SlackFile,
    build_failure_view,
    build_purchase_modal,
    message_link,
)
from handlers.blocks.purchase_input import (
    accounts_in,
    block_errors,
    missing_selects,
    purchase_input,
    read_form,
)
from handlers.blocks.receipt import build_notification, build_result_view
from handlers.caches import AccountOption, ChartIndex
from handlers.quick_entry import QuickEntryError, parse_quick_entry, unmark
from handlers.receipt import Receipt, ReceiptEntry, ReceiptItem
from tests.clock import BOOKS_DAY
from tests.slack.requests import slack_file, state_of

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
    blocks = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    assert blocks["item_actions"]["type"] == "context"  # no more "Add item" at the cap


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
    vendor = blocks["vendor"]
    assert vendor["optional"] is True
    assert vendor["element"]["type"] == "external_select"
    assert vendor["element"]["action_id"] == "value"
    assert vendor["element"]["min_query_length"] == 1
    assert "initial_option" not in vendor["element"]
    documents = blocks["documents"]
    assert documents["optional"] is True
    assert documents["element"] == {
        "type": "file_input",
        "action_id": "value",
        "max_files": 10,
        "filetypes": ["pdf", "png", "jpg", "jpeg", "gif", "webp", "heic"],
    }
    assert "message_files" not in blocks


def test_a_small_chart_is_a_static_select_grouped_by_type() -> None:
    view = modal(FormValues(payment_account="1010", items=[ItemValues(account="6100")]))
    blocks = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    for block_id, chosen in (("payment_account", "1010"), ("item_0_account", "6100")):
        element = blocks[block_id]["element"]
        assert element["type"] == "static_select"
        assert "options" not in element
        groups = [(g["label"]["text"], [o["value"] for o in g["options"]]) for g in element["option_groups"]]
        assert groups == [("Assets", ["1000", "1010", "1100"]), ("Expenses", ["6100"])]
        assert element["initial_option"]["value"] == chosen
    assert json.loads(view["private_metadata"]).get("search") is None


BIG_CHART = [AccountOption(f"{4000 + n}", f"Account {n}", "expense") for n in range(150)] + ACCOUNTS


def big_modal(
    values: FormValues | None = None, accounts: list[AccountOption] | None = None
) -> dict[str, Any]:
    return build_purchase_modal(
        BIG_CHART if accounts is None else accounts,
        values=values or FormValues(),
        meta=ModalMeta(rows=[0], next_row=1),
        default_currency="EUR",
        today=TODAY,
    )


def test_a_big_chart_makes_every_account_field_a_type_ahead() -> None:
    view = big_modal(FormValues(payment_account="4120", items=[ItemValues(account=None)]))
    blocks = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    paid = blocks["payment_account"]["element"]
    assert paid["type"] == "external_select"
    assert paid["min_query_length"] == 1
    assert paid["initial_option"] == {
        "text": {"type": "plain_text", "text": "4120 Account 120", "emoji": True},
        "value": "4120",
    }
    item = blocks["item_0_account"]["element"]
    assert item["type"] == "external_select"
    assert item["initial_option"]["value"] == "1100"  # the default, found in the chart
    assert json.loads(view["private_metadata"])["search"] is True
    # A default the chart does not have is left for the user to choose.
    alone = big_modal(accounts=BIG_CHART[:150])
    assert (
        "initial_option"
        not in {b["block_id"]: b for b in alone["blocks"] if "block_id" in b}["payment_account"]["element"]
    )


def test_a_big_chart_form_redraws_from_the_view_alone() -> None:
    """Add item / Remove item / a failure redraw the form with `accounts_in(view)`: no database.
    With type-aheads it recovers the accounts shown or chosen, and the form stays type-aheads."""
    view = big_modal()
    typed = {"payment_account": "4007", "item_0_account": "4149", "vendor": "Dell"}
    state = state_of(view, typed)
    # The options the listener offered, as Slack sends the chosen ones back.
    state["payment_account"]["value"]["selected_option"]["text"]["text"] = "4007 Account 7"
    state["item_0_account"]["value"]["selected_option"]["text"]["text"] = "4149 Account 149"
    submitted = {**view, "state": {"values": state}}
    accounts = accounts_in(submitted)
    assert {(a.code, a.name) for a in accounts} >= {("4007", "Account 7"), ("4149", "Account 149")}
    values, meta = read_form(submitted)
    assert meta.account_search is True
    assert (values.payment_account, values.items[0].account, values.vendor) == ("4007", "4149", "Dell")
    redrawn = build_purchase_modal(accounts, values=values, meta=meta, default_currency="EUR", today=TODAY)
    blocks = {b["block_id"]: b for b in redrawn["blocks"] if "block_id" in b}
    assert blocks["payment_account"]["element"]["type"] == "external_select"
    assert blocks["payment_account"]["element"]["initial_option"]["value"] == "4007"
    assert blocks["item_0_account"]["element"]["initial_option"]["text"]["text"] == "4149 Account 149"
    assert blocks["vendor"]["element"]["initial_option"]["value"] == "Dell"


def test_vendor_keeps_its_choice_and_fits_slack() -> None:
    long = "Dell " + "x" * 190
    view = modal(FormValues(vendor=long))
    vendor = next(b for b in view["blocks"] if b.get("block_id") == "vendor")["element"]["initial_option"]
    assert vendor["value"] == long[:150]
    assert vendor["text"]["text"] == long[:75]
    blank = modal(FormValues(vendor="   "))
    assert (
        "initial_option" not in next(b for b in blank["blocks"] if b.get("block_id") == "vendor")["element"]
    )


def test_files_are_read_back_with_the_message_files() -> None:
    meta = ModalMeta(
        rows=[0],
        next_row=1,
        message_link="https://acme.slack.com/archives/C123/p1700000000000300",
        message_files=[SlackFile("F0MSG1", "invoice.pdf"), SlackFile("F0UP1", "dup.pdf")],
    )
    view = build_purchase_modal(ACCOUNTS, values=FormValues(), meta=meta, default_currency="EUR", today=TODAY)
    blocks = {b["block_id"]: b for b in view["blocks"] if "block_id" in b}
    assert blocks["documents"]["element"]["max_files"] == 8
    shown = blocks["message_files"]["elements"][0]["text"]
    assert "Files from the message: invoice.pdf, dup.pdf — they will be attached" in shown
    assert "<https://acme.slack.com/archives/C123/p1700000000000300|a message>" in shown
    uploaded = [
        slack_file("F0UP1", "receipt.png", size=2048, mimetype="image/png"),
        {"id": "not an id"},
        "garbage",
        {"id": "F0NOURL", "name": "x.pdf", "size": True},
    ]
    values, read = read_form({**view, "state": {"values": state_of(view, {"documents": uploaded})}})
    assert read.message_link == meta.message_link
    assert values.files == [
        SlackFile(
            "F0UP1",
            "receipt.png",
            2048,
            "image/png",
            "https://files.slack.com/files-pri/T1-F0UP1/download/receipt.png",
        ),
        SlackFile("F0NOURL", "x.pdf"),
        SlackFile("F0MSG1", "invoice.pdf"),
    ]
    empty, _ = read_form({**view, "state": {"values": {"documents": {"value": {"type": "file_input"}}}}})
    assert [f.id for f in empty.files] == ["F0MSG1", "F0UP1"]
    assert block_errors([FieldError(("documents",), "receipt.pdf: is not a PDF")], read) == {
        "documents": "Receipt.pdf: is not a PDF."
    }


def test_private_metadata_stays_within_slack_limit() -> None:
    files = [SlackFile(f"F{n:010d}", '"' * 255) for n in range(12)]
    link = "https://a" + "b" * 60 + ".slack.com/archives/C" + "1" * 20 + "/p" + "1" * 16
    meta = ModalMeta(list(range(15)), 99_999, "C" * 32, True, link, files)
    raw = meta.dump()
    assert len(raw) <= 3000
    back = ModalMeta.load(raw)
    assert [f.id for f in back.message_files] == [f.id for f in files[:10]]
    assert (back.message_link, back.account_search, back.channel) == (link, True, "C" * 32)
    # What a forged private_metadata carries is checked field by field.
    forged = json.dumps(
        {
            "rows": [0],
            "next": 1,
            "search": "yes",
            "link": "https://evil.example/x",
            "files": [["F1", "a.pdf"], ["bad id", "b.pdf"], ["F1", "again.pdf"], "F2", ["F3", 5]],
        }
    )
    back = ModalMeta.load(forged)
    assert (back.account_search, back.message_link) == (False, None)
    assert back.message_files == [SlackFile("F1", "a.pdf")]


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


@pytest.mark.parametrize(
    "text",
    [
        "Snacks: 3 Coffee @ 4.50 at Dell from Bank",
        "Snacks: 3 Coffee @ 4.50 from Bank at Dell",
        "Snacks: 3 Coffee @ 4.50 from bank   at   Dell ",
    ],
)
def test_quick_entry_reads_a_vendor_beside_the_account(text: str) -> None:
    values = parse_quick_entry(text, ACCOUNTS)
    assert (values.description, values.vendor, values.payment_account) == ("Snacks", "Dell", "1010")
    assert [(i.quantity, i.name, i.unit_price) for i in values.items] == [("3", "Coffee", "4.50")]


def test_quick_entry_vendor_variants() -> None:
    values = parse_quick_entry("Kit: 2 Desk @ 1,250.00, 1 Lamp @ 40 at Dell, Inc.", ACCOUNTS)
    assert (values.vendor, values.payment_account) == ("Dell, Inc.", None)
    assert [i.name for i in values.items] == ["Desk", "Lamp"]
    # "at" inside an item's name is part of the name; a vendor needs the last price before it.
    values = parse_quick_entry("Snacks: 1 Coffee at noon @ 4", ACCOUNTS)
    assert (values.vendor, values.items[0].name) == (None, "Coffee at noon")
    # An account whose name holds " at " is still an account.
    accounts = [*ACCOUNTS, AccountOption("1020", "Cash at hand", "asset")]
    values = parse_quick_entry("Snacks: 1 Tea @ 2 from Cash at hand", accounts)
    assert (values.vendor, values.payment_account) == (None, "1020")
    with pytest.raises(QuickEntryError, match="no account called `Piggy`"):
        parse_quick_entry("Snacks: 1 Tea @ 2 from Piggy at Dell", ACCOUNTS)


def test_slack_markup_is_read_as_a_person_reads_it() -> None:
    text = "<@U1> <@U2|bob>: 2 Mug @ 3 for <#C1|general> <!here> <https://x.io|site> <https://y.io> &lt;b&gt; &amp;"
    assert unmark(text) == "@U1 @bob: 2 Mug @ 3 for #general @here site https://y.io <b> &"
    assert unmark("  two\n lines  ") == "two lines"


def test_message_links_follow_slacks_format() -> None:
    assert message_link("acme", "C123", "1700000000.000300") == (
        "https://acme.slack.com/archives/C123/p1700000000000300"
    )
    assert message_link("acme", "C123", "1700000001.000400", "1700000000.000300") == (
        "https://acme.slack.com/archives/C123/p1700000001000400?thread_ts=1700000000.000300&cid=C123"
    )
    assert message_link(None, "C123", "1.2") is None
    assert message_link("ac/me", "C123", "1.2") is None


def test_account_search_by_code_and_by_word() -> None:
    index = ChartIndex(
        [
            AccountOption("1000", "Cash", "asset"),
            AccountOption("1000.1", "Petty cash", "asset"),
            AccountOption("6100", "Office Supplies", "expense"),
            AccountOption("6110", "Office furniture (small)", "expense"),
            AccountOption("3000", "Owner's Equity", "equity"),
        ]
    )

    def codes(text: str) -> list[str]:
        return [a.code for a in index.search(text)]

    assert codes("1000") == ["1000", "1000.1"]
    assert codes("61") == ["6100", "6110"]
    assert codes("OFF") == ["6100", "6110"]
    assert codes("office sup") == ["6100"]
    assert codes("6110 furn") == ["6110"]
    assert codes("cash") == ["1000", "1000.1"]
    assert codes("small") == ["6110"]
    assert codes("owner") == ["3000"]
    assert codes("zzz") == []
    assert codes("") == ["1000", "1000.1", "6100", "6110", "3000"]
    assert len(index.search("", limit=2)) == 2


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
        ("Kit: 2 Laptop @ 3 at " + "v" * 201, "at most 200 characters"),
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


WITH_PAYABLES = [
    AccountOption("2100", "Company Credit Card", "liability"),
    *ACCOUNTS,
    AccountOption("2000", "Accounts Payable", "liability"),
]


@pytest.mark.parametrize(
    ("text", "vendor", "due"),
    [
        ("Laptops: 2 Laptop @ 1500 on account from Dell due 2026-12-31", "Dell", "2026-12-31"),
        ("Laptops: 2 Laptop @ 1500 on account from Dell, Inc.", "Dell, Inc.", None),
        ("Laptops: 2 Laptop @ 1500 at Dell on account due 2026-12-31", "Dell", "2026-12-31"),
    ],
)
def test_quick_entry_reads_a_bill_on_account(text: str, vendor: str, due: str | None) -> None:
    values = parse_quick_entry(text, WITH_PAYABLES)
    assert (values.vendor, values.payment_account, values.due_date) == (vendor, "2000", due)
    assert [(i.quantity, i.name, i.unit_price) for i in values.items] == [("2", "Laptop", "1500")]


def test_quick_entry_refuses_a_due_date_that_is_not_one() -> None:
    with pytest.raises(QuickEntryError, match="`31/12` is not a due date"):
        parse_quick_entry("Laptops: 2 Laptop @ 1500 on account from Dell due 31/12", WITH_PAYABLES)
