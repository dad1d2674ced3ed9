"""Block Kit for bills: the "Record payment" button, the payment form, and the daily notice of
bills due soon or overdue."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from db.bills import OpenBill
from db.money import format_amount
from handlers.blocks.common import context, dicts, escape, md, plain, section

ACTION_PAY = "pay_bill"
PAY_CALLBACK = "pay_bill_form"
# Slack allows 50 blocks a message: the notice lists this many bills, then says how many more.
NOTICE_MOST = 40
# The form's blocks are named after the fields a payment's errors name (db.payments).
AMOUNT_BLOCK, ACCOUNT_BLOCK, DATE_BLOCK = "amount", "from_account", "date"


@dataclass(frozen=True)
class BillForForm:
    """What the payment form shows of the bill it pays."""

    id: int
    description: str
    vendor: str | None
    state: str  # "Due 2026-12-20: partly paid, USD 50.00 open"
    open_amount: str  # "50.00", the form's default amount
    currency: str


def pay_button(transaction_id: int) -> ActionsBlock:
    button = ButtonElement(
        action_id=ACTION_PAY, style="primary", text=plain("Record payment"), value=str(transaction_id)
    )
    return ActionsBlock(block_id="pay", elements=[button])


def pay_modal(
    bill: BillForForm,
    accounts: list[tuple[str, str]],
    *,
    today: dt.date,
    channel: str | None,
    ts: str | None,
) -> dict[str, Any]:
    """The payment form: amount (what is open), the asset account paid from, the date (today)."""
    meta = json.dumps({"tx": bill.id, "channel": channel, "ts": ts})
    options = [Option(value=code, text=plain(f"{code} {name}"[:75])) for code, name in accounts[:100]]
    vendor = f" from {escape(bill.vendor)}" if bill.vendor else ""
    view = View(
        type="modal",
        callback_id=PAY_CALLBACK,
        title=plain(f"Pay bill #{bill.id}"[: View.title_max_length]),
        submit=plain("Record payment"),
        close=plain("Cancel"),
        private_metadata=meta,
        blocks=[
            section(f"*{escape(bill.description)}*{vendor}\n{escape(bill.state)}", "bill"),
            InputBlock(
                block_id=AMOUNT_BLOCK,
                label=plain(f"Amount ({bill.currency})"),
                element=PlainTextInputElement(
                    action_id="value", initial_value=bill.open_amount, max_length=30
                ),
            ),
            InputBlock(
                block_id=ACCOUNT_BLOCK,
                label=plain("Paid from"),
                element=StaticSelectElement(
                    action_id="value",
                    placeholder=plain("Cash or bank account"),
                    options=options,
                    initial_option=options[0] if len(options) == 1 else None,
                ),
            ),
            InputBlock(
                block_id=DATE_BLOCK,
                label=plain("Date"),
                element=DatePickerElement(action_id="value", initial_date=today.isoformat()),
            ),
        ],
    )
    return view.to_dict()


@dataclass(frozen=True)
class PayForm:
    """A submitted payment form, as typed (checked by db.payments)."""

    tx: int | None
    channel: str | None
    ts: str | None
    amount: str
    from_account: str
    date: dt.date | None


def read_pay_modal(view: dict[str, Any]) -> PayForm:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        tx: int | None = int(meta["tx"])
    except (ValueError, KeyError, TypeError):
        meta, tx = {}, None
    values = (view.get("state") or {}).get("values") or {}

    def field(block: str) -> dict[str, Any]:
        return dict((values.get(block) or {}).get("value") or {})

    selected = field(ACCOUNT_BLOCK).get("selected_option") or {}
    try:
        date = dt.date.fromisoformat(str(field(DATE_BLOCK).get("selected_date") or ""))
    except ValueError:
        date = None
    return PayForm(
        tx=tx,
        channel=meta.get("channel"),
        ts=meta.get("ts"),
        amount=str(field(AMOUNT_BLOCK).get("value") or "").strip(),
        from_account=str(selected.get("value") or ""),
        date=date,
    )


def when_due(bill: OpenBill) -> str:
    if bill.days_overdue > 0:
        return f"{bill.days_overdue} day{'s' * (bill.days_overdue != 1)} overdue"
    if bill.days_overdue == 0:
        return "due today"
    return f"due in {-bill.days_overdue} day{'s' * (bill.days_overdue != -1)}"


def bill_line(bill: OpenBill) -> str:
    """`*#12* Dell, invoice INV-7: USD 200.00 open, due 2026-12-01 (3 days overdue)`."""
    invoice = f", invoice {escape(bill.invoice_number)}" if bill.invoice_number else ""
    amount = format_amount(bill.open, bill.exponent, bill.currency)
    return (
        f"*#{bill.id}* {escape(bill.vendor)}{invoice}: {amount} open, "
        f"due {bill.due_date.isoformat()} ({when_due(bill)})"
    )


def bill_section(bill: OpenBill) -> SectionBlock:
    """One open bill, with its "Record payment" button beside it."""
    button = ButtonElement(action_id=ACTION_PAY, text=plain("Record payment"), value=str(bill.id))
    return SectionBlock(block_id=f"bill_{bill.id}", text=md(bill_line(bill)), accessory=button)


def due_notice(bills: list[OpenBill], *, within_days: int) -> tuple[str, list[dict[str, Any]]]:
    """The daily message: bills overdue or due within `within_days`, each with "Record payment"."""
    overdue = sum(1 for b in bills if b.days_overdue > 0)
    text = f":spiral_calendar_pad: Bills to pay: {overdue} overdue, {len(bills) - overdue} due within {within_days} days"
    blocks: list[Block] = [section(text, "due_notice")]
    blocks += [bill_section(bill) for bill in bills[:NOTICE_MOST]]
    if len(bills) > NOTICE_MOST:
        blocks.append(context(f"and {len(bills) - NOTICE_MOST} more: `purchase-bot bills` lists them all"))
    return text, dicts(blocks)
