"""Block Kit for the purchase modal, its outcomes and the team notification: pure functions.

Block and action IDs are a contract with `handlers.modal_state` (which reads them back) and stay
identical across `views.update`, so Slack keeps what the user typed.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.deps import AccountOption
from handlers.receipt import Receipt

CALLBACK_ID = "purchase_modal"
ACTION_ADD = "add_item"
ACTION_REMOVE = "remove_item"
MAX_MODAL_ITEMS = 15  # 5 blocks an item plus the header fields stay well inside Slack's 100 blocks
MAX_OPTIONS = 100  # Slack's limit for one static_select
MAX_SECTION_TEXT = 3000  # Slack's limit for a section's text
ITEM_FIELDS = ("name", "quantity", "unit_price", "account")
MAX_ROW_NUMBER = 100_000  # rows are numbered from 0 as items are added; keeps block IDs short


@dataclass
class ItemValues:
    name: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    account: str | None = None


@dataclass
class FormValues:
    """What the modal shows: parsed quick entry, or what the user typed so far."""

    description: str | None = None
    date: str | None = None
    vendor: str | None = None
    currency: str | None = None
    payment_account: str | None = None
    items: list[ItemValues] = field(default_factory=lambda: [ItemValues()])


@dataclass
class ModalMeta:
    """Travels in the view's private_metadata, so any bot process can handle the next step."""

    rows: list[int]
    next_row: int
    channel: str | None = None

    def dump(self) -> str:
        return json.dumps({"rows": self.rows, "next": self.next_row, "channel": self.channel})

    @classmethod
    def load(cls, raw: str | None) -> "ModalMeta":
        try:
            data = json.loads(raw or "{}")
            rows = list(dict.fromkeys(int(r) for r in data["rows"]))[:MAX_MODAL_ITEMS]
            next_row = max(int(data["next"]), max(rows, default=-1) + 1)
            if min(rows, default=0) < 0 or next_row > MAX_ROW_NUMBER:
                raise ValueError("row numbers out of range")
            channel = data.get("channel")
            # A Slack channel ID, or nothing: it is stored with the transaction (at most 32 characters).
            valid = isinstance(channel, str) and 0 < len(channel) <= 32
            return cls(rows, next_row, channel if valid else None)
        except (ArithmeticError, ValueError, KeyError, TypeError):
            # Not what `dump` wrote (e.g. NaN or Infinity, which json accepts): start afresh.
            return cls([0], 1)


def item_block(row: int, name: str) -> str:
    return f"item_{row}_{name}"


def _text(text: str, *, emoji: bool = True) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": emoji}


