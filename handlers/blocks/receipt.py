"""Block Kit for a recorded purchase: the receipt in the modal, the same as a message, and the
team channel's announcement."""

from typing import Any

from slack_sdk.models.blocks import Block, SectionBlock
from slack_sdk.models.views import View

from handlers.blocks.bills import pay_button
from handlers.blocks.common import TEXT_MAX, context, dicts, escape, md, plain, section, sections, who
from handlers.blocks.documents import document_buttons, document_lines
from handlers.receipt import Receipt


def item_lines(receipt: Receipt) -> str:
    """One line an item: quantity, name, unit price, subtotal and account; empty without items."""
    return "\n".join(
        f"{i.quantity} × {escape(i.name)} @ {i.unit_price} = {i.subtotal} → {escape(i.account)}"
        for i in receipt.items
    )


def journal_lines(receipt: Receipt) -> str:
    """One line a journal entry: "1500 Equipment: Dr 2,599.98"; empty without entries."""
    return "\n".join(
        f"{escape(e.account)}: " + (f"Dr {e.debit}" if e.debit else f"Cr {e.credit}") for e in receipt.entries
    )


def _receipt_blocks(receipt: Receipt) -> list[Block]:
    fields = [md(f"*Date*\n{receipt.date.isoformat()}"), md(f"*Total*\n{escape(receipt.total)}")]
    if receipt.vendor:
        fields.append(md(f"*Vendor*\n{escape(receipt.vendor)}"))
    if receipt.bill:
        fields.append(md(f"*Bill*\n{escape(receipt.bill)}"))
    if receipt.pays_id is not None:
        fields.append(md(f"*Pays*\nbill #{receipt.pays_id}"))
    items = item_lines(receipt)
    blocks: list[Block] = [
        SectionBlock(text=plain(receipt.description[:TEXT_MAX])),
        SectionBlock(fields=fields),
    ]
    if items:
        blocks += sections(f"*Items*\n{items}")
    blocks += sections(f"*Journal*\n{journal_lines(receipt) or '_no entries until approved_'}")
    if receipt.documents:
        blocks += sections(f"*Documents*\n{document_lines(receipt.documents)}")
    return blocks


def _result_blocks(receipt: Receipt, warning: str | None) -> list[Block]:
    if receipt.replayed:
        headline = (
            f":information_source: Already recorded as transaction *#{receipt.id}*; nothing new was saved."
        )
    elif receipt.status == "pending":
        headline = f":hourglass: Transaction *#{receipt.id}* is recorded and waits for approval."
    else:
        headline = f":white_check_mark: Posted as transaction *#{receipt.id}*."
    blocks = [section(headline, "result"), *_receipt_blocks(receipt)]
    if warning:
        blocks.append(context(f":warning: {escape(warning)}", "warning"))
    if receipt.payable:
        blocks.append(pay_button(receipt.id))
    blocks.append(document_buttons(receipt.id, has_documents=bool(receipt.documents)))
    return blocks


def build_result_view(receipt: Receipt, *, warning: str | None = None) -> dict[str, Any]:
    view = View(
        type="modal",
        title=plain("Purchase recorded"),
        close=plain("Done"),
        blocks=_result_blocks(receipt, warning),
    )
    return view.to_dict()


def build_notification(receipt: Receipt, user: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The team channel's message: fallback text and blocks."""
    text = f"{who(user)} recorded purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)})"
    return text, dicts([section(text), *_receipt_blocks(receipt)[1:]])


def build_receipt_message(
    receipt: Receipt, *, warning: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The same outcome as a message, for when the modal is gone."""
    text = f"Purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)})"
    return text, dicts(_result_blocks(receipt, warning))
