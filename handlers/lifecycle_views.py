"""Block Kit for the purchase lifecycle: approval and void buttons, reason modals, show, list, App Home.

Pure functions of plain data; the handlers read the database and call Slack.
"""

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from db.models import Status, TransactionHeader
from db.money import format_amount
from db.queries import Page, Summary
from db.reports import BalanceRow
from handlers.receipt import Receipt
from handlers.views import build_notification, escape

ACTION_APPROVE = "approve_purchase"
ACTION_REJECT = "reject_purchase"
ACTION_VOID = "void_purchase"
ACTION_PAGE = "list_page"
REJECT_CALLBACK = "reject_reason"
VOID_CALLBACK = "void_reason"
REASON_BLOCK = "reason"
LIST_KINDS = {
    "": "all",
    "all": "all",
    "mine": "mine",
    "pending": "pending",
    "this month": "month",
    "month": "month",
}
LIST_TITLES = {
    "all": "Recent purchases",
    "mine": "Your purchases",
    "pending": "Purchases waiting for approval",
    "month": "Purchases this month",
}
MAX_REASON = 500

LIFECYCLE_USAGE = (
    "*After recording*\n"
    "• `/purchase show ID` shows one purchase with its items, journal and history.\n"
    "• `/purchase list [mine|pending|this month]` lists purchases, newest first, 10 a page.\n"
    "• `/purchase void ID reason...` voids a posted purchase by posting reversing entries"
    " (the person who recorded it, or an approver).\n"
    "• Purchases above the approval threshold wait for an approver's Approve or Reject in the team channel."
)


def _text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _md(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def _section(text: str, block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section", "text": _md(text[:3000])}
    if block_id:
        block["block_id"] = block_id
    return block


def _sections(text: str) -> list[dict[str, Any]]:
    """Sections of at most 3000 characters each (Slack's limit), split between lines."""
    chunks: list[str] = []
    for line in text.split("\n"):
        if chunks and len(chunks[-1]) + 1 + len(line) <= 3000:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line[:3000])
    return [_section(chunk) for chunk in chunks]


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_md(text[:3000])]}


def _when(moment: dt.datetime | None) -> str:
    return f" on {moment:%Y-%m-%d %H:%M} UTC" if moment else ""


def _who(user: str | None) -> str:
    if not user:
        return "someone"
    return f"<@{user}>" if user[:1] in ("U", "W") and user.isalnum() else escape(user)


@dataclass(frozen=True)
class Audit:
    """The state changes of one transaction, for status lines."""

    id: int
    status: Status
    created_by: str | None = None
    created_at: dt.datetime | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_note: str | None = None
    voided_by: str | None = None
    voided_at: dt.datetime | None = None
    void_reason: str | None = None
    reverses_id: int | None = None
    reversal_id: int | None = None

    @classmethod
    def of(cls, header: TransactionHeader, reversal_id: int | None = None) -> "Audit":
        return cls(
            id=header.id,
            status=header.status,
            created_by=header.created_by,
            created_at=header.created_at,
            decided_by=header.decided_by,
            decided_at=header.decided_at,
            decision_note=header.decision_note,
            voided_by=header.voided_by,
            voided_at=header.voided_at,
            void_reason=header.void_reason,
            reverses_id=header.reverses_id,
            reversal_id=reversal_id,
        )


def status_line(audit: Audit) -> str:
    """One line saying where the transaction stands and who put it there."""
    approved = f"Approved by {_who(audit.decided_by)}{_when(audit.decided_at)}. " if audit.decided_by else ""
    if audit.status == Status.PENDING:
        return ":hourglass: Waiting for an approver."
    if audit.status == Status.REJECTED:
        note = f": {escape(audit.decision_note)}" if audit.decision_note else ""
        return f":no_entry: Rejected by {_who(audit.decided_by)}{_when(audit.decided_at)}{note}"
    if audit.status == Status.VOIDED:
        reason = f": {escape(audit.void_reason)}" if audit.void_reason else ""
        reversal = f" (reversing transaction #{audit.reversal_id})" if audit.reversal_id else ""
        return f"{approved}:wastebasket: Voided by {_who(audit.voided_by)}{_when(audit.voided_at)}{reason}{reversal}"
    if audit.reverses_id is not None:
        return f":leftwards_arrow_with_hook: Reverses transaction #{audit.reverses_id}."
    return f"{approved}:white_check_mark: Posted.".strip()


def approval_buttons(transaction_id: int) -> dict[str, Any]:
    value = str(transaction_id)
    return {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            {
                "type": "button",
                "action_id": ACTION_APPROVE,
                "style": "primary",
                "text": _text("Approve"),
                "value": value,
            },
            {
                "type": "button",
                "action_id": ACTION_REJECT,
                "style": "danger",
                "text": _text("Reject"),
                "value": value,
            },
        ],
    }


