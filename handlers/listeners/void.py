"""Void a posted purchase: `/purchase void ID reason...`, or the Void button on its channel message.

The requester or an approver may void; reversing entries and the void mark are one transaction.
A second void is refused with the date and person of the first.
"""

from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers.blocks.lifecycle import ACTION_VOID, VOID_CALLBACK
from handlers.context import Deps, deps_of
from handlers.listeners.reasons import action_tx, answer_reason_form, open_reason_form
from handlers.texts import VOID_USAGE
from handlers.usecases import decisions


def register(app: Any) -> None:
    app.action(ACTION_VOID)(void_clicked)
    app.view_submission(VOID_CALLBACK)(void_submitted)


def void_command(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, tx: int, reason: str
) -> None:
    """`/purchase void ID reason...`, answered ephemerally."""
    user = str(body.get("user_id") or "")
    reason = " ".join(reason.split())
    if not reason:
        respond(text=VOID_USAGE, response_type="ephemeral")
        return
    change = decisions.void(
        deps,
        client,
        user=user,
        tx=tx,
        reason=reason,
        team=body.get("team_id"),
        channel=body.get("channel_id"),
    )
    respond(text=change.message if change.ok else f":x: {change.message}", response_type="ephemeral")
    decisions.after_void(deps, client, change, None, None, actor=user)


def void_clicked(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
    """The Void button (after its confirm dialog): ask why in a small modal."""
    ack()
    tx = action_tx(body)
    if tx is not None:
        open_reason_form(client, body, respond, "void", tx)


def void_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    user = str(body["user"]["id"])
    team = (body.get("team") or {}).get("id")

    def work(tx: int, reason: str, channel: str | None) -> decisions.Change:
        return decisions.void(deps, client, user=user, tx=tx, reason=reason, team=team, channel=channel)

    answer_reason_form(
        deps,
        ack,
        client,
        body,
        "void",
        work=work,
        then=lambda change, channel, ts: decisions.after_void(deps, client, change, channel, ts, actor=user),
    )
