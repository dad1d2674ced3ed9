"""Block Kit for the purchase modal, its outcomes and the team notification: pure functions.

Block and action IDs are a contract with `handlers.blocks.purchase_input` (which reads them back) and stay
identical across `views.update`, so Slack keeps what the user typed.

Vendor is a type-ahead (`external_select`, answered by `handlers.listeners.options`). Account fields are
static selects grouped by account type while the chart fits one (at most 100 accounts), and type-aheads
over the cached chart beyond that; `ModalMeta.account_search` remembers which, across redraws.
"""

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    ExternalDataSelectElement,
    InputBlock,
    NumberInputElement,
    Option,
    OptionGroup,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from handlers.blocks.common import TEXT_MAX, context, escape, md, plain, section
from handlers.caches import AccountOption

CALLBACK_ID = "purchase_modal"
ACTION_ADD = "add_item"
ACTION_REMOVE = "remove_item"
MAX_MODAL_ITEMS = 15  # 5 blocks an item plus the header fields stay well inside Slack's 100 blocks
ITEM_FIELDS = ("name", "quantity", "unit_price", "account")
MAX_ROW_NUMBER = 100_000  # rows are numbered from 0 as items are added; keeps block IDs short
# Beyond this many accounts, account fields are type-aheads: a static select shows at most 100 options.
MAX_STATIC_ACCOUNTS = StaticSelectElement.options_max_length
MAX_DOCUMENTS = 10  # Slack's file_input takes at most 10 files, as does a purchase
DOCUMENT_TYPES = ("pdf", "png", "jpg", "jpeg", "gif", "webp", "heic")
MAX_VENDOR = 200  # a purchase's vendor name, as db.schemas and db.vendors take it
METADATA_MAX = View.private_metadata_max_length
# Account types in the order the chart lists them, with their group labels in the select.
ACCOUNT_GROUPS = {
    "asset": "Assets",
    "liability": "Liabilities",
    "equity": "Equity",
    "income": "Income",
    "expense": "Expenses",
}
_FILE_ID = re.compile(r"^[A-Z0-9]{1,40}$")
_MESSAGE_LINK = re.compile(
    r"^https://[A-Za-z0-9][A-Za-z0-9-]{0,62}\.slack\.com/archives/[A-Z0-9]{1,32}/p\d{1,20}"
    r"(?:\?thread_ts=\d{1,12}\.\d{1,8}&cid=[A-Z0-9]{1,32})?$"
)


@dataclass(frozen=True)
class SlackFile:
    """A file Slack holds for the form: uploaded into its file input, or on the message a shortcut
    came from. `url` is `url_private_download` (else `url_private`); None when only the ID is known
    (a message's files travel in private_metadata as ID and name: look them up with files.info)."""

    id: str
    name: str
    size: int | None = None
    mimetype: str | None = None
    url: str | None = None

    @classmethod
    def from_slack(cls, data: object) -> "SlackFile | None":
        """A Slack file object as a SlackFile; None when it has no usable ID."""
        if not isinstance(data, dict):
            return None
        file_id = data.get("id")
        if not isinstance(file_id, str) or not _FILE_ID.match(file_id):
            return None
        name = next(
            (n for n in (data.get("name"), data.get("title")) if isinstance(n, str) and n.strip()), None
        )
        size = data.get("size")
        mimetype = data.get("mimetype")
        url = next(
            (
                u
                for u in (data.get("url_private_download"), data.get("url_private"))
                if isinstance(u, str) and u
            ),
            None,
        )
        return cls(
            id=file_id,
            name=name or file_id,
            size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
            mimetype=mimetype if isinstance(mimetype, str) and mimetype else None,
            url=url,
        )


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
    # A bill's (a payable "Paid from"): shown once such an account is chosen.
    due_date: str | None = None
    invoice_number: str | None = None
    items: list[ItemValues] = field(default_factory=lambda: [ItemValues()])
    # Read back from a submission: the files in the form's file input, then the files of the message
    # a shortcut came from (ModalMeta.message_files). A file input cannot be pre-filled, so a redrawn
    # form does not show these.
    files: list[SlackFile] = field(default_factory=list)


