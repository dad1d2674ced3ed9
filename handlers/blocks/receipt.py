"""Block Kit for a recorded purchase: the receipt in the modal, the same as a message, and the
team channel's announcement."""

from typing import Any

from handlers.blocks.common import escape, md, plain, sections
from handlers.receipt import Receipt


def _receipt_blocks(receipt: Receipt) -> list[dict[str, Any]]:
    fields = [md(f"*Date*\n{receipt.date.isoformat()}"), md(f"*Total*\n{escape(receipt.total)}")]
    if receipt.vendor:
        fields.append(md(f"*Vendor*\n{escape(receipt.vendor)}"))
    items = "\n".join(
        f"{i.quantity} × {escape(i.name)} @ {i.unit_price} = {i.subtotal} → {i.account}"
        for i in receipt.items
    )
    journal = "\n".join(
        f"{escape(e.account)}: " + (f"Dr {e.debit}" if e.debit else f"Cr {e.credit}") for e in receipt.entries
    )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": plain(receipt.description)},
        {"type": "section", "fields": fields},
    ]
    if items:
        blocks += sections(f"*Items*\n{items}")
    blocks += sections(f"*Journal*\n{journal or '_no entries until approved_'}")
    return blocks


def build_result_view(receipt: Receipt, *, warning: str | None = None) -> dict[str, Any]:
    if receipt.replayed:
        headline = (
            f":information_source: Already recorded as transaction *#{receipt.id}*; nothing new was saved."
        )
    elif receipt.status == "pending":
        headline = f":hourglass: Transaction *#{receipt.id}* is recorded and waits for approval."
    else:
        headline = f":white_check_mark: Posted as transaction *#{receipt.id}*."
    blocks = [{"type": "section", "block_id": "result", "text": md(headline)}, *_receipt_blocks(receipt)]
    if warning:
        blocks.append(
            {"type": "context", "block_id": "warning", "elements": [md(f":warning: {escape(warning)}")]}
        )
    return {"type": "modal", "title": plain("Purchase recorded"), "close": plain("Done"), "blocks": blocks}


def build_notification(receipt: Receipt, user: str) -> tuple[str, list[dict[str, Any]]]:
    """The team channel's message: fallback text and blocks."""
    text = (
        f"<@{user}> recorded purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)})"
    )
    return text, [{"type": "section", "text": md(text)}, *_receipt_blocks(receipt)[1:]]


def build_receipt_message(
    receipt: Receipt, *, warning: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The same outcome as a message, for when the modal is gone."""
    view = build_result_view(receipt, warning=warning)
    return f"Purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)})", view["blocks"]
