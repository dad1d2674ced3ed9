"""Block Kit for the purchase modal, its outcomes and the team notification: pure functions.

Block and action IDs are a contract with `handlers.blocks.purchase_input` (which reads them back) and stay
identical across `views.update`, so Slack keeps what the user typed.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    InputBlock,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.blocks.common import context, escape, md, plain, section
from handlers.caches import AccountOption

CALLBACK_ID = "purchase_modal"
ACTION_ADD = "add_item"
ACTION_REMOVE = "remove_item"
MAX_MODAL_ITEMS = 15  # 5 blocks an item plus the header fields stay well inside Slack's 100 blocks
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


def _option(account: AccountOption) -> Option:
    return Option(value=account.code, text=plain(f"{account.code} {account.name}"[: Option.label_max_length]))


def _select(
    block_id: str, label: str, accounts: Sequence[AccountOption], selected: str | None, placeholder: str
) -> InputBlock:
    options = [_option(a) for a in accounts[: StaticSelectElement.options_max_length]]
    element = StaticSelectElement(
        action_id="value",
        placeholder=plain(placeholder),
        options=options,
        initial_option=next((o for o in options if o.value == selected), None),
    )
    return InputBlock(block_id=block_id, label=plain(label), element=element)


def _input(
    block_id: str,
    label: str,
    value: str | None,
    *,
    optional: bool = False,
    max_length: int,
    placeholder: str = "",
) -> InputBlock:
    element = PlainTextInputElement(
        action_id="value",
        max_length=max_length,
        initial_value=value[:max_length] if value else None,
        placeholder=plain(placeholder) if placeholder else None,
    )
    return InputBlock(block_id=block_id, label=plain(label), optional=optional, element=element)


def _item_blocks(
    number: int, row: int, item: ItemValues, accounts: Sequence[AccountOption], removable: bool
) -> list[Block]:
    remove = ButtonElement(action_id=ACTION_REMOVE, value=str(row), text=plain("Remove item"))
    header = SectionBlock(
        block_id=item_block(row, "header"),
        text=md(f"*Item {number}*"),
        accessory=remove if removable else None,
    )
    quantity = NumberInputElement(
        action_id="value",
        is_decimal_allowed=False,
        min_value="1",
        max_value="1000000",
        initial_value=item.quantity or None,
    )
    return [
        header,
        _input(item_block(row, "name"), "What", item.name, max_length=100, placeholder="Laptop"),
        InputBlock(block_id=item_block(row, "quantity"), label=plain("Quantity"), element=quantity),
        _input(
            item_block(row, "unit_price"), "Unit price", item.unit_price, max_length=24, placeholder="1250.00"
        ),
        _select(
            item_block(row, "account"), "Booked to", accounts, item.account or "1100", "Choose an account"
        ),
    ]


def _initial_date(typed: str | None, today: dt.date) -> str:
    """What the date picker shows: the date as typed when it is one (a form redrawn after a failure
    keeps it), else today. A request not from Slack may carry anything there."""
    try:
        return dt.date.fromisoformat(typed).isoformat() if typed else today.isoformat()
    except ValueError:
        return today.isoformat()


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
    blocks: list[Block] = []
    if notice:
        blocks.append(context(escape(notice), "notice"))
    blocks += [
        _input(
            "description", "Description", values.description, max_length=200, placeholder="Office equipment"
        ),
        InputBlock(
            block_id="date",
            label=plain("Date"),
            element=DatePickerElement(action_id="value", initial_date=_initial_date(values.date, today)),
        ),
        _input("vendor", "Vendor", values.vendor, optional=True, max_length=100),
        _select(
            "payment_account", "Paid from", accounts, values.payment_account or "1000", "Choose an account"
        ),
        _input("currency", "Currency", values.currency or default_currency, max_length=3),
    ]
    items = values.items + [ItemValues() for _ in range(len(meta.rows) - len(values.items))]
    for number, (row, item) in enumerate(zip(meta.rows, items, strict=False), start=1):
        blocks.append(DividerBlock())
        blocks += _item_blocks(number, row, item, accounts, removable=len(meta.rows) > 1)
    if len(meta.rows) < MAX_MODAL_ITEMS:
        add = ButtonElement(action_id=ACTION_ADD, text=plain("Add item"), value="add")
        blocks.append(ActionsBlock(block_id="item_actions", elements=[add]))
    else:
        limit = f"That is the most items one purchase can have here ({MAX_MODAL_ITEMS}); post another for the rest."
        blocks.append(context(limit, "item_actions"))
    view = View(
        type="modal",
        callback_id=CALLBACK_ID,
        title=plain("Record a purchase"),
        submit=plain("Post"),
        close=plain("Cancel"),
        private_metadata=meta.dump(),
        blocks=blocks,
    )
    return view.to_dict()


def build_posting_view() -> dict[str, Any]:
    """Shown while the database is slow: Slack needs an answer within 3 seconds."""
    view = View(
        type="modal",
        title=plain("Record a purchase"),
        close=plain("Close"),
        blocks=[section(":hourglass_flowing_sand: Posting to the ledger...")],
    )
    return view.to_dict()


def build_failure_view(reason: str) -> dict[str, Any]:
    text = f":x: *Nothing was saved.*\n{escape(reason)}"
    view = View(
        type="modal",
        title=plain("Purchase not saved"),
        close=plain("Close"),
        blocks=[section(text, "failure")],
    )
    return view.to_dict()