@dataclass
class ModalMeta:
    """Travels in the view's private_metadata, so any bot process can handle the next step."""

    rows: list[int]
    next_row: int
    channel: str | None = None
    # The account fields are type-aheads (the chart had more than MAX_STATIC_ACCOUNTS accounts).
    account_search: bool = False
    # "Record as purchase" on a message: its permalink, and its files (ID and name only).
    message_link: str | None = None
    message_files: list[SlackFile] = field(default_factory=list)

    def dump(self) -> str:
        """JSON within Slack's 3000 characters: long file names are cut, then left out."""
        data: dict[str, Any] = {"rows": self.rows, "next": self.next_row, "channel": self.channel}
        if self.account_search:
            data["search"] = True
        if self.message_link:
            data["link"] = self.message_link
        raw = ""
        for cut in (60, 20, 0):
            files = [[f.id, f.name[:cut]] for f in self.message_files[:MAX_DOCUMENTS]]
            raw = json.dumps({**data, "files": files} if files else data, ensure_ascii=False)
            if len(raw) <= METADATA_MAX:
                break
        return raw

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
            meta = cls(rows, next_row, channel if valid else None)
        except (ArithmeticError, ValueError, KeyError, TypeError):
            # Not what `dump` wrote (e.g. NaN or Infinity, which json accepts): start afresh.
            return cls([0], 1)
        meta.account_search = data.get("search") is True
        link = data.get("link")
        meta.message_link = link if isinstance(link, str) and _MESSAGE_LINK.match(link) else None
        files = data.get("files")
        for entry in files[:MAX_DOCUMENTS] if isinstance(files, list) else []:
            if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], str):
                file = SlackFile.from_slack({"id": entry[0], "name": entry[1][:255]})
                if file is not None and file.id not in {f.id for f in meta.message_files}:
                    meta.message_files.append(file)
        return meta


def message_link(domain: object, channel: object, ts: object, thread_ts: object = None) -> str | None:
    """The permalink of a message, in Slack's documented format
    (`https://<team domain>.slack.com/archives/<channel>/p<ts without the dot>`); None if a part is missing."""
    if not all(isinstance(part, str) and part for part in (domain, channel, ts)):
        return None
    link = f"https://{domain}.slack.com/archives/{channel}/p{str(ts).replace('.', '')}"
    if isinstance(thread_ts, str) and thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link if _MESSAGE_LINK.match(link) else None


def item_block(row: int, name: str) -> str:
    return f"item_{row}_{name}"


def is_account_field(block_id: str) -> bool:
    """The fields whose value is an account code: "Paid from" and each item's "Booked to"."""
    return block_id == "payment_account" or (block_id.startswith("item_") and block_id.endswith("_account"))


def account_option(account: AccountOption) -> Option:
    return Option(value=account.code, text=plain(f"{account.code} {account.name}"[: Option.label_max_length]))


def vendor_option(name: str, label: str | None = None) -> Option:
    """A vendor as a select option: its value is the name (cut to Slack's limit for values)."""
    text = name if label is None else label
    return Option(value=name[: Option.value_max_length], text=plain(text[: Option.label_max_length]))


def account_groups(accounts: Sequence[AccountOption]) -> list[OptionGroup]:
    """The accounts as option groups by type (the chart's order within each), assets first."""
    by_type: dict[str, list[AccountOption]] = {}
    for account in accounts:
        by_type.setdefault(account.type, []).append(account)
    order = [t for t in ACCOUNT_GROUPS if t in by_type] + [t for t in by_type if t not in ACCOUNT_GROUPS]
    return [
        OptionGroup(
            label=plain(
                ACCOUNT_GROUPS.get(kind) or (kind.title() or "Other")[: OptionGroup.label_max_length]
            ),
            options=[account_option(a) for a in by_type[kind]],
        )
        for kind in order
    ]


def _select(
    block_id: str,
    label: str,
    accounts: Sequence[AccountOption],
    selected: str | None,
    placeholder: str,
    *,
    search: bool,
    dispatch: bool = False,
) -> InputBlock:
    chosen = next((a for a in accounts if a.code == selected), None)
    initial = account_option(chosen) if chosen is not None else None
    element: StaticSelectElement | ExternalDataSelectElement
    if search:
        element = ExternalDataSelectElement(
            action_id="value",
            placeholder=plain(f"{placeholder}: type a code or a word of its name"),
            min_query_length=1,
            initial_option=initial,
        )
    elif accounts:
        element = StaticSelectElement(
            action_id="value",
            placeholder=plain(placeholder),
            option_groups=account_groups(accounts),
            initial_option=initial,
        )
    else:  # a chart read back from a view that showed none
        element = StaticSelectElement(action_id="value", placeholder=plain(placeholder), options=[])
    # `dispatch`: choosing sends an action at once (the form redraws with a bill's fields).
    return InputBlock(
        block_id=block_id, label=plain(label), element=element, dispatch_action=dispatch or None
    )


