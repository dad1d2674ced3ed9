"""Block Kit for the purchase lifecycle: where a purchase stands, its channel message with the
buttons that apply (approve, reject, void), the reason forms, and the texts of decisions."""

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    InputBlock,
    PlainTextInputElement,
    PlainTextObject,
)
from slack_sdk.models.views import View

from db.lifecycle import MAX_REASON
from db.models import Status
from handlers.blocks.bills import pay_button
from handlers.blocks.common import context, dicts, escape, md, plain, section, when, who
from handlers.blocks.documents import document_buttons
from handlers.blocks.receipt import build_notification
from handlers.receipt import Audit, Receipt

ACTION_APPROVE = "approve_purchase"
ACTION_REJECT = "reject_purchase"
ACTION_VOID = "void_purchase"
REJECT_CALLBACK = "reject_reason"
VOID_CALLBACK = "void_reason"
REASON_BLOCK = "reason"


def status_line(audit: Audit) -> str:
    """One line saying where the transaction stands and who put it there."""
    approved = f"Approved by {who(audit.decided_by)}{when(audit.decided_at)}. " if audit.decided_by else ""
    if audit.status == Status.PENDING:
        return ":hourglass: Waiting for an approver."
    if audit.status == Status.REJECTED:
        note = f": {escape(audit.decision_note)}" if audit.decision_note else ""
        return f":no_entry: Rejected by {who(audit.decided_by)}{when(audit.decided_at)}{note}"
    if audit.status == Status.VOIDED:
        reason = f": {escape(audit.void_reason)}" if audit.void_reason else ""
        reversal = f" (reversing transaction #{audit.reversal_id})" if audit.reversal_id else ""
        return f"{approved}:wastebasket: Voided by {who(audit.voided_by)}{when(audit.voided_at)}{reason}{reversal}"
    if audit.reverses_id is not None:
        return f":leftwards_arrow_with_hook: Reverses transaction #{audit.reverses_id}."
    return f"{approved}:white_check_mark: Posted.".strip()


def approval_buttons(transaction_id: int, block_id: str = "approval") -> ActionsBlock:
    value = str(transaction_id)
    return ActionsBlock(
        block_id=block_id,
        elements=[
            ButtonElement(action_id=ACTION_APPROVE, style="primary", text=plain("Approve"), value=value),
            ButtonElement(action_id=ACTION_REJECT, style="danger", text=plain("Reject"), value=value),
        ],
    )


def void_button(transaction_id: int) -> ActionsBlock:
    confirm = ConfirmObject(
        title=plain("Void this purchase?"),
        text=md(
            f"Purchase #{transaction_id} will be reversed by new journal entries. "
            "It stays in the books, marked void, and cannot be posted again."
        ),
        confirm=plain("Void it"),
        deny=plain("Keep it"),
        style="danger",
    )
    button = ButtonElement(
        action_id=ACTION_VOID, style="danger", text=plain("Void"), value=str(transaction_id), confirm=confirm
    )
    return ActionsBlock(block_id="void", elements=[button])


def actions_for(audit: Audit) -> list[ActionsBlock]:
    """The buttons a channel message carries in this state: decide, void, or none."""
    if audit.status == Status.PENDING:
        return [approval_buttons(audit.id)]
    if audit.status == Status.POSTED and audit.reverses_id is None:
        return [void_button(audit.id)]
    return []


def channel_message(receipt: Receipt, audit: Audit) -> tuple[str, list[dict[str, Any]]]:
    """The team channel's message for a purchase, in its current state, with the buttons that apply."""
    text, blocks = build_notification(receipt, audit.created_by)
    if audit.status != Status.POSTED or audit.decided_by:
        blocks.append(context(status_line(audit), "status").to_dict())
    actions = actions_for(audit)
    if receipt.payable:
        actions.append(pay_button(receipt.id))
    if audit.reverses_id is None:  # any purchase takes documents; a void's reversal does not
        actions.append(document_buttons(receipt.id, has_documents=bool(receipt.documents)))
    return text, [*blocks, *dicts(actions)]


def _title(text: str) -> PlainTextObject:
    """A modal's title, cut to what Slack shows."""
    return plain(text[: View.title_max_length])


def reason_modal(kind: str, transaction_id: int, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    """A small modal asking why a purchase is rejected (`kind="reject"`) or voided (`"void"`)."""
    reject = kind == "reject"
    meta = json.dumps({"tx": transaction_id, "channel": channel, "ts": ts})
    why = PlainTextInputElement(action_id="value", multiline=True, max_length=MAX_REASON)
    view = View(
        type="modal",
        callback_id=REJECT_CALLBACK if reject else VOID_CALLBACK,
        title=_title(f"{'Reject' if reject else 'Void'} purchase #{transaction_id}"),
        submit=plain("Reject" if reject else "Void"),
        close=plain("Cancel"),
        private_metadata=meta,
        blocks=[
            section(
                f"Rejected purchase #{transaction_id} can never be posted. The requester is told why."
                if reject
                else f"Purchase #{transaction_id} will be reversed by new journal entries; the reason is kept."
            ),
            InputBlock(block_id=REASON_BLOCK, label=plain("Why?"), element=why),
        ],
    )
    return view.to_dict()


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
    view = View(type="modal", title=_title(title), close=plain("Close"), blocks=[section(text, "outcome")])
    return view.to_dict()


def outcome_text(audit: Audit, description: str, total: str) -> str:
    """The requester's direct message about a decision on their purchase."""
    what = f"Your purchase #{audit.id} ({escape(description)}, {escape(total)})"
    if audit.status == Status.POSTED:
        return f":white_check_mark: {what} was approved by {who(audit.decided_by)} and is posted."
    if audit.status == Status.REJECTED:
        return (
            f":no_entry: {what} was rejected by {who(audit.decided_by)}: {escape(audit.decision_note or '')}"
        )
    if audit.status == Status.VOIDED:
        return f":wastebasket: {what} was voided by {who(audit.voided_by)}: {escape(audit.void_reason or '')}"
    return f"{what} is {audit.status.value}."


def already_text(audit: Audit) -> str:
    """Why a second approval, rejection or void changes nothing: when and by whom it was decided."""
    if audit.status == Status.VOIDED:
        reason = f": {escape(audit.void_reason)}" if audit.void_reason else ""
        return f"Purchase #{audit.id} was already voided by {who(audit.voided_by)}{when(audit.voided_at)}{reason}"
    if audit.status in (Status.POSTED, Status.REJECTED) and audit.decided_by:
        verb = "approved" if audit.status == Status.POSTED else "rejected"
        return f"Purchase #{audit.id} was already {verb} by {who(audit.decided_by)}{when(audit.decided_at)}"
    return f"Purchase #{audit.id} is {audit.status.value}; there is nothing to decide."
