"""A purchase as it stands now, and its message in the team channel kept in step with it."""

import logging
from dataclasses import replace

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db import outbox
from db.documents import documents_of
from db.queries import header, reversal_of
from db.reports import get_transaction
from handlers import slack_api
from handlers.blocks.lifecycle import channel_message
from handlers.context import Deps
from handlers.receipt import Audit, Receipt

log = logging.getLogger(__name__)


def load_state(session: Session, transaction_id: int) -> tuple[Receipt, Audit]:
    """The transaction as its views show it: receipt (with its documents, not their bytes) and audit."""
    h = get_transaction(session, transaction_id)
    receipt = replace(Receipt.of(h), documents=tuple(documents_of(session, transaction_id)))
    return receipt, Audit.of(h, reversal_of(session, transaction_id))


def current_audit(deps: Deps, transaction_id: int) -> Audit | None:
    """Where the transaction stands now (after someone else's decision); None if it is not there."""
    try:
        with deps.sessions.begin() as session:
            h = header(session, transaction_id)
            return None if h is None else Audit.of(h, reversal_of(session, transaction_id))
    except DBAPIError:
        log.warning("could not read transaction %s", transaction_id, exc_info=True)
        return None


def show_in_channel(
    deps: Deps,
    client: WebClient,
    receipt: Receipt,
    audit: Audit,
    channel: str | None,
    ts: str | None,
    *,
    post_if_unknown: bool = True,
) -> None:
    """Show the new state in the channel: edit the clicked message in place, else the purchase's
    announcement (from the outbox), else post a new message (with `post_if_unknown`)."""
    if not (channel and ts):
        channel, ts, waiting = _announced(deps, receipt.id)
        if waiting:
            return  # its announcement is yet to be sent, and shows the state it finds then
    text, blocks = channel_message(receipt, audit)
    if channel and ts:
        slack_api.update_message(client, channel, ts, text, blocks)
    elif deps.channel and post_if_unknown:
        slack_api.post_message(client, deps.channel, text, blocks)


def _announced(deps: Deps, transaction_id: int) -> tuple[str | None, str | None, bool]:
    """(channel, ts) of the purchase's announcement if it was sent, and whether it is still waiting
    to be. Neither for a purchase without one (posted from the CLI, or before a channel was set)."""
    if deps.channel is None:
        return None, None, False
    try:
        with deps.sessions.begin() as session:
            row = outbox.find(session, transaction_id)
            if row is None or row.given_up_at is not None:
                return None, None, False
            return row.channel_id, row.message_ref, row.sent_at is None
    except DBAPIError:
        log.warning("could not look up the announcement of transaction %s", transaction_id, exc_info=True)
        return None, None, False