def void_button(transaction_id: int) -> dict[str, Any]:
    return {
        "type": "actions",
        "block_id": "void",
        "elements": [
            {
                "type": "button",
                "action_id": ACTION_VOID,
                "style": "danger",
                "text": _text("Void"),
                "value": str(transaction_id),
                "confirm": {
                    "title": _text("Void this purchase?"),
                    "text": _md(
                        f"Purchase #{transaction_id} will be reversed by new journal entries. "
                        "It stays in the books, marked void, and cannot be posted again."
                    ),
                    "confirm": _text("Void it"),
                    "deny": _text("Keep it"),
                    "style": "danger",
                },
            }
        ],
    }


def actions_for(audit: Audit) -> list[dict[str, Any]]:
    """The buttons a channel message carries in this state: decide, void, or none."""
    if audit.status == Status.PENDING:
        return [approval_buttons(audit.id)]
    if audit.status == Status.POSTED and audit.reverses_id is None:
        return [void_button(audit.id)]
    return []


def channel_message(receipt: Receipt, audit: Audit) -> tuple[str, list[dict[str, Any]]]:
    """The team channel's message for a purchase, in its current state, with the buttons that apply."""
    text, blocks = build_notification(receipt, audit.created_by or "unknown")
    if audit.status != Status.POSTED or audit.decided_by:
        blocks.append({**_context(status_line(audit)), "block_id": "status"})
    return text, [*blocks, *actions_for(audit)]


def reason_modal(kind: str, transaction_id: int, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    """A small modal asking why a purchase is rejected (`kind="reject"`) or voided (`"void"`)."""
    reject = kind == "reject"
    meta = json.dumps({"tx": transaction_id, "channel": channel, "ts": ts})
    return {
        "type": "modal",
        "callback_id": REJECT_CALLBACK if reject else VOID_CALLBACK,
        "title": _text(f"{'Reject' if reject else 'Void'} purchase #{transaction_id}"[:24]),
        "submit": _text("Reject" if reject else "Void"),
        "close": _text("Cancel"),
        "private_metadata": meta,
        "blocks": [
            _section(
                f"Rejected purchase #{transaction_id} can never be posted. The requester is told why."
                if reject
                else f"Purchase #{transaction_id} will be reversed by new journal entries; the reason is kept."
            ),
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": _text("Why?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": MAX_REASON,
                },
            },
        ],
    }


def read_reason_modal(view: dict[str, Any]) -> tuple[int | None, str | None, str | None, str]:
    """(transaction ID, channel, ts, reason) from a submitted reason modal."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        tx = int(meta["tx"])
    except (ValueError, KeyError, TypeError):
        meta, tx = {}, None
    state = ((view.get("state") or {}).get("values") or {}).get(REASON_BLOCK) or {}
    reason = str((state.get("value") or {}).get("value") or "")
    return tx, meta.get("channel"), meta.get("ts"), " ".join(reason.split())


def done_view(title: str, text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": _text(title[:24]),
        "close": _text("Close"),
        "blocks": [_section(text, "outcome")],
    }


def show_message(receipt: Receipt, audit: Audit) -> tuple[str, list[dict[str, Any]]]:
    """`/purchase show ID`: the purchase, its items, journal and history."""
    text = f"Purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)}) [{audit.status.value}]"
    fields = [
        _md(f"*Date*\n{receipt.date.isoformat()}"),
        _md(f"*Total*\n{escape(receipt.total)}"),
        _md(f"*Status*\n{audit.status.value}"),
        _md(f"*Recorded by*\n{_who(audit.created_by)}{_when(audit.created_at)}"),
    ]
    if receipt.vendor:
        fields.append(_md(f"*Vendor*\n{escape(receipt.vendor)}"))
    blocks: list[dict[str, Any]] = [
        _section(f"*Purchase #{receipt.id}*: {escape(receipt.description)}", "title"),
        {"type": "section", "fields": fields},
    ]
    items = "\n".join(
        f"{i.quantity} × {escape(i.name)} @ {i.unit_price} = {i.subtotal} → {i.account}"
        for i in receipt.items
    )
    if items:
        blocks += _sections(f"*Items*\n{items}")
    journal = "\n".join(
        f"{escape(e.account)}: " + (f"Dr {e.debit}" if e.debit else f"Cr {e.credit}") for e in receipt.entries
    )
    blocks += _sections(f"*Journal*\n{journal or '_no entries_'}")
    blocks.append({**_context(status_line(audit)), "block_id": "status"})
    return text, blocks


def summary_line(row: Summary) -> str:
    vendor = f" · {escape(row.vendor)}" if row.vendor else ""
    return (
        f"*#{row.id}* {row.date.isoformat()} · {escape(row.description)}{vendor} · "
        f"{format_amount(row.total, row.exponent, row.currency)} · _{row.status.value}_ · {_who(row.created_by)}"
    )


def page_button(kind: str, offset: int, label: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": f"{ACTION_PAGE}_{'next' if label.startswith('Next') else 'prev'}",
        "text": _text(label),
        "value": json.dumps({"k": kind, "o": offset}),
    }


def read_page_value(value: str | None) -> tuple[str, int]:
    """(list kind, offset) from a page button's value; a malformed value starts over."""
    try:
        data = json.loads(value or "{}")
        kind, offset = str(data["k"]), int(data["o"])
    except (ValueError, KeyError, TypeError):
        return "all", 0
    return (kind if kind in LIST_TITLES else "all"), max(offset, 0)


