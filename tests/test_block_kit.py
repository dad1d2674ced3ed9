"""Every view and message the bot can send, checked against Slack's limits by slack_sdk's own models.

Each builder's output is rebuilt with `slack_sdk.models` and `validate_json()` is called on it, with
worst cases (long escaped descriptions, the most items with the longest names), so a builder that lets
a text or a list grow past one of Slack's limits fails here rather than in Slack's API.
"""

import datetime as dt
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from db.models import AccountType, Status
from db.queries import Page, Summary
from db.reports import BalanceRow
from handlers.blocks.browse import list_message, show_message
from handlers.blocks.home import home_view
from handlers.blocks.lifecycle import channel_message, done_view, reason_modal
from handlers.blocks.purchase_form import (
    MAX_MODAL_ITEMS,
    FormValues,
    ItemValues,
    ModalMeta,
    SlackFile,
    build_failure_view,
    build_posting_view,
    build_purchase_modal,
)
from handlers.blocks.receipt import build_notification, build_receipt_message, build_result_view
from handlers.caches import AccountOption
from handlers.receipt import Audit, Receipt, ReceiptEntry, ReceiptItem

WHEN = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
NASTY = "&<>" * 66 + "&<"  # 200 characters, each escaped to 4 or 5
LONG_NAME = "<Item>&" * 14 + "xx"  # 100 characters
ACCOUNTS = [AccountOption(f"{1000 + n}", f"Account {n} " + "x" * 90, "asset") for n in range(120)]
SHORT_ACCOUNTS = [AccountOption("1000", "Cash", "asset"), AccountOption("1500", "Equipment", "asset")]
TYPES = ("asset", "liability", "equity", "income", "expense", "")
# The most a static select takes: 100 accounts of every type (and one Slack does not know), long names.
STATIC_ACCOUNTS = [
    AccountOption(f"{1000 + n}", f"Account {n} " + "&<" * 45, TYPES[n % 6]) for n in range(100)
]
MESSAGE_FILES = [SlackFile(f"F{n:010d}", f"{NASTY[:150]}{n}.pdf") for n in range(10)]
LINK = "https://acme.slack.com/archives/C0123456789/p1700000001000400?thread_ts=1700000000.000300&cid=C0123456789"


def _receipt(*, items: int = 1, description: str = "Laptops <fast> & light", **kw: Any) -> Receipt:
    values: dict[str, Any] = {
        "id": 7,
        "status": "posted",
        "date": dt.date(2026, 11, 20),
        "description": description,
        "vendor": "Store & <Co>",
        "total": "USD 2,599.98",
        "items": tuple(
            ReceiptItem(
                f"{LONG_NAME[:96]}{n:04d}",
                1_000_000,
                "9,999,999.99",
                "9,999,999,990,000.00",
                "1500 Equipment",
            )
            for n in range(items)
        ),
        "entries": (
            ReceiptEntry("1500 Equipment <x>", "9,999,999,990,000.00", ""),
            ReceiptEntry("1000 Cash & co", "", "9,999,999,990,000.00"),
        ),
        "created_by": "U111",
    }
    values.update(kw)
    return Receipt(**values)


RECEIPTS = {
    "one": _receipt(),
    "worst": _receipt(items=MAX_MODAL_ITEMS, description=NASTY),
    "no_entries": _receipt(status="pending", entries=(), vendor=None),
    "replayed": _receipt(replayed=True),
}

AUDITS = {
    "pending": Audit(7, Status.PENDING, created_by="U111", created_at=WHEN),
    "posted": Audit(7, Status.POSTED, created_by="U111"),
    "approved": Audit(7, Status.POSTED, created_by="U111", decided_by="U201", decided_at=WHEN),
    "rejected": Audit(
        7, Status.REJECTED, created_by="U111", decided_by="U202", decided_at=WHEN, decision_note=NASTY
    ),
    "voided": Audit(
        7,
        Status.VOIDED,
        created_by="U111",
        decided_by="U201",
        decided_at=WHEN,
        voided_by="U111",
        voided_at=WHEN,
        void_reason=NASTY,
        reversal_id=9,
    ),
    "reversal": Audit(9, Status.POSTED, created_by="cli", reverses_id=7),
}


def _summary(n: int, status: Status = Status.POSTED, text: str = "Thing") -> Summary:
    return Summary(n, dt.date(2026, 11, 1), f"{text} {n}", text, "USD", 2, 10**15, status, "U111", WHEN)


def _balances(n: int) -> list[BalanceRow]:
    return [
        BalanceRow(f"{1000 + i}", f"Account <{i}> & co", AccountType.ASSET, "USD", 2, 10**15, i)
        for i in range(n)
    ]


