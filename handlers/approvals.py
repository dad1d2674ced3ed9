"""Approve / Reject on a pending purchase's channel message (or the approver's App Home).

Only APPROVERS act, nobody decides their own purchase, and the header's row lock (db.lifecycle)
makes two clicks at once end in exactly one outcome; the other approver is told who decided.
"""

import logging
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db import lifecycle, outbox
from db.errors import AlreadyDecided, LedgerError
from db.queries import header, reversal_of
from db.reports import get_transaction
from handlers.app_home import refresh_homes
from handlers.deps import Deps, deps_of
from handlers.lifecycle_views import (
    ACTION_APPROVE,
    ACTION_REJECT,
    REASON_BLOCK,
    REJECT_CALLBACK,
    Audit,
    already_text,
    channel_message,
    done_view,
    outcome_text,
    read_reason_modal,
    reason_modal,
)
from handlers.permissions import NOT_APPROVER, approver_users, is_approver, refused
from handlers.receipt import Receipt

log = logging.getLogger(__name__)

DB_DOWN = "The ledger database cannot be reached right now, so nothing changed. Please try again in a minute."
T = TypeVar("T")


def register(app: Any) -> None:
    app.action(ACTION_APPROVE)(approve_clicked)
    app.action(ACTION_REJECT)(reject_clicked)
    app.view_submission(REJECT_CALLBACK)(reject_submitted)


# Shared by the lifecycle handlers -------------------------------------------------------------


