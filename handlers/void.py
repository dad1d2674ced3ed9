"""Void a posted purchase: `/purchase void ID reason...`, or the Void button on its channel message.

The requester or an approver may void; db.lifecycle.void posts the reversing entries and marks
the purchase void in one transaction. A second void is refused with the date and person of the first.
"""

import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError

from db import lifecycle
from db.errors import AlreadyDecided, LedgerError
from db.posting import Origin
from db.queries import header
from handlers.app_home import refresh_homes
from handlers.approvals import (
    DB_DOWN,
    action_tx,
    answer_in_time,
    current_audit,
    load_state,
    open_reason_form,
    slack_error,
    update_message,
)
from handlers.deps import Deps, deps_of
from handlers.lifecycle_views import (
    ACTION_VOID,
    REASON_BLOCK,
    VOID_CALLBACK,
    Audit,
    already_text,
    done_view,
    read_reason_modal,
)
from handlers.permissions import NOT_VOIDER, is_approver, refused
from handlers.receipt import Receipt
from handlers.views import escape

log = logging.getLogger(__name__)

VOID_USAGE = (
    "Say which purchase and why: `/purchase void ID reason...`, e.g. `/purchase void 12 typed twice`."
)


def register(app: Any) -> None:
    app.action(ACTION_VOID)(void_clicked)
    app.view_submission(VOID_CALLBACK)(void_submitted)


@dataclass(frozen=True)
class VoidOutcome:
    ok: bool
    message: str
    receipt: Receipt | None = None
    audit: Audit | None = None


def void_purchase(
    deps: Deps, client: WebClient, *, tx: int, user: str, reason: str, team: str | None, channel: str | None
) -> VoidOutcome:
    """Check who may void, then void in one transaction; every refusal is a message, never raised."""
    approver: bool | None = None
    try:
        with deps.sessions.begin() as session:
            h = header(session, tx)
            if h is None:
                return VoidOutcome(False, f"There is no purchase #{tx}.")
            if h.created_by != user:
                approver = is_approver(deps, client, user)
                if not approver:
                    return VoidOutcome(False, refused(user, f"void of transaction {tx}", NOT_VOIDER))
            origin = Origin(source="slack", user=user, team=team, channel=channel)
            lifecycle.void(session, tx, reason=reason, origin=origin, clock=deps.clock)
            receipt, audit = load_state(session, tx)
    except AlreadyDecided as exc:
        now = current_audit(deps, tx)
        message = already_text(now) if now else str(exc)
        log.warning("refused void of transaction %s for user %s: already void", tx, user)
        return VoidOutcome(False, message)
    except LedgerError as exc:
        return VoidOutcome(False, refused(user, f"void of transaction {tx}", str(exc)))
    except DBAPIError:
        log.warning("void of %s failed: database error", tx, exc_info=True)
        return VoidOutcome(False, DB_DOWN)
    message = f":wastebasket: Purchase #{tx} is void; reversing transaction #{audit.reversal_id} is posted."
    return VoidOutcome(True, message, receipt, audit)


def after_void(
    deps: Deps, client: WebClient, outcome: VoidOutcome, user: str, msg_channel: str | None, ts: str | None
) -> None:
    """Tell the channel, update the clicked message (its Void button goes), refresh the Home tabs."""
    receipt, audit = outcome.receipt, outcome.audit
    if receipt is None or audit is None:
        return
    # The clicked message, or else the purchase's announcement, loses its Void button.
    update_message(deps, client, receipt, audit, msg_channel, ts, post_if_unknown=False)
    if deps.channel:
        text = (
            f"<@{user}> voided purchase #{receipt.id} ({escape(receipt.description)}, {escape(receipt.total)}): "
            f"{escape(audit.void_reason or '')}. Reversing transaction #{audit.reversal_id}."
        )
        try:
            client.chat_postMessage(channel=deps.channel, text=text, unfurl_links=False)
        except (SlackApiError, OSError) as exc:
            log.warning("void of %s not announced: %s", receipt.id, slack_error(exc))
    refresh_homes(deps, client, [audit.created_by, user])


def void_command(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, tx: int, reason: str
) -> None:
    """`/purchase void ID reason...`, answered ephemerally."""
    user = str(body.get("user_id") or "")
    reason = " ".join(reason.split())
    if not reason:
        respond(text=VOID_USAGE, response_type="ephemeral")
        return
    outcome = void_purchase(
        deps,
        client,
        tx=tx,
        user=user,
        reason=reason,
        team=body.get("team_id"),
        channel=body.get("channel_id"),
    )
    respond(text=outcome.message if outcome.ok else f":x: {outcome.message}", response_type="ephemeral")
    if outcome.ok:
        after_void(deps, client, outcome, user, None, None)


def void_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """The Void button (after its confirm dialog): ask why in a small modal."""
    ack()
    tx = action_tx(body)
    if tx is None:
        return
    open_reason_form(client, body, respond, "void", tx)


def void_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    user = str(body["user"]["id"])
    team = (body.get("team") or {}).get("id")
    view = body["view"]
    tx, channel, ts, reason = read_reason_modal(view)
    if tx is None:
        ack(response_action="errors", errors={REASON_BLOCK: "This form is damaged; click Void again."})
        return
    if not reason:
        ack(response_action="errors", errors={REASON_BLOCK: "Say why the purchase is voided."})
        return

    def work() -> VoidOutcome:
        return void_purchase(deps, client, tx=tx, user=user, reason=reason, team=team, channel=channel)

    def outcome(result: VoidOutcome | Exception) -> VoidOutcome:
        return VoidOutcome(False, DB_DOWN) if isinstance(result, Exception) else result

    def view_of(result: VoidOutcome | Exception) -> dict[str, Any]:
        if isinstance(result, Exception):
            log.warning("void of %s failed: %s", tx, type(result).__name__, exc_info=result)
        done = outcome(result)
        return done_view(
            "Purchase voided" if done.ok else "Not voided", done.message if done.ok else f":x: {done.message}"
        )

    def then(result: VoidOutcome | Exception) -> None:
        after_void(deps, client, outcome(result), user, channel, ts)

    waiting = done_view("Voiding", ":hourglass_flowing_sand: Posting the reversal...")
    answer_in_time(deps, ack, client, view["id"], work, waiting, view_of, then)
