"""What the reject and void flows share: the clicked message, the reason form, and its screens."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from handlers import slack_api
from handlers.blocks.lifecycle import REASON_BLOCK, done_view, read_reason_modal, reason_modal
from handlers.context import Deps
from handlers.in_time import Screens, answer_in_time
from handlers.texts import NOTHING_CHANGED, form_not_opened, not_known_yet
from handlers.usecases.decisions import Change

# The reason form's words, by kind: titles when done, not done and waiting; the waiting text;
# what is not known while the database does not answer; the past participle.
_WORDS = {
    "reject": (
        "Purchase rejected",
        "Not rejected",
        "Rejecting",
        "Recording the rejection...",
        "it was rejected",
        "rejected",
    ),
    "void": (
        "Purchase voided",
        "Not voided",
        "Voiding",
        "Posting the reversal...",
        "it was voided",
        "voided",
    ),
}


def message_ref(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(channel, ts) of the message whose button was clicked; (None, None) from a view."""
    container = body.get("container") or {}
    # An ephemeral answer (`/purchase show`) or a DM (a receipt sent when the form was gone) is not
    # the purchase's channel message: that one is found through the outbox instead.
    if container.get("type") != "message" or container.get("is_ephemeral"):
        return None, None
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
    if not isinstance(channel, str) or channel.startswith("D"):
        return None, None
    return channel, ts


def action_tx(body: dict[str, Any]) -> int | None:
    """The transaction ID a button carries."""
    try:
        return int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def open_reason_form(client: WebClient, body: dict[str, Any], respond: Respond, kind: str, tx: int) -> None:
    """The small modal that asks why (reject or void), remembering which message to update."""
    channel, ts = message_ref(body)
    opened = slack_api.open_view(client, body["trigger_id"], reason_modal(kind, tx, channel=channel, ts=ts))
    if not opened.ok:
        button = kind.capitalize()
        slack_api.tell(client, body, respond, form_not_opened(opened.error, f"click {button}"))


def reason_screens(kind: str, tx: int, deadline: float) -> Screens[Change]:
    done, not_done, title, waiting, unknown, _ = _WORDS[kind]
    return Screens[Change](
        waiting=done_view(title, f":hourglass_flowing_sand: {waiting}"),
        unknown=done_view(title, not_known_yet(deadline, unknown)),
        shown=lambda change: (
            done_view(done, change.message) if change.ok else done_view(not_done, f":x: {change.message}")
        ),
        failed=lambda _: done_view(not_done, f":x: {NOTHING_CHANGED}"),
        message=lambda change: (change.message, []),
    )


def answer_reason_form(
    deps: Deps,
    ack: Ack,
    client: WebClient,
    body: dict[str, Any],
    kind: str,
    *,
    work: Callable[[int, str, str | None], Change],
    then: Callable[[Change, str | None, str | None], None],
    refusal: Callable[[int], str | None] = lambda _: None,
) -> None:
    """A submitted reason form: checked (errors on the reason field), then `work(tx, reason, channel)`
    is answered in time and `then(change, channel, ts)` updates the clicked message."""
    view = body["view"]
    tx, channel, ts, reason = read_reason_modal(view)
    if tx is None:
        ack(
            response_action="errors",
            errors={REASON_BLOCK: f"This form is damaged; click {kind.capitalize()} again."},
        )
        return
    if not reason:
        ack(response_action="errors", errors={REASON_BLOCK: f"Say why the purchase is {_WORDS[kind][-1]}."})
        return
    refused = refusal(tx)
    if refused is not None:
        ack(response_action="errors", errors={REASON_BLOCK: refused})
        return
    answer_in_time(
        deps,
        ack,
        client,
        view_id=view["id"],
        user=str(body["user"]["id"]),
        work=lambda: work(tx, reason, channel),
        screens=reason_screens(kind, tx, deps.db_deadline),
        then=lambda change: then(change, channel, ts),
    )
