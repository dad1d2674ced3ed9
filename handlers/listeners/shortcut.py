"""The message shortcut "Record as purchase": the purchase form, filled in from a message.

The message's text goes through the quick-entry parser; text it cannot read becomes the description.
The message's files are offered as documents: a file input cannot be pre-filled, so they are listed
on the form and travel as IDs in its private_metadata (`ModalMeta.message_files`), with a link to the
message (`ModalMeta.message_link`); the submission reads them back into `FormValues.files`.
"""

import logging
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from handlers.blocks.purchase_form import MAX_DOCUMENTS, FormValues, ModalMeta, SlackFile, message_link
from handlers.context import deps_of
from handlers.listeners.purchase_command import open_form
from handlers.quick_entry import QuickEntryError, parse_quick_entry, unmark
from handlers.texts import FORM_CANNOT_OPEN, NOT_ALLOWED
from handlers.usecases.access import may_record, refused

CALLBACK_ID = "record_purchase"
AGAIN = "use Record as purchase on the message"
MAX_DESCRIPTION = 200
# Files a bot cannot fetch: deleted, hidden by the free plan's limit, or kept outside Slack.
_UNAVAILABLE = ("tombstone", "hidden_by_limit", "external")
NOT_READ = (
    "The message could not be read as a purchase (like `Snacks: 3 Coffee @ 4.50 at Dell from Bank`), "
    "so its text is the description: add the items below."
)


def register(app: Any) -> None:
    app.shortcut({"callback_id": CALLBACK_ID, "type": "message_action"})(record_from_message)


def message_files(message: dict[str, Any]) -> tuple[list[SlackFile], int]:
    """The message's files the bot can fetch (at most 10), and how many others it has."""
    given = message.get("files")
    files: dict[str, SlackFile] = {}
    others = 0
    for data in given if isinstance(given, list) else []:
        file = SlackFile.from_slack(data)
        unavailable = isinstance(data, dict) and (
            data.get("mode") in _UNAVAILABLE or data.get("is_external") is True
        )
        if file is None or unavailable or (file.id not in files and len(files) >= MAX_DOCUMENTS):
            others += 1
        else:
            files.setdefault(file.id, file)
    return list(files.values()), others


def record_from_message(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    logger: logging.Logger,
) -> None:
    # Acknowledge first: the trigger ID works for 3 seconds, and the chart may need the database.
    ack()
    deps = deps_of(context)
    user = str((body.get("user") or {}).get("id") or "")
    if not may_record(deps, client, user):
        respond(
            text=refused(user, "recording a message as a purchase", NOT_ALLOWED), response_type="ephemeral"
        )
        return
    try:
        accounts = deps.chart.get()
    except DBAPIError:
        logger.warning("chart of accounts unavailable", exc_info=True)
        respond(text=FORM_CANNOT_OPEN, response_type="ephemeral")
        return
    message = body.get("message")
    if not isinstance(message, dict):
        message = {}
    text = unmark(str(message.get("text") or ""))
    notices = []
    try:
        values = parse_quick_entry(text, accounts)
    except QuickEntryError:
        values = FormValues(description=text[:MAX_DESCRIPTION] or None)
        if text:
            notices.append(NOT_READ)
    files, others = message_files(message)
    if others:
        notices.append(
            f"{others} of the message's files cannot be attached (deleted, hidden or not in Slack)."
        )
    channel = (body.get("channel") or {}).get("id")
    link = message_link(
        (body.get("team") or {}).get("domain"),
        channel,
        message.get("ts") or body.get("message_ts"),
        message.get("thread_ts"),
    )
    rows = list(range(len(values.items)))
    meta = ModalMeta(
        rows=rows,
        next_row=len(rows),
        channel=channel if isinstance(channel, str) else None,
        message_link=link,
        message_files=files,
    )
    notice = " ".join(notices) or None
    open_form(
        deps, client, respond, str(body["trigger_id"]), accounts, values, meta, again=AGAIN, notice=notice
    )
