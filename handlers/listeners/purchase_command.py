"""`/purchase`: open the form (empty, or filled from quick-entry text), show help, or dispatch
`show ID`, `void ID reason...` and `list [mine|pending|this month]`."""

import logging
import re
from collections.abc import Sequence
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from handlers import slack_api
from handlers.blocks.purchase_form import FormValues, ModalMeta, build_purchase_modal
from handlers.caches import AccountOption
from handlers.context import Deps, deps_of
from handlers.listeners.browse import list_command, list_kind, show_command
from handlers.listeners.documents import documents_subcommand
from handlers.listeners.payments import is_pay_command, pay_command
from handlers.listeners.void import void_command
from handlers.quick_entry import QuickEntryError, parse_quick_entry
from handlers.texts import (
    FORM_CANNOT_OPEN,
    LIFECYCLE_USAGE,
    LIST_USAGE,
    NOT_ALLOWED,
    USAGE,
    VOID_USAGE,
    form_not_opened,
)
from handlers.usecases.access import may_record, refused

COMMAND = "/purchase"
_BY_ID = re.compile(r"^(show|void)\s+#?(\d{1,18})(?:\s+(.*))?$", re.IGNORECASE)


def register(app: Any) -> None:
    app.command(COMMAND)(open_purchase)


def dispatch_subcommand(
    deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, text: str
) -> bool:
    """`show ID`, `void ID reason...`, `list [mine|pending|this month]`, `attach ID`, `pay ID ...`;
    False for anything else."""
    if documents_subcommand(deps, client, body, respond, text):
        return True
    if is_pay_command(text):
        pay_command(deps, client, body, respond, text)
        return True
    user = str(body.get("user_id") or "")
    match = _BY_ID.match(text)
    if match:
        verb, tx, rest = match.group(1).lower(), int(match.group(2)), match.group(3) or ""
        if verb == "show":
            show_command(deps, client, user, respond, tx)
        else:
            void_command(deps, client, body, respond, tx, rest)
        return True
    if text.lower() == "void" or text.lower().startswith("void "):
        respond(text=VOID_USAGE, response_type="ephemeral")
        return True
    first, _, rest = text.partition(" ")
    if first.lower() == "list":
        kind = list_kind(rest)
        if kind is None:
            respond(text=LIST_USAGE, response_type="ephemeral")
        else:
            list_command(deps, client, user, respond, kind)
        return True
    return False


def open_purchase(
    ack: Ack,
    body: dict[str, Any],
    client: WebClient,
    context: BoltContext,
    respond: Respond,
    logger: logging.Logger,
) -> None:
    # Acknowledge first: everything below may wait on the database or on Slack.
    ack()
    deps = deps_of(context)
    text = " ".join(str(body.get("text") or "").split())
    user = str(body.get("user_id") or "")
    if text.lower() in ("help", "?", "-h", "--help"):
        respond(text=f"{USAGE}\n\n{LIFECYCLE_USAGE}", response_type="ephemeral")
        return
    if dispatch_subcommand(deps, client, body, respond, text):
        return
    if not may_record(deps, client, user):
        respond(text=refused(user, "opening the purchase form", NOT_ALLOWED), response_type="ephemeral")
        return
    try:
        accounts = deps.chart.get()
    except DBAPIError:
        logger.warning("chart of accounts unavailable", exc_info=True)
        respond(text=FORM_CANNOT_OPEN, response_type="ephemeral")
        return
    values = FormValues()
    if text:
        try:
            values = parse_quick_entry(text, accounts)
        except QuickEntryError as exc:
            respond(text=f":warning: {exc}\n\n{USAGE}", response_type="ephemeral")
            return
    rows = list(range(len(values.items)))
    meta = ModalMeta(rows=rows, next_row=len(rows), channel=body.get("channel_id"))
    open_form(deps, client, respond, str(body["trigger_id"]), accounts, values, meta, again=f"run {COMMAND}")


def open_form(
    deps: Deps,
    client: WebClient,
    respond: Respond,
    trigger_id: str,
    accounts: Sequence[AccountOption],
    values: FormValues,
    meta: ModalMeta,
    *,
    again: str,
    notice: str | None = None,
) -> None:
    """Open the purchase form (with `/purchase`, or the "Record as purchase" shortcut); if Slack
    refuses, tell the user to `again`."""
    view = build_purchase_modal(
        accounts,
        values=values,
        meta=meta,
        default_currency=deps.default_currency,
        today=deps.clock.today(),
        notice=notice,
    )
    opened = slack_api.open_view(client, trigger_id, view)
    if not opened.ok:
        respond(text=form_not_opened(opened.error, again), response_type="ephemeral")
