"""`/purchase show ID` and `/purchase list [mine|pending|this month]`: ephemeral Block Kit, paged."""

import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from handlers.blocks.browse import ACTION_PAGE, LIST_KINDS, list_message, read_page_value, show_message
from handlers.context import Deps, deps_of
from handlers.texts import NOT_READER, NOTHING_SHOWN
from handlers.usecases import browsing, documents
from handlers.usecases.access import may_read, refused


def register(app: Any) -> None:
    app.action(re.compile(f"^{ACTION_PAGE}_(next|prev)$"))(page_clicked)


def list_kind(text: str) -> str | None:
    """`""`, `mine`, `pending`, `this month` -> the list kind; None when not a list request."""
    return LIST_KINDS.get(" ".join(text.lower().split()))


def show_command(deps: Deps, client: WebClient, user: str, respond: Respond, tx: int) -> None:
    if not may_read(deps, client, user):
        respond(text=refused(user, f"show {tx}", NOT_READER), response_type="ephemeral")
        return
    shown = browsing.show(deps, tx)
    if shown.receipt is None or shown.audit is None:
        respond(text=shown.problem or NOTHING_SHOWN, response_type="ephemeral")
        return
    text, blocks = show_message(shown.receipt, shown.audit)
    respond(text=text, blocks=blocks, response_type="ephemeral")


def list_command(
    deps: Deps,
    client: WebClient,
    user: str,
    respond: Respond,
    kind: str,
    offset: int = 0,
    *,
    replace: bool = False,
) -> None:
    if not may_read(deps, client, user):
        respond(text=refused(user, f"list {kind}", NOT_READER), response_type="ephemeral")
        return
    page = browsing.page(deps, kind, user, offset)
    if page is None:
        respond(text=NOTHING_SHOWN, response_type="ephemeral", replace_original=False)
        return
    text, blocks = list_message(page, kind, documents.listed(deps, [row.id for row in page.rows]))
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace)


def page_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """Previous / Next page: the same ephemeral message shows the other page."""
    ack()
    kind, offset = read_page_value((body.get("actions") or [{}])[0].get("value"))
    user = str((body.get("user") or {}).get("id") or "")
    list_command(deps_of(context), client, user, respond, kind, offset, replace=True)