def _modal(
    rows: int, *, items: list[ItemValues] | None = None, notice: str | None = None, **kw: Any
) -> dict[str, Any]:
    values = FormValues(items=items or [ItemValues()], **kw)
    meta = ModalMeta(rows=list(range(rows)), next_row=rows, channel="C1")
    return build_purchase_modal(
        ACCOUNTS, values=values, meta=meta, default_currency="EUR", today=TODAY, notice=notice
    )


def views() -> dict[str, dict[str, Any]]:
    """Every view (modal or Home tab) the bot can open, update or publish."""
    long_items = [ItemValues(LONG_NAME, "1000000", "9999999.99", "1005") for _ in range(MAX_MODAL_ITEMS)]
    out: dict[str, dict[str, Any]] = {
        "modal_one": _modal(1),
        "modal_full": _modal(
            MAX_MODAL_ITEMS,
            items=long_items,
            description=NASTY,
            vendor=NASTY[:100],
            currency="USD",
            payment_account="1000",
            date="2026-11-20",
        ),
        "modal_notice": _modal(2, notice=NASTY * 5),
        "modal_static_full": build_purchase_modal(
            STATIC_ACCOUNTS,
            values=FormValues(
                items=[ItemValues(LONG_NAME, "1", "1", "1099") for _ in range(MAX_MODAL_ITEMS)],
                vendor="&" * 200,
                payment_account="1000",
            ),
            meta=ModalMeta(list(range(MAX_MODAL_ITEMS)), MAX_MODAL_ITEMS, "C1"),
            default_currency="EUR",
            today=TODAY,
            notice=NASTY * 5,
        ),
        "modal_from_message": build_purchase_modal(
            ACCOUNTS,
            values=FormValues(
                description=NASTY,
                items=[ItemValues(LONG_NAME, "1", "1", "1005") for _ in range(MAX_MODAL_ITEMS)],
            ),
            meta=ModalMeta(
                list(range(MAX_MODAL_ITEMS)),
                MAX_MODAL_ITEMS,
                "C0123456789",
                message_link=LINK,
                message_files=MESSAGE_FILES,
            ),
            default_currency="EUR",
            today=TODAY,
            notice=NASTY * 5,
        ),
        "modal_few_accounts": build_purchase_modal(
            SHORT_ACCOUNTS,
            values=FormValues(),
            meta=ModalMeta([0], 1),
            default_currency="EUR",
            today=TODAY,
        ),
        "posting": build_posting_view(),
        "failure": build_failure_view(NASTY * 10),
        "reject_reason": reason_modal("reject", 2**31, channel="C1", ts="1700000000.000100"),
        "void_reason": reason_modal("void", 2**31, channel=None, ts=None),
        "done": done_view("Purchase #2147483647 rejected and more", NASTY * 10),
    }
    for name, receipt in RECEIPTS.items():
        out[f"result_{name}"] = build_result_view(receipt)
        out[f"result_{name}_warning"] = build_result_view(receipt, warning=NASTY * 5)
    for approver in (False, True):
        for full in (False, True):
            awaiting = None
            if approver:
                rows = [_summary(n, Status.PENDING, NASTY) for n in range(50)] if full else []
                awaiting = Page(rows, total=100 if full else 0, offset=0, limit=50)
            out[f"home_{approver}_{full}"] = home_view(
                recent=[_summary(n, text=NASTY) for n in range(10)] if full else [],
                awaiting=awaiting,
                balances=_balances(40 if full else 0),
                month=TODAY,
                may_record=approver,
            )
    return out


def messages() -> dict[str, tuple[str, list[dict[str, Any]]]]:
    """Every message (text, blocks) the bot can post or update."""
    out: dict[str, tuple[str, list[dict[str, Any]]]] = {}
    for name, receipt in RECEIPTS.items():
        out[f"receipt_{name}"] = build_receipt_message(receipt)
        out[f"receipt_{name}_warning"] = build_receipt_message(receipt, warning=NASTY * 5)
        out[f"notification_{name}"] = build_notification(receipt, "U111")
        for status, audit in AUDITS.items():
            out[f"channel_{name}_{status}"] = channel_message(receipt, audit)
            out[f"show_{name}_{status}"] = show_message(receipt, audit)
    out["list_empty"] = list_message(Page([], 0, 0, 10), "pending")
    out["list_no_more"] = list_message(Page([], 5, 10, 10), "all")
    out["list_one_page"] = list_message(Page([_summary(n, text=NASTY) for n in range(10)], 10, 0, 10), "mine")
    out["list_middle"] = list_message(Page([_summary(n, text=NASTY) for n in range(10)], 35, 10, 10), "month")
    return out


