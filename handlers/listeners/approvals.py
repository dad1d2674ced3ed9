"""Approve / Reject on a pending purchase's channel message (or the approver's App Home), and the
reason form a rejection asks for. Only APPROVERS act; nobody decides their own purchase."""

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers import slack_api
from handlers.blocks.lifecycle import ACTION_APPROVE, ACTION_REJECT, REJECT_CALLBACK
from handlers.context import deps_of
from handlers.listeners.reasons import action_tx, answer_reason_form, message_ref, open_reason_form
from handlers.texts import NOT_APPROVER
from handlers.usecases import decisions
from handlers.usecases.access import is_approver, refused


def register(app: Any) -> None:
    app.action(ACTION_APPROVE)(approve_clicked)
    app.action(ACTION_REJECT)(reject_clicked)
    app.view_submission(REJECT_CALLBACK)(reject_submitted)


def approve_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    deps = deps_of(context)
    user, tx = str(body["user"]["id"]), action_tx(body)
    if tx is None:
        return
    change = decisions.approve(deps, client, user=user, tx=tx)
    if not change.ok:
        slack_api.tell(client, body, respond, change.message)
        return
    channel, ts = message_ref(body)
    decisions.after_decision(deps, client, change, channel, ts, actor=user)


def reject_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    user, tx = str(body["user"]["id"]), action_tx(body)
    if tx is None:
        return
    if not is_approver(deps_of(context), client, user):
        slack_api.tell(client, body, respond, refused(user, f"rejection of transaction {tx}", NOT_APPROVER))
        return
    open_reason_form(client, body, respond, "reject", tx)


def reject_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    user = str(body["user"]["id"])

    def refusal(tx: int) -> str | None:
        if is_approver(deps, client, user):
            return None
        return refused(user, f"rejection of transaction {tx}", NOT_APPROVER)

    answer_reason_form(
        deps,
        ack,
        client,
        body,
        "reject",
        work=lambda tx, reason, _channel: decisions.reject(deps, client, user=user, tx=tx, reason=reason),
        then=lambda change, channel, ts: decisions.after_decision(
            deps, client, change, channel, ts, actor=user
        ),
        refusal=refusal,
    )
