"""A purchase's documents after it was recorded: attach more (its requester or an approver), send
them to whoever may see the purchase in a direct message, and list them for pages of purchases.

Files are fetched from Slack before the transaction that attaches them begins, and the stored
bytes are read from the ledger (so a purchase's receipts outlive Slack's copy) one document at a
time, each in its own short session, never while a Slack call is waiting.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.documents import (
    DocumentInfo,
    InvalidDocument,
    attach_documents,
    documents_for,
    documents_of,
    read_document,
)
from db.errors import FieldError, LedgerError, NotFound
from db.queries import header
from handlers import slack_api, slack_files
from handlers.blocks.common import escape
from handlers.context import Deps
from handlers.receipt import Audit, Receipt
from handlers.texts import NOT_READER, NOTHING_CHANGED, NOTHING_SHOWN, no_purchase
from handlers.usecases.access import is_approver, may_read, refused
from handlers.usecases.home import refresh_homes
from handlers.usecases.purchases import load_state, show_in_channel
from handlers.usecases.recording import DOCUMENTS, document_errors

log = logging.getLogger(__name__)

NOT_ATTACHER = "Only the person who recorded a purchase, or an approver, can attach documents to it."


def may_attach(deps: Deps, client: WebClient, user: str, tx: int) -> str | None:
    """Why `user` may not attach documents to purchase `tx` (None: they may): its requester and
    the approvers may. Raises DBAPIError when the ledger cannot be read."""
    if is_approver(deps, client, user):
        return None
    with deps.sessions.begin() as session:
        h = header(session, tx)
        if h is None:
            return no_purchase(tx)
        if h.reverses_id is not None:
            return f"Transaction #{tx} is the reversal of #{h.reverses_id}; attach documents to #{h.reverses_id}."
        if h.created_by == user:
            return None
    return refused(user, f"attaching documents to transaction {tx}", NOT_ATTACHER)


@dataclass(frozen=True)
class Attached:
    """What became of an attach form: documents attached (the purchase as it now stands), errors
    on the file field (nothing saved), or the reason nothing changed."""

    ok: bool
    message: str
    errors: list[FieldError] = field(default_factory=list)
    receipt: Receipt | None = None
    audit: Audit | None = None
    added: tuple[DocumentInfo, ...] = ()


def attach(
    deps: Deps, client: WebClient, *, user: str, tx: int, files: Sequence[slack_files.FileRef]
) -> Attached:
    """Fetch `files` from Slack, check them, and attach them to purchase `tx` in one transaction."""
    try:
        refusal = may_attach(deps, client, user, tx)
    except DBAPIError:
        log.warning("attach to %s failed: database error", tx, exc_info=True)
        return Attached(False, NOTHING_CHANGED)
    if refusal is not None:
        return Attached(False, refusal)
    fetched = slack_files.fetch(client, files, max_bytes=deps.max_document_bytes, seconds=deps.fetch_deadline)
    errors = document_errors(fetched, deps.max_document_bytes)
    if errors:
        return Attached(False, "Nothing was attached.", errors)
    try:
        with deps.sessions.begin() as session:
            added = attach_documents(
                session,
                tx,
                fetched.documents,
                by=user,
                clock=deps.clock,
                max_bytes=deps.max_document_bytes,
            )
            receipt, audit = load_state(session, tx)
    except InvalidDocument as exc:
        return Attached(False, "Nothing was attached.", [FieldError(DOCUMENTS, str(exc))])
    except NotFound:
        return Attached(False, no_purchase(tx))
    except LedgerError as exc:
        return Attached(False, refused(user, f"attaching documents to transaction {tx}", str(exc)))
    except DBAPIError:
        log.warning("attach to %s failed: database error", tx, exc_info=True)
        return Attached(False, NOTHING_CHANGED)
    names = ", ".join(escape(d.name) for d in added)
    count = len(receipt.documents)
    message = (
        f":paperclip: Attached to purchase #{tx}: {names}. "
        f"It has {count} document{'s' if count != 1 else ''} now."
    )
    return Attached(True, message, receipt=receipt, audit=audit, added=tuple(added))


def after_attach(
    deps: Deps, client: WebClient, attached: Attached, channel: str | None, ts: str | None, *, actor: str
) -> None:
    """The purchase's channel message (the clicked one, else its announcement) lists the new
    documents; the Home tabs follow."""
    if attached.receipt is None or attached.audit is None:
        return
    show_in_channel(deps, client, attached.receipt, attached.audit, channel, ts, post_if_unknown=False)
    refresh_homes(deps, client, [attached.audit.created_by, actor])


def send_documents(deps: Deps, client: WebClient, *, user: str, tx: int) -> str:
    """Upload purchase `tx`'s stored documents into `user`'s direct conversation with the bot
    (conversations.open, then files_upload_v2 to the D... ID); what to tell them."""
    if not may_read(deps, client, user):
        return refused(user, f"documents of transaction {tx}", NOT_READER)
    try:
        with deps.sessions.begin() as session:
            if header(session, tx) is None:
                return no_purchase(tx)
            documents = documents_of(session, tx)
    except DBAPIError:
        log.warning("documents of %s could not be read", tx, exc_info=True)
        return NOTHING_SHOWN
    if not documents:
        return f"Purchase #{tx} has no documents yet."
    channel, error = slack_api.open_dm(client, user)
    if channel is None:
        return f"The documents could not be sent: Slack would not open a direct message ({error})."
    sent, failed = 0, []
    for number, doc in enumerate(documents):
        try:
            with deps.sessions.begin() as session:
                content = b"".join(read_document(session, doc.sha256))
        except (DBAPIError, NotFound):
            log.warning("document %s of %s could not be read", doc.sha256, tx, exc_info=True)
            failed.append(f"{doc.name} (not readable from the ledger)")
            continue
        comment = f"Documents of purchase #{tx}, from the ledger:" if number == 0 else None
        uploaded = slack_api.upload_file(client, channel, doc.name, content, comment=comment)
        if uploaded.ok:
            sent += 1
        else:
            failed.append(f"{doc.name} ({uploaded.error})")
    if not failed:
        return f":paperclip: Sent {sent} document{'s' if sent != 1 else ''} of purchase #{tx} to you in a direct message."
    return (
        f"Sent {sent} of {len(documents)} documents of purchase #{tx} to you in a direct message; "
        f"not sent: {escape(', '.join(failed))}."
    )


def listed(deps: Deps, ids: Sequence[int]) -> dict[int, list[DocumentInfo]]:
    """The documents (names and sizes, never the bytes) of each purchase in a list; none if the
    ledger cannot be read (the list still shows)."""
    if not ids:
        return {}
    try:
        with deps.sessions.begin() as session:
            return documents_for(session, ids)
    except DBAPIError:
        log.warning("documents of a list could not be read", exc_info=True)
        return {}