def is_payable(accounts: Sequence[AccountOption], code: str | None) -> bool:
    """Paying from a liability (Accounts Payable, a company card) makes the purchase a bill."""
    return any(a.code == code and a.type == "liability" for a in accounts)


def _bill_blocks(values: FormValues) -> list[Block]:
    due = DatePickerElement(action_id="value", initial_date=values.due_date or None)
    return [
        InputBlock(
            block_id="due_date",
            label=plain("Due date"),
            hint=plain("Bought on account: a bill. Empty: the vendor's payment terms (net 30 unless set)."),
            optional=True,
            element=due,
        ),
        _input(
            "invoice_number", "Vendor's invoice number", values.invoice_number, optional=True, max_length=64
        ),
    ]


def _vendor(vendor: str | None) -> InputBlock:
    name = vendor.strip() if vendor else ""
    element = ExternalDataSelectElement(
        action_id="value",
        placeholder=plain("Type to find a vendor or add one"),
        min_query_length=1,
        initial_option=vendor_option(name) if name else None,
    )
    return InputBlock(block_id="vendor", label=plain("Vendor"), optional=True, element=element)


def _documents(meta: ModalMeta) -> list[Block]:
    offered = meta.message_files[:MAX_DOCUMENTS]
    blocks: list[Block] = []
    if len(offered) < MAX_DOCUMENTS:  # the message's files may already be as many as a purchase takes
        element = FileInputElement(
            action_id="value", filetypes=list(DOCUMENT_TYPES), max_files=MAX_DOCUMENTS - len(offered)
        )
        label = "More receipts or invoices" if offered else "Receipts and invoices"
        blocks.append(InputBlock(block_id="documents", label=plain(label), optional=True, element=element))
    lines = []
    if meta.message_link:
        lines.append(f"Recorded from <{meta.message_link}|a message>.")
    if offered:
        names = ", ".join(escape(f.name) for f in offered)
        lines.append(f"Files from the message: {names} — they will be attached.")
    if lines:
        text = "\n".join(lines)
        if len(text) > TEXT_MAX:
            text = text[: TEXT_MAX - 1] + "…"
        blocks.append(context(text, "message_files"))
    return blocks


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
    number: int, row: int, item: ItemValues, accounts: Sequence[AccountOption], removable: bool, search: bool
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
            item_block(row, "account"),
            "Booked to",
            accounts,
            item.account or "1100",
            "Choose an account",
            search=search,
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
    """The purchase form. `meta.rows` names the item rows; `values.items` fills them in order.

    `accounts` is the chart, or (for a form redrawn from a view whose account fields are
    type-aheads) just the accounts chosen so far, to show them again."""
    search = meta.account_search or len(accounts) > MAX_STATIC_ACCOUNTS
    meta = replace(meta, account_search=search)
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
        _vendor(values.vendor),
        _select(
            "payment_account",
            "Paid from",
            accounts,
            values.payment_account or "1000",
            "Choose an account",
            search=search,
            dispatch=True,
        ),
    ]
    if values.due_date or values.invoice_number or is_payable(accounts, values.payment_account):
        blocks += _bill_blocks(values)
    blocks.append(_input("currency", "Currency", values.currency or default_currency, max_length=3))
    items = values.items + [ItemValues() for _ in range(len(meta.rows) - len(values.items))]
    for number, (row, item) in enumerate(zip(meta.rows, items, strict=False), start=1):
        blocks.append(DividerBlock())
        blocks += _item_blocks(number, row, item, accounts, removable=len(meta.rows) > 1, search=search)
    if len(meta.rows) < MAX_MODAL_ITEMS:
        add = ButtonElement(action_id=ACTION_ADD, text=plain("Add item"), value="add")
        blocks.append(ActionsBlock(block_id="item_actions", elements=[add]))
    else:
        limit = f"That is the most items one purchase can have here ({MAX_MODAL_ITEMS}); post another for the rest."
        blocks.append(context(limit, "item_actions"))
    blocks += _documents(meta)
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
