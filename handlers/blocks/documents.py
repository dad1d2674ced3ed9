"""Block Kit for a purchase's documents (receipts, invoices): how they are listed, the Attach
receipt / Get documents buttons, and the small form that attaches more later."""

import json
from collections.abc import Sequence
from typing import Any, Protocol

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, InputBlock
from slack_sdk.models.blocks.block_elements import FileInputElement
from slack_sdk.models.views import View

from db.documents import MAX_FILES, format_size
from handlers.blocks.common import escape, plain, section

ACTION_ATTACH = "attach_documents"
ACTION_GET = "get_documents"
ATTACH_CALLBACK = "attach_documents_form"
# The file field's block ID, in the purchase form and in the attach form alike.
DOCUMENTS_BLOCK = "documents"
ACTIONS_BLOCK = "documents_actions"
# What the file field offers (a convenience only: the ledger sniffs the bytes itself).
FILETYPES = ["pdf", "png", "jpg", "jpeg", "gif", "webp", "heic"]
SHOWN = 20  # documents listed by name; more are counted


class Listed(Protocol):
    """What a list of documents shows of each (db.documents.DocumentInfo)."""

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...


def document_lines(documents: Sequence[Listed]) -> str:
    """One line a document: name and size; empty without documents."""
    lines = [f"• {escape(d.name)} ({format_size(d.size)})" for d in documents[:SHOWN]]
    if len(documents) > SHOWN:
        lines.append(f"…and {len(documents) - SHOWN} more")
    return "\n".join(lines)


def documents_summary(documents: Sequence[Listed]) -> str:
    """A short mention for list rows: ":paperclip: 2 documents"; empty without any."""
    if not documents:
        return ""
    return f":paperclip: {len(documents)} document{'s' if len(documents) != 1 else ''}"


def document_buttons(transaction_id: int, *, has_documents: bool) -> ActionsBlock:
    """Attach receipt (its requester and approvers) and, when there are some, Get documents."""
    value = str(transaction_id)
    buttons = [ButtonElement(action_id=ACTION_ATTACH, text=plain("Attach receipt"), value=value)]
    if has_documents:
        buttons.append(ButtonElement(action_id=ACTION_GET, text=plain("Get documents"), value=value))
    return ActionsBlock(block_id=ACTIONS_BLOCK, elements=buttons)


def file_field(label: str = "Receipts or invoices", *, optional: bool = False) -> InputBlock:
    element = FileInputElement(action_id="value", filetypes=FILETYPES, max_files=MAX_FILES)
    return InputBlock(block_id=DOCUMENTS_BLOCK, label=plain(label), element=element, optional=optional)


def attach_modal(transaction_id: int, *, channel: str | None, ts: str | None) -> dict[str, Any]:
    """The small form that adds documents to purchase #N, remembering which message to update."""
    meta = json.dumps({"tx": transaction_id, "channel": channel, "ts": ts})
    blocks: list[Block] = [
        section(
            f"Add receipts or invoices to purchase #{transaction_id} (PDF or images, at most {MAX_FILES}). "
            "They are kept in the ledger with it."
        ),
        file_field(),
    ]
    view = View(
        type="modal",
        callback_id=ATTACH_CALLBACK,
        title=plain(f"Attach to #{transaction_id}"[: View.title_max_length]),
        submit=plain("Attach"),
        close=plain("Cancel"),
        private_metadata=meta,
        blocks=blocks,
    )
    return view.to_dict()


def read_attach_modal(view: dict[str, Any]) -> tuple[int | None, str | None, str | None, object]:
    """(transaction ID, channel, ts, the file field's state) from a submitted attach form."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        tx = int(meta["tx"])
    except (ValueError, KeyError, TypeError):
        meta, tx = {}, None
    state = ((view.get("state") or {}).get("values") or {}).get(DOCUMENTS_BLOCK) or {}
    channel, ts = meta.get("channel"), meta.get("ts")
    return (
        tx,
        channel if isinstance(channel, str) else None,
        ts if isinstance(ts, str) else None,
        state.get("value") if isinstance(state, dict) else None,
    )