def message_ref(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, ts) of the message whose button was clicked; (None, None) from a view."""
    container = body.get("container") or {}
    if container.get("type") != "message":
        return None, None
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    return channel, ts


def action_tx(body: dict[str, Any]) -> int | None:
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def tell(client: WebClient, body: dict[str, Any], respond: Respond, text: str) -> None:
    """An ephemeral answer to whoever clicked: via response_url, or a DM when there is none (App Home)."""
    user = str((body.get("user") or {}).get("id") or "")
    try:
        if body.get("response_url"):
            respond(text=text, response_type="ephemeral", replace_original=False)
        elif user:
            client.chat_postMessage(channel=user, text=text)
    except (SlackApiError, OSError) as exc:
        log.warning("could not tell %s: %s", user, slack_error(exc))


def slack_error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error", exc.response.status_code))
    return type(exc).__name__


def open_reason_form(client: WebClient, body: dict[str, Any], respond: Respond, kind: str, tx: int) -> None:
    """The small modal that asks why (reject or void), remembering which message to update."""
    channel, ts = message_ref(body)
    try:
        client.views_open(trigger_id=body["trigger_id"], view=reason_modal(kind, tx, channel=channel, ts=ts))
    except (SlackApiError, OSError) as exc:
        log.warning("%s modal did not open: %s", kind, slack_error(exc))
        button = kind.capitalize()
        tell(
            client,
            body,
            respond,
            f"The form could not open ({slack_error(exc)}); please click {button} again.",
        )


def load_state(session: Session, transaction_id: int) -> tuple[Receipt, Audit]:
    h = get_transaction(session, transaction_id)
    return Receipt.of(h), Audit.of(h, reversal_of(session, transaction_id))


def current_audit(deps: Deps, transaction_id: int) -> Audit | None:
    with deps.sessions.begin() as session:
        h = header(session, transaction_id)
        return None if h is None else Audit.of(h, reversal_of(session, transaction_id))


def update_message(
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
    try:
        if channel and ts:
            client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        elif deps.channel and post_if_unknown:
            client.chat_postMessage(channel=deps.channel, text=text, blocks=blocks, unfurl_links=False)
    except (SlackApiError, OSError) as exc:
        log.warning("channel message of transaction %s not updated: %s", receipt.id, slack_error(exc))


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


def dm(client: WebClient, user: str | None, text: str) -> None:
    if not user or user[:1] not in ("U", "W"):
        return
    try:
        client.chat_postMessage(channel=user, text=text)
    except (SlackApiError, OSError) as exc:
        log.warning("could not tell %s: %s", user, slack_error(exc))


def answer_in_time(
    deps: Deps,
    ack: Ack,
    client: WebClient,
    view_id: str,
    work: Callable[[], T],
    waiting: dict[str, Any],
    view_of: Callable[[T | Exception], dict[str, Any]],
    then: Callable[[T | Exception], None],
) -> None:
    """Answer a view_submission with `view_of(outcome of work)` within Slack's 3 seconds.

    `work` runs on the worker pool. If it is quick, the outcome goes in the acknowledgement; if not,
    the acknowledgement shows `waiting` and the outcome follows by views.update. `then` runs last,
    for what the user need not wait for (channel messages, Home tabs).
    """
    future = deps.executor.submit(work)
    acked = False

    def finish(result: T | Exception) -> None:
        shown = view_of(result)
        if acked:
            try:
                client.views_update(view_id=view_id, view=shown)
            except (SlackApiError, OSError) as exc:
                log.warning("outcome not shown: %s", slack_error(exc))
        else:
            ack(response_action="update", view=shown)
        then(result)

    try:
        result: T | Exception = future.result(timeout=deps.ack_budget)
    except FutureTimeout:
        acked = True
        ack(response_action="update", view=waiting)
        try:
            result = future.result(timeout=deps.db_deadline)
        except FutureTimeout:

            def done(f: "Future[T]") -> None:
                error = f.exception()
                if error is None:
                    finish(f.result())
                else:
                    finish(error if isinstance(error, Exception) else Exception(error))

            future.add_done_callback(done)
            return
        except Exception as exc:
            result = exc
    except Exception as exc:
        result = exc
    finish(result)


# Approve ---------------------------------------------------------------------------------------


def approver_acting(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, what: str
) -> tuple[str, int] | None:
    """(user, transaction) when an approver clicked a button on a transaction; else tell why not."""
    user = str(body["user"]["id"])
    tx = action_tx(body)
    if tx is None:
        return None
    if not is_approver(deps, client, user):
        tell(client, body, respond, refused(user, f"{what} of transaction {tx}", NOT_APPROVER))
        return None
    return user, tx


def approve_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    deps = deps_of(context)
    acting = approver_acting(deps, client, body, respond, "approval")
    if acting is None:
        return
    user, tx = acting
    try:
        with deps.sessions.begin() as session:
            lifecycle.approve(session, tx, by=user, clock=deps.clock)
            receipt, audit = load_state(session, tx)
    except AlreadyDecided:
        now = current_audit(deps, tx)
        tell(client, body, respond, already_text(now) if now else f"Purchase #{tx} was already decided.")
        return
    except LedgerError as exc:
        tell(client, body, respond, refused(user, f"approval of transaction {tx}", str(exc)))
        return
    except DBAPIError:
        log.warning("approval of %s failed: database error", tx, exc_info=True)
        tell(client, body, respond, DB_DOWN)
        return
    channel, ts = message_ref(body)
    after_decision(deps, client, receipt, audit, channel, ts, actor=user)


def after_decision(
    deps: Deps,
    client: WebClient,
    receipt: Receipt,
    audit: Audit,
    channel: str | None,
    ts: str | None,
    *,
    actor: str,
) -> None:
    """The channel message shows the decision, the requester hears it, the Home tabs follow."""
    update_message(deps, client, receipt, audit, channel, ts)
    dm(client, audit.created_by, outcome_text(audit, receipt.description, receipt.total))
    refresh_homes(deps, client, [audit.created_by, actor, *approver_users(deps, client)])


# Reject ----------------------------------------------------------------------------------------


def reject_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    acting = approver_acting(deps_of(context), client, body, respond, "rejection")
    if acting is not None:
        open_reason_form(client, body, respond, "reject", acting[1])


def reject_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    user = str(body["user"]["id"])
    view = body["view"]
    tx, channel, ts, reason = read_reason_modal(view)
    if tx is None:
        ack(response_action="errors", errors={REASON_BLOCK: "This form is damaged; click Reject again."})
        return
    if not reason:
        ack(response_action="errors", errors={REASON_BLOCK: "Say why the purchase is rejected."})
        return
    if not is_approver(deps, client, user):
        message = refused(user, f"rejection of transaction {tx}", NOT_APPROVER)
        ack(response_action="errors", errors={REASON_BLOCK: message})
        return

    def work() -> tuple[Receipt, Audit]:
        with deps.sessions.begin() as session:
            lifecycle.reject(session, tx, by=user, reason=reason, clock=deps.clock)
            return load_state(session, tx)

    def view_of(result: tuple[Receipt, Audit] | Exception) -> dict[str, Any]:
        if isinstance(result, tuple):
            return done_view(
                "Purchase rejected", f":no_entry: Purchase #{tx} is rejected; the requester is told."
            )
        if isinstance(result, AlreadyDecided):
            now = current_audit(deps, tx)
            return done_view("Already decided", already_text(now) if now else str(result))
        if isinstance(result, LedgerError):
            return done_view("Not rejected", f":x: {result}")
        log.warning("rejection of %s failed: %s", tx, type(result).__name__, exc_info=result)
        return done_view("Not rejected", f":x: {DB_DOWN}")

    def then(result: tuple[Receipt, Audit] | Exception) -> None:
        if isinstance(result, tuple):
            after_decision(deps, client, *result, channel, ts, actor=user)

    waiting = done_view("Rejecting", ":hourglass_flowing_sand: Recording the rejection...")
    answer_in_time(deps, ack, client, view["id"], work, waiting, view_of, then)
