"""`/purchase show ID` and `/purchase list [mine|pending|this month]`: ephemeral Block Kit, paged."""

import datetime as dt
import logging
import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.clock import month_bounds
from db.errors import NotFound
from db.models import Status
from db.queries import PAGE_SIZE, Filter, list_purchases
from handlers.approvals import DB_DOWN, load_state
from handlers.deps import Deps, deps_of
from handlers.lifecycle_views import ACTION_PAGE, LIST_KINDS, list_message, read_page_value, show_message
from handlers.permissions import is_approver, may_record, refused

log = logging.getLogger(__name__)

NOT_READER = (
    "You are not allowed to see the team's purchases. Ask your Slack admin to add you to the bot's "
    "PURCHASE_ALLOWED_USERS."
)
LIST_USAGE = "`/purchase list` takes nothing, `mine`, `pending` or `this month`."


def register(app: Any) -> None:
    app.action(re.compile(f"^{ACTION_PAGE}_(next|prev)$"))(page_clicked)


def may_read(deps: Deps, client: WebClient, user: str) -> bool:
    return may_record(deps, client, user) or is_approver(deps, client, user)


def list_kind(text: str) -> str | None:
    """`""`, `mine`, `pending`, `this month` -> the list kind; None when not a list request."""
    return LIST_KINDS.get(" ".join(text.lower().split()))


def filter_for(kind: str, user: str, today: dt.date) -> Filter:
    if kind == "mine":
        return Filter(created_by=user)
    if kind == "pending":
        return Filter(status=Status.PENDING)
    if kind == "month":
        first, last = month_bounds(today)
        return Filter(date_from=first, date_to=last)
    return Filter()


def show_command(deps: Deps, client: WebClient, user: str, respond: Respond, tx: int) -> None:
    if not may_read(deps, client, user):
        respond(text=refused(user, f"show {tx}", NOT_READER), response_type="ephemeral")
        return
    try:
        with deps.sessions.begin() as session:
            receipt, audit = load_state(session, tx)
    except NotFound:
        respond(text=f"There is no purchase #{tx}.", response_type="ephemeral")
        return
    except DBAPIError:
        log.warning("show %s failed: database error", tx, exc_info=True)
        respond(text=DB_DOWN, response_type="ephemeral")
        return
    text, blocks = show_message(receipt, audit)
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
    try:
        with deps.sessions.begin() as session:
            page = list_purchases(
                session, filter_for(kind, user, deps.clock.today()), offset=offset, limit=PAGE_SIZE
            )
    except DBAPIError:
        log.warning("list %s failed: database error", kind, exc_info=True)
        respond(text=DB_DOWN, response_type="ephemeral", replace_original=False)
        return
    text, blocks = list_message(page, kind)
    respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=replace)


def page_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """Previous / Next page: the same ephemeral message shows the other page."""
    ack()
    kind, offset = read_page_value((body.get("actions") or [{}])[0].get("value"))
    user = str((body.get("user") or {}).get("id") or "")
    list_command(deps_of(context), client, user, respond, kind, offset, replace=True)
