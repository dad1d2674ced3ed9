"""Block Kit for the purchase modal, its outcomes and the team notification: pure functions.

Block and action IDs are a contract with `handlers.blocks.purchase_input` (which reads them back) and stay
identical across `views.update`, so Slack keeps what the user typed.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.blocks.common import escape, md, plain
from handlers.caches import AccountOption

CALLBACK_ID = "purchase_modal"
ACTION_ADD = "add_item"
ACTION_REMOVE = "remove_item"
MAX_MODAL_ITEMS = 15  # 5 blocks an item plus the header fields stay well inside Slack's 100 blocks
MAX_OPTIONS = 100  # Slack's limit for one static_select
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


def _option(account: AccountOption) -> dict[str, Any]:
    return {"text": plain(f"{account.code} {account.name}"[:75]), "value": account.code}


def _select(
    block_id: str, label: str, accounts: Sequence[AccountOption], selected: str | None, placeholder: str
) -> dict[str, Any]:
    options = [_option(a) for a in accounts[:MAX_OPTIONS]]
    element: dict[str, Any] = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain(placeholder),
        "options": options,
    }
    initial = next((o for o in options if o["value"] == selected), None)
    if initial is not None:
        element["initial_option"] = initial
    return {"type": "input", "block_id": block_id, "label": plain(label), "element": element}


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
        element["placeholder"] = plain(placeholder)
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "optional": optional,
        "element": element,
    }


def _item_blocks(
    number: int, row: int, item: ItemValues, accounts: Sequence[AccountOption], removable: bool
) -> list[dict[str, Any]]:
    header: dict[str, Any] = {
        "type": "section",
        "block_id": item_block(row, "header"),
        "text": md(f"*Item {number}*"),
    }
    if removable:
        header["accessory"] = {
            "type": "button",
            "action_id": ACTION_REMOVE,
            "value": str(row),
            "text": plain("Remove item"),
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
            "label": plain("Quantity"),
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
        blocks.append({"type": "context", "block_id": "notice", "elements": [md(escape(notice))]})
    blocks += [
        _input(
            "description", "Description", values.description, max_length=200, placeholder="Office equipment"
        ),
        {
            "type": "input",
            "block_id": "date",
            "label": plain("Date"),
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
        add = {"type": "button", "action_id": ACTION_ADD, "text": plain("Add item"), "value": "add"}
        blocks.append({"type": "actions", "block_id": "item_actions", "elements": [add]})
    else:
        limit = f"That is the most items one purchase can have here ({MAX_MODAL_ITEMS}); post another for the rest."
        blocks.append({"type": "context", "block_id": "item_actions", "elements": [md(limit)]})
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": plain("Record a purchase"),
        "submit": plain("Post"),
        "close": plain("Cancel"),
        "private_metadata": meta.dump(),
        "blocks": blocks,
    }


def build_posting_view() -> dict[str, Any]:
    """Shown while the database is slow: Slack needs an answer within 3 seconds."""
    return {
        "type": "modal",
        "title": plain("Record a purchase"),
        "close": plain("Close"),
        "blocks": [{"type": "section", "text": md(":hourglass_flowing_sand: Posting to the ledger...")}],
    }


def build_failure_view(reason: str) -> dict[str, Any]:
    text = f":x: *Nothing was saved.*\n{escape(reason)}"
    return {
        "type": "modal",
        "title": plain("Purchase not saved"),
        "close": plain("Close"),
        "blocks": [{"type": "section", "block_id": "failure", "text": md(text)}],
    }