VIEWS = views()
MESSAGES = messages()


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_is_valid_block_kit(name: str) -> None:
    view = VIEWS[name]
    View(**view).validate_json()
    for block in view["blocks"]:
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_message_is_valid_block_kit(name: str) -> None:
    text, blocks = MESSAGES[name]
    assert text
    assert 0 < len(blocks) <= 50  # Slack's limit for one message
    parsed = Block.parse_all(blocks)
    assert len(parsed) == len(blocks)
    for block in parsed:
        block.validate_json()


def test_worst_cases_are_really_worst() -> None:
    """The worst cases reach the limits they are meant to test: cut or split, never dropped."""
    full = VIEWS["modal_full"]
    assert len(full["blocks"]) > 80
    # 120 accounts: more than a static select shows, so every account field is a type-ahead.
    accounts = [b for b in full["blocks"] if b.get("block_id", "").endswith("account")]
    assert len(accounts) == MAX_MODAL_ITEMS + 1
    assert {b["element"]["type"] for b in accounts} == {"external_select"}
    static = VIEWS["modal_static_full"]
    groups = next(b for b in static["blocks"] if b.get("block_id") == "payment_account")["element"][
        "option_groups"
    ]
    assert [g["label"]["text"] for g in groups] == [
        "Assets",
        "Liabilities",
        "Equity",
        "Income",
        "Expenses",
        "Other",
    ]
    assert sum(len(g["options"]) for g in groups) == 100
    from_message = VIEWS["modal_from_message"]
    # The notice, the header fields, 15 items and the message's files; its ten files fill a purchase's
    # documents, so the form offers no file input for more.
    assert len(from_message["blocks"]) == 98
    assert "documents" not in {b.get("block_id") for b in from_message["blocks"]}
    assert len(from_message["private_metadata"]) <= 3000
    carried = ModalMeta.load(from_message["private_metadata"]).message_files
    assert [f.id for f in carried] == [f.id for f in MESSAGE_FILES]
    assert all(
        f.name and full.name.startswith(f.name) for f, full in zip(carried, MESSAGE_FILES, strict=True)
    )
    _, show = MESSAGES["show_worst_voided"]
    assert sum(b["type"] == "section" for b in show) > 3  # long items split into several sections
    text = "".join(b.get("text", {}).get("text", "") for b in show)
    assert text.count("9,999,999,990,000.00 → 1500 Equipment") == MAX_MODAL_ITEMS
    home = VIEWS["home_True_True"]
    assert len(home["blocks"]) == 100
    page = MESSAGES["list_middle"][1]
    assert [e["action_id"] for e in page[-1]["elements"]] == ["list_page_prev", "list_page_next"]


def test_a_date_that_is_not_one_redraws_the_form_with_today() -> None:
    """A hostile submission may carry anything as the date; redrawing the form must not fail."""
    today = dt.date(2026, 11, 20)
    for typed, shown in (("0", "2026-11-20"), ("2026-02-30", "2026-11-20"), ("2026-11-03", "2026-11-03")):
        view = build_purchase_modal(
            [], values=FormValues(date=typed), meta=ModalMeta([0], 1), default_currency="USD", today=today
        )
        date = next(b for b in view["blocks"] if b.get("block_id") == "date")
        assert date["element"]["initial_date"] == shown


def test_type_ahead_answers_are_valid_options() -> None:
    """What the options listener answers: each option within Slack's limits, at most 100."""
    from slack_sdk.models.blocks import Option

    from handlers.blocks.purchase_form import account_option
    from handlers.listeners.options import vendor_options
    from handlers.usecases.suggestions import VendorSuggestions

    answers = [
        vendor_options(VendorSuggestions("&" * 200, [NASTY + str(n) for n in range(120)])),
        [account_option(a) for a in STATIC_ACCOUNTS],
    ]
    for options in answers:
        assert 0 < len(options) <= 100
        for option in options:
            parsed = Option(**option.to_dict())
            parsed.validate_json()
            assert len(parsed.value or "") <= 150


def test_home_shows_every_account_balance_of_a_big_chart() -> None:
    """60 accounts' balances take more than one section's text: every line is shown, none cut."""
    view = home_view(recent=[], awaiting=None, balances=_balances(60), month=dt.date(2026, 11, 1))
    text = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert all(f"`{1000 + i}`" in text for i in range(60))
    assert all(line.endswith(")") for line in text.split("\n") if line.startswith("`"))
    View(**view).validate_json()