def _md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def escape(text: str) -> str:
    """Slack's control characters in mrkdwn; user text is otherwise shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _option(account: AccountOption) -> dict[str, Any]:
    return {"text": _text(f"{account.code} {account.name}"[:75]), "value": account.code}


def _select(
    block_id: str, label: str, accounts: Sequence[AccountOption], selected: str | None, placeholder: str
) -> dict[str, Any]:
    options = [_option(a) for a in accounts[:MAX_OPTIONS]]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": _text(placeholder),
        "options": options,
    }
    initial = next((o for o in options if o["value"] == selected), None)
    if initial is not None:
        element["initial_option"] = initial
    return {"type": "input", "block_id": block_id, "label": _text(label), "element": element}


def _input(
    block_id: str,
    label: str,
    value: str | None,
    *,
    optional: bool = False,
    max_length: int,
    placeholder: str = "",
) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "max_length": max_length}
    if value:
        element["initial_value"] = value[:max_length]
    if placeholder:
        element["placeholder"] = _text(placeholder)
    return {
        "type": "input",
        "block_id": block_id,
        "label": _text(label),
        "optional": optional,
        "element": element,
    }


def _item_blocks(
    number: int, row: int, item: ItemValues, accounts: Sequence[AccountOption], removable: bool
) -> list[dict[str, Any]]:
    header: dict[str, Any] = {
        "type": "section",
        "block_id": item_block(row, "header"),
        "text": _md(f"*Item {number}*"),
    }
    if removable:
        header["accessory"] = {
            "type": "button",
            "action_id": ACTION_REMOVE,
            "value": str(row),
            "text": _text("Remove item"),
        }
    quantity: dict[str, Any] = {
        "type": "number_input",
        "action_id": "value",
        "is_decimal_allowed": False,
        "min_value": "1",
        "max_value": "1000000",
    }
    if item.quantity:
        quantity["initial_value"] = item.quantity
    return [
        header,
        _input(item_block(row, "name"), "What", item.name, max_length=100, placeholder="Laptop"),
        {
            "type": "input",
            "block_id": item_block(row, "quantity"),
            "label": _text("Quantity"),
            "element": quantity,
        },
        _input(
            item_block(row, "unit_price"), "Unit price", item.unit_price, max_length=24, placeholder="1250.00"
        ),
        _select(
            item_block(row, "account"), "Booked to", accounts, item.account or "1100", "Choose an account"
        ),
    ]


def build_purchase_modal(
    accounts: Sequence[AccountOption],
    *,
    values: FormValues,
    meta: ModalMeta,
    default_currency: str,
    today: dt.date,
    notice: str | None = None,
) -> dict[str, Any]:
    """The purchase form. `meta.rows` names the item rows; `values.items` fills them in order."""
    blocks: list[dict[str, Any]] = []
    if notice:
        blocks.append({"type": "context", "block_id": "notice", "elements": [_md(escape(notice))]})
    blocks += [
        _input(
            "description", "Description", values.description, max_length=200, placeholder="Office equipment"
        ),
        {
            "type": "input",
            "block_id": "date",
            "label": _text("Date"),
            "element": {
                "type": "datepicker",
                "action_id": "value",
                "initial_date": values.date or today.isoformat(),
            },
        },
        _input("vendor", "Vendor", values.vendor, optional=True, max_length=100),
        _select(
            "payment_account", "Paid from", accounts, values.payment_account or "1000", "Choose an account"
        ),
        _input("currency", "Currency", values.currency or default_currency, max_length=3),
    ]
    items = values.items + [ItemValues() for _ in range(len(meta.rows) - len(values.items))]
    for number, (row, item) in enumerate(zip(meta.rows, items, strict=False), start=1):
        blocks.append({"type": "divider"})
        blocks += _item_blocks(number, row, item, accounts, removable=len(meta.rows) > 1)
    if len(meta.rows) < MAX_MODAL_ITEMS:
        add = {"type": "button", "action_id": ACTION_ADD, "text": _text("Add item"), "value": "add"}
        blocks.append({"type": "actions", "block_id": "item_actions", "elements": [add]})
    else:
        limit = f"That is the most items one purchase can have here ({MAX_MODAL_ITEMS}); post another for the rest."
        blocks.append({"type": "context", "block_id": "item_actions", "elements": [_md(limit)]})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": _text("Record a purchase"),
        "submit": _text("Post"),
        "close": _text("Cancel"),
        "private_metadata": meta.dump(),
        "blocks": blocks,
    }


def build_posting_view() -> dict[str, Any]:
    """Shown while the database is slow: Slack needs an answer within 3 seconds."""
    return {
        "type": "modal",
        "title": _text("Record a purchase"),
        "close": _text("Close"),
        "blocks": [{"type": "section", "text": _md(":hourglass_flowing_sand: Posting to the ledger...")}],
    }


def _receipt_blocks(receipt: Receipt) -> list[dict[str, Any]]:
    fields = [_md(f"*Date*\n{receipt.date.isoformat()}"), _md(f"*Total*\n{escape(receipt.total)}")]
    if receipt.vendor:
        fields.append(_md(f"*Vendor*\n{escape(receipt.vendor)}"))
    items = "\n".join(
        f"{i.quantity} × {escape(i.name)} @ {i.unit_price} = {i.subtotal} → {i.account}"
        for i in receipt.items
    )
    journal = "\n".join(
        f"{escape(e.account)}: " + (f"Dr {e.debit}" if e.debit else f"Cr {e.credit}") for e in receipt.entries
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _text(receipt.description)},
        {"type": "section", "fields": fields},
    ]
    if items:
        blocks += _sections(f"*Items*\n{items}")
    blocks += _sections(f"*Journal*\n{journal or '_no entries until approved_'}")
    return blocks


def _sections(text: str) -> list[dict[str, Any]]:
    """mrkdwn sections of at most MAX_SECTION_TEXT characters each, split between lines: escaping
    can make fifteen long item names longer than Slack takes in one section (it refuses the view)."""
    chunks: list[str] = []
    for line in text.split("\n"):
        if chunks and len(chunks[-1]) + 1 + len(line) <= MAX_SECTION_TEXT:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:MAX_SECTION_TEXT])
    return [{"type": "section", "text": _md(chunk)} for chunk in chunks]


def build_result_view(receipt: Receipt, *, warning: str | None = None) -> dict[str, Any]:
    if receipt.replayed:
        headline = (
            f":information_source: Already recorded as transaction *#{receipt.id}*; nothing new was saved."
        )
    elif receipt.status == "pending":
        headline = f":hourglass: Transaction *#{receipt.id}* is recorded and waits for approval."
    else:
        headline = f":white_check_mark: Posted as transaction *#{receipt.id}*."
    blocks = [{"type": "section", "block_id": "result", "text": _md(headline)}, *_receipt_blocks(receipt)]
    if warning:
        blocks.append(
            {"type": "context", "block_id": "warning", "elements": [_md(f":warning: {escape(warning)}")]}
        )
    return {"type": "modal", "title": _text("Purchase recorded"), "close": _text("Done"), "blocks": blocks}


def build_failure_view(reason: str) -> dict[str, Any]:
    text = f":x: *Nothing was saved.*\n{escape(reason)}"
    return {
        "type": "modal",
        "title": _text("Purchase not saved"),
        "close": _text("Close"),
        "blocks": [{"type": "section", "block_id": "failure", "text": _md(text)}],
    }


def build_notification(receipt: Receipt, user: str) -> tuple[str, list[dict[str, Any]]]:
    """The team channel's message: fallback text and blocks."""
    text = (
        f"<@{user}> recorded purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)})"
    )
    return text, [{"type": "section", "text": _md(text)}, *_receipt_blocks(receipt)[1:]]


def build_receipt_message(
    receipt: Receipt, *, warning: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The same outcome as a message, for when the modal is gone."""
    view = build_result_view(receipt, warning=warning)
    return f"Purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)})", view["blocks"]


USAGE = (
    "*Record a purchase*\n"
    "• `/purchase` opens the form.\n"
    "• `/purchase Office equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000 from Bank` opens it filled in:"
    " a description, a colon, then items as `quantity name @ unit price` separated by commas,"
    " and optionally `from <payment account>`.\n"
    "• `/purchase help` shows this."
)