def list_message(page: Page, kind: str) -> tuple[str, list[dict[str, Any]]]:
    """One page of `/purchase list`, with Previous / Next page buttons carrying the offset."""
    title = LIST_TITLES.get(kind, LIST_TITLES["all"])
    if not page.rows:
        text = f"{title}: none." if page.offset == 0 else f"{title}: no more."
        return text, [_section(f"*{title}*\nNothing to show.", "list_title")]
    first, last = page.offset + 1, page.offset + len(page.rows)
    text = f"{title}: {first}–{last} of {page.total}"
    blocks: list[dict[str, Any]] = [_section(f"*{title}*", "list_title")]
    blocks += [_section(summary_line(row)) for row in page.rows]
    blocks.append(_context(f"Showing {first}–{last} of {page.total}. `/purchase show ID` for details."))
    buttons = []
    if page.offset > 0:
        buttons.append(page_button(kind, max(page.offset - page.limit, 0), "Previous page"))
    if page.next_offset is not None:
        buttons.append(page_button(kind, page.next_offset, "Next page"))
    if buttons:
        blocks.append({"type": "actions", "block_id": "paging", "elements": buttons})
    return text, blocks


def balances_text(rows: Sequence[BalanceRow]) -> str:
    if not rows:
        return "_No journal entries this month._"
    return "\n".join(
        f"`{r.code}` {escape(r.name)}: {format_amount(r.balance, r.exponent, r.currency)}"
        f" (Dr {format_amount(r.debit, r.exponent, r.currency)}, Cr {format_amount(r.credit, r.exponent, r.currency)})"
        for r in rows
    )


def home_view(
    *,
    recent: Sequence[Summary],
    awaiting: Page | None,
    balances: Sequence[BalanceRow],
    month: dt.date,
    may_record: bool = True,
) -> dict[str, Any]:
    """The App Home tab: the user's recent purchases, what awaits their approval, the month's balances."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": _text("Purchases")},
        _section(
            "Record a purchase with `/purchase`; `/purchase help` lists everything else."
            if may_record
            else "You can see purchases here; recording them needs a place in PURCHASE_ALLOWED_USERS.",
            "intro",
        ),
        {"type": "divider"},
        _section("*Your recent purchases*", "recent_title"),
    ]
    if recent:
        blocks += [_section(summary_line(row)) for row in recent]
    else:
        blocks.append(_context("You have not recorded any purchases yet."))
    if awaiting is not None:
        blocks += [{"type": "divider"}, _section("*Waiting for your approval*", "awaiting_title")]
        for row in awaiting.rows:
            blocks.append(_section(summary_line(row)))
            blocks.append(approval_buttons(row.id) | {"block_id": f"approval_{row.id}"})
        if not awaiting.rows:
            blocks.append(_context("Nothing waits for you."))
        elif awaiting.total > len(awaiting.rows):
            blocks.append(
                _context(f"…and {awaiting.total - len(awaiting.rows)} more: `/purchase list pending`.")
            )
    blocks += [
        {"type": "divider"},
        _section(f"*Account balances for {month:%B %Y}*\n{balances_text(balances)}", "balances"),
    ]
    return {"type": "home", "blocks": blocks[:100]}


def outcome_text(audit: Audit, description: str, total: str) -> str:
    """The requester's direct message about a decision on their purchase."""
    what = f"Your purchase #{audit.id} ({escape(description)}, {escape(total)})"
    if audit.status == Status.POSTED:
        return f":white_check_mark: {what} was approved by {_who(audit.decided_by)} and is posted."
    if audit.status == Status.REJECTED:
        return (
            f":no_entry: {what} was rejected by {_who(audit.decided_by)}: {escape(audit.decision_note or '')}"
        )
    if audit.status == Status.VOIDED:
        return (
            f":wastebasket: {what} was voided by {_who(audit.voided_by)}: {escape(audit.void_reason or '')}"
        )
    return f"{what} is {audit.status.value}."


def already_text(audit: Audit) -> str:
    """Why a second approval, rejection or void changes nothing: when and by whom it was decided."""
    if audit.status == Status.VOIDED:
        reason = f": {escape(audit.void_reason)}" if audit.void_reason else ""
        return f"Purchase #{audit.id} was already voided by {_who(audit.voided_by)}{_when(audit.voided_at)}{reason}"
    if audit.status in (Status.POSTED, Status.REJECTED) and audit.decided_by:
        verb = "approved" if audit.status == Status.POSTED else "rejected"
        return f"Purchase #{audit.id} was already {verb} by {_who(audit.decided_by)}{_when(audit.decided_at)}"
    return f"Purchase #{audit.id} is {audit.status.value}; there is nothing to decide."
