"""A purchase's documents after it was recorded: the Attach receipt button (receipt, channel
message, `/purchase show`) and `/purchase attach ID` open a small form with a file field; its
submission fetches, checks and attaches the files in one transaction, answered in time. Get
documents sends the stored files to whoever asks, in a direct message."""

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.errors import FieldError
from handlers import slack_api, slack_files
from handlers.blocks.common import escape
from handlers.blocks.documents import (
    ACTION_ATTACH,
    ACTION_GET,
    ATTACH_CALLBACK,
    DOCUMENTS_BLOCK,
    attach_modal,
    read_attach_modal,
)
from handlers.blocks.lifecycle import done_view
from handlers.context import Deps, deps_of
from handlers.in_time import Screens, answer_in_time
from handlers.listeners.reasons import action_tx, message_ref
from handlers.texts import ATTACH_USAGE, NOTHING_CHANGED, form_not_opened, not_known_yet
from handlers.usecases import documents
from handlers.usecases.documents import Attached

_ATTACH = re.compile(r"^attach(?:\s+#?(\d{1,18}))?\s*$", re.IGNORECASE)


def register(app: Any) -> None:
    app.action(ACTION_ATTACH)(attach_clicked)
    app.action(ACTION_GET)(get_clicked)
    app.view_submission(ATTACH_CALLBACK)(attach_submitted)


def documents_subcommand(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, text: str
) -> bool:
    """`/purchase attach ID`: the attach form for purchase ID; False for any other text."""
    match = _ATTACH.match(text)
    if match is None:
        return False
    if match.group(1) is None:
        respond(text=ATTACH_USAGE, response_type="ephemeral")
        return True
    user = str(body.get("user_id") or "")
    tx = int(match.group(1))
    _open_attach_form(
        deps,
        client,
        user,
        tx,
        str(body.get("trigger_id") or ""),
        lambda text: respond(text=text, response_type="ephemeral"),
        channel=None,
        ts=None,
        push=False,
    )
    return True


def attach_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    ack()
    tx = action_tx(body)
    if tx is None:
        return
    user = str((body.get("user") or {}).get("id") or "")
    channel, ts = message_ref(body)
    # A button inside a modal (the receipt) stacks the form on it; elsewhere it opens one.
    push = (body.get("container") or {}).get("type") == "view"
    _open_attach_form(
        deps_of(context),
        client,
        user,
        tx,
        str(body.get("trigger_id") or ""),
        lambda text: slack_api.tell(client, body, respond, text),
        channel=channel,
        ts=ts,
        push=push,
    )


def _open_attach_form(
    deps: Deps,
    client: WebClient,
    user: str,
    tx: int,
    trigger_id: str,
    tell: Callable[[str], object],
    *,
    channel: str | None,
    ts: str | None,
    push: bool,
) -> None:
    try:
        refusal = documents.may_attach(deps, client, user, tx)
    except DBAPIError:
        refusal = None  # the form opens; its submission asks the ledger again
    if refusal is not None:
        tell(f":x: {refusal}")
        return
    view = attach_modal(tx, channel=channel, ts=ts)
    opened = (slack_api.push_view if push else slack_api.open_view)(client, trigger_id, view)
    if not opened.ok:
        tell(form_not_opened(opened.error, "try"))


def attach_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    view = body["view"]
    user = str(body["user"]["id"])
    tx, channel, ts, element = read_attach_modal(view)
    if tx is None:
        ack(
            response_action="errors",
            errors={DOCUMENTS_BLOCK: "This form is damaged; click Attach receipt again."},
        )
        return
    files = slack_files.file_refs(element)
    if not files:
        ack(response_action="errors", errors={DOCUMENTS_BLOCK: "Choose at least one file to attach."})
        return
    too_many = slack_files.too_many(files)
    if too_many is not None:
        ack(response_action="errors", errors={DOCUMENTS_BLOCK: str(too_many)})
        return
    title = f"Purchase #{tx}"
    screens = Screens[Attached](
        waiting=done_view(title, ":hourglass_flowing_sand: Fetching the files and attaching them..."),
        unknown=done_view(title, not_known_yet(deps.db_deadline, "the documents were attached")),
        shown=lambda attached: done_view(
            title,
            attached.message
            if attached.ok
            else f":x: {attached.message} " + " ".join(escape(e.message) for e in attached.errors),
        ),
        failed=lambda _: done_view(title, f":x: {NOTHING_CHANGED}"),
        inline_errors=lambda attached: inline_errors(attached.errors) if attached.errors else None,
        message=lambda attached: (attached.message, []),
    )
    answer_in_time(
        deps,
        ack,
        client,
        view_id=view["id"],
        user=user,
        work=lambda: documents.attach(deps, client, user=user, tx=tx, files=files),
        screens=screens,
        then=lambda attached: documents.after_attach(deps, client, attached, channel, ts, actor=user),
        pool=deps.slack_pool,  # it starts by downloading the files from Slack
    )


def inline_errors(errors: list[FieldError]) -> dict[str, str]:
    """The file field's errors as one message on its block (each names its file)."""
    return {DOCUMENTS_BLOCK: file_message([e.message for e in errors])}


def file_message(problems: list[str]) -> str:
    """Problems with files, each "name: reason", as one message within Slack's room for it."""
    text = "; ".join(problems) + ". Nothing was saved."
    return text if len(text) <= 300 else text[:299] + "…"


def get_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """Get documents: the stored files, uploaded from the ledger into the asker's DM."""
    ack()
    tx = action_tx(body)
    if tx is None:
        return
    user = str((body.get("user") or {}).get("id") or "")
    told = documents.send_documents(deps_of(context), client, user=user, tx=tx)
    slack_api.tell(client, body, respond, told)
