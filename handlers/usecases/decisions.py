"""Approve, reject and void: each in one transaction of the ledger (db.lifecycle), returning an
outcome the listener shows; then the channel message, the requester and the Home tabs follow.

The header's row lock makes two clicks at once end in exactly one outcome; the other person is
told who decided and when.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db import lifecycle
from db.errors import AlreadyDecided, LedgerError
from db.posting import Origin
from db.queries import header
from handlers import slack_api
from handlers.blocks.common import escape
from handlers.blocks.lifecycle import already_text, outcome_text
from handlers.context import Deps
from handlers.receipt import Audit, Receipt
from handlers.texts import NOT_APPROVER, NOT_VOIDER, NOTHING_CHANGED, no_purchase
from handlers.usecases.access import approver_users, is_approver, refused
from handlers.usecases.home import refresh_homes
from handlers.usecases.purchases import current_audit, load_state, show_in_channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """What became of an approval, rejection or void: done (with the purchase as it now stands),
    or the reason nothing changed, in words for the person who asked."""

    ok: bool
    message: str
    receipt: Receipt | None = None
    audit: Audit | None = None


def _change(
    deps: Deps,
    user: str,
    what: str,
    tx: int,
    act: Callable[[Session], str | None],
    done: Callable[[Audit], str],
) -> Change:
    """Run `act` and read the new state in one transaction; `act` returns a refusal, or None."""
    try:
        with deps.sessions.begin() as session:
            refusal = act(session)
            if refusal is not None:
                return Change(False, refusal)
            receipt, audit = load_state(session, tx)
    except AlreadyDecided as exc:
        log.warning("refused %s of transaction %s for user %s: already decided", what, tx, user)
        now = current_audit(deps, tx)
        return Change(False, already_text(now) if now else escape(str(exc)))
    except LedgerError as exc:
        return Change(False, refused(user, f"{what} of transaction {tx}", str(exc)))
    except DBAPIError:
        log.warning("%s of %s failed: database error", what, tx, exc_info=True)
        return Change(False, NOTHING_CHANGED)
    return Change(True, done(audit), receipt, audit)


def approve(deps: Deps, client: WebClient, *, user: str, tx: int) -> Change:
    if not is_approver(deps, client, user):
        return Change(False, refused(user, f"approval of transaction {tx}", NOT_APPROVER))

    def act(session: Session) -> None:
        lifecycle.approve(session, tx, by=user, clock=deps.clock)

    return _change(
        deps,
        user,
        "approval",
        tx,
        act,
        lambda _: f":white_check_mark: Purchase #{tx} is approved and posted.",
    )


def reject(deps: Deps, client: WebClient, *, user: str, tx: int, reason: str) -> Change:
    if not is_approver(deps, client, user):
        return Change(False, refused(user, f"rejection of transaction {tx}", NOT_APPROVER))

    def act(session: Session) -> None:
        lifecycle.reject(session, tx, by=user, reason=reason, clock=deps.clock)

    return _change(
        deps,
        user,
        "rejection",
        tx,
        act,
        lambda _: f":no_entry: Purchase #{tx} is rejected; the requester is told.",
    )


def void(
    deps: Deps, client: WebClient, *, user: str, tx: int, reason: str, team: str | None, channel: str | None
) -> Change:
    """The requester or an approver may void; reversing entries and the void mark in one transaction.

    Who recorded it is read first, in a transaction of its own: asking Slack whether the user is an
    approver (a user group lookup) must not hold the void's transaction open."""
    notes: list[str] = []  # where the reversal went, when the purchase is in a closed period
    try:
        with deps.sessions.begin() as session:
            h = header(session, tx)
            owner = None if h is None else (h.created_by or "")
    except DBAPIError:
        log.warning("void of %s failed: database error", tx, exc_info=True)
        return Change(False, NOTHING_CHANGED)
    if owner is None:
        return Change(False, no_purchase(tx))
    if owner != user and not is_approver(deps, client, user):
        return Change(False, refused(user, f"void of transaction {tx}", NOT_VOIDER))

    def act(session: Session) -> None:
        origin = Origin(source="slack", user=user, team=team, channel=channel)
        reversal = lifecycle.void(session, tx, reason=reason, origin=origin, clock=deps.clock)
        notes[:] = [reversal.note] if reversal.note else []

    return _change(
        deps,
        user,
        "void",
        tx,
        act,
        lambda audit: (
            f":wastebasket: Purchase #{tx} is void; reversing transaction #{audit.reversal_id} is posted."
            + "".join(f" {note}" for note in notes)
        ),
    )


def after_decision(
    deps: Deps, client: WebClient, change: Change, channel: str | None, ts: str | None, *, actor: str
) -> None:
    """The channel message shows the decision, the requester hears it, the Home tabs follow."""
    if change.receipt is None or change.audit is None:
        return
    receipt, audit = change.receipt, change.audit
    show_in_channel(deps, client, receipt, audit, channel, ts)
    slack_api.dm(client, audit.created_by, outcome_text(audit, receipt.description, receipt.total))
    refresh_homes(deps, client, [audit.created_by, actor, *approver_users(deps, client)])


def after_void(
    deps: Deps, client: WebClient, change: Change, channel: str | None, ts: str | None, *, actor: str
) -> None:
    """The clicked message (or the purchase's announcement) loses its Void button, the channel is
    told, the Home tabs follow."""
    if change.receipt is None or change.audit is None:
        return
    receipt, audit = change.receipt, change.audit
    show_in_channel(deps, client, receipt, audit, channel, ts, post_if_unknown=False)
    if deps.channel:
        text = (
            f"<@{actor}> voided purchase #{receipt.id} ({escape(receipt.description)}, {escape(receipt.total)}): "
            f"{escape(audit.void_reason or '')}. Reversing transaction #{audit.reversal_id}."
        )
        slack_api.post_message(client, deps.channel, text)
    refresh_homes(deps, client, [audit.created_by, actor])
