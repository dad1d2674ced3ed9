"""Block Kit for `/purchase show ID` and `/purchase list`: one purchase in full, and pages of them."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from db.bills import state_of
from db.documents import format_size
from db.money import format_amount
from db.queries import Page, Summary
from handlers.blocks.bills import pay_button
from handlers.blocks.common import context, dicts, escape, md, plain, section, sections, when, who
from handlers.blocks.documents import (
    Listed,
    document_buttons,
    document_lines,
    documents_summary,
)
from handlers.blocks.lifecycle import status_line
from handlers.blocks.receipt import item_lines, journal_lines
from handlers.receipt import Audit, Receipt

ACTION_PAGE = "list_page"
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


def show_message(receipt: Receipt, audit: Audit) -> tuple[str, list[dict[str, Any]]]:
    """`/purchase show ID`: the purchase, its items, journal and history."""
    text = f"Purchase #{receipt.id}: {escape(receipt.description)} ({escape(receipt.total)}) [{audit.status.value}]"
    fields = [
        md(f"*Date*\n{receipt.date.isoformat()}"),
        md(f"*Total*\n{escape(receipt.total)}"),
        md(f"*Status*\n{audit.status.value}"),
        md(f"*Recorded by*\n{who(audit.created_by)}{when(audit.created_at)}"),
    ]
    if receipt.vendor:
        fields.append(md(f"*Vendor*\n{escape(receipt.vendor)}"))
    if receipt.source_link:
        fields.append(md(f"*Recorded from*\n<{receipt.source_link}|a message>"))
    if receipt.bill:
        fields.append(md(f"*Bill*\n{escape(receipt.bill)}"))
    if receipt.pays_id is not None:
        fields.append(md(f"*Pays*\nbill #{receipt.pays_id}"))
    blocks: list[Block] = [
        section(f"*Purchase #{receipt.id}*: {escape(receipt.description)}", "title"),
        SectionBlock(fields=fields),
    ]
    items = item_lines(receipt)
    if items:
        blocks += sections(f"*Items*\n{items}")
    blocks += sections(f"*Journal*\n{journal_lines(receipt) or '_no entries_'}")
    if receipt.documents:
        blocks += sections(f"*Documents*\n{document_lines(receipt.documents)}")
    blocks.append(context(status_line(audit), "status"))
    if receipt.payable:
        blocks.append(pay_button(receipt.id))
    if audit.reverses_id is None:
        blocks.append(document_buttons(receipt.id, has_documents=bool(receipt.documents)))
    return text, dicts(blocks)


def summary_line(row: Summary, documents: Sequence[Listed] = ()) -> str:
    """One purchase in a list; with its documents (name, size) when it has any."""
    vendor = f" · {escape(row.vendor)}" if row.vendor else ""
    line = (
        f"*#{row.id}* {row.date.isoformat()} · {escape(row.description)}{vendor} · "
        f"{format_amount(row.total, row.exponent, row.currency)} · _{row.status.value}_ · {who(row.created_by)}"
    )
    if row.due_date is not None:
        line += f" · bill due {row.due_date.isoformat()}, {state_of(row.total, row.paid).value}"
    if documents:
        names = ", ".join(f"{escape(d.name)} ({format_size(d.size)})" for d in documents[:3])
        more = f", +{len(documents) - 3} more" if len(documents) > 3 else ""
        line += f"\n{documents_summary(documents)}: {names}{more}"
    return line


def page_button(kind: str, offset: int, label: str) -> ButtonElement:
    return ButtonElement(
        action_id=f"{ACTION_PAGE}_{'next' if label.startswith('Next') else 'prev'}",
        text=plain(label),
        value=json.dumps({"k": kind, "o": offset}),
    )


def read_page_value(value: str | None) -> tuple[str, int]:
    """(list kind, offset) from a page button's value; a malformed value starts over."""
    try:
        data = json.loads(value or "{}")
        kind, offset = str(data["k"]), int(data["o"])
    except (ValueError, KeyError, TypeError):
        return "all", 0
    return (kind if kind in LIST_TITLES else "all"), max(offset, 0)


def list_message(
    page: Page, kind: str, documents: Mapping[int, Sequence[Listed]] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """One page of `/purchase list`, with Previous / Next page buttons carrying the offset, and each
    purchase's documents (`documents` by transaction ID, from db.documents.documents_for)."""
    documents = documents or {}
    title = LIST_TITLES.get(kind, LIST_TITLES["all"])
    if not page.rows:
        text = f"{title}: none." if page.offset == 0 else f"{title}: no more."
        return text, dicts([section(f"*{title}*\nNothing to show.", "list_title")])
    first, last = page.offset + 1, page.offset + len(page.rows)
    text = f"{title}: {first}–{last} of {page.total}"
    blocks: list[Block] = [section(f"*{title}*", "list_title")]
    blocks += [section(summary_line(row, documents.get(row.id, ()))) for row in page.rows]
    blocks.append(context(f"Showing {first}–{last} of {page.total}. `/purchase show ID` for details."))
    buttons = []
    if page.offset > 0:
        buttons.append(page_button(kind, max(page.offset - page.limit, 0), "Previous page"))
    if page.next_offset is not None:
        buttons.append(page_button(kind, page.next_offset, "Next page"))
    if buttons:
        blocks.append(ActionsBlock(block_id="paging", elements=buttons))
    return text, dicts(blocks)
