"""The App Home tab: built for one user from one session, published, and refreshed for everyone a
change concerns (debounced, in the background)."""

import functools
import logging
from collections.abc import Iterable
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.bills import open_bills
from db.documents import documents_for
from db.queries import Filter, awaiting_approval, list_purchases, movements
from handlers import slack_api
from handlers.blocks.home import BILLS_AHEAD, home_view
from handlers.context import Deps
from handlers.usecases.access import is_approver, may_record

log = logging.getLogger(__name__)

RECENT = 10


def build_home(deps: Deps, client: WebClient, user: str) -> dict[str, Any]:
    approver = is_approver(deps, client, user)
    first, last = deps.clock.this_month()
    today = deps.clock.today()
    with deps.sessions.begin() as session:
        recent = list_purchases(session, Filter(created_by=user), limit=RECENT).rows
        awaiting = awaiting_approval(session, user) if approver else None
        balances = movements(session, first, last)
        shown = [row.id for row in recent] + ([row.id for row in awaiting.rows] if awaiting else [])
        # Names and sizes for the list; never the bytes.
        documents = documents_for(session, list(dict.fromkeys(shown)))
        bills_due = open_bills(session, as_of=today, due_by=today + BILLS_AHEAD)
    return home_view(
        recent=recent,
        awaiting=awaiting,
        balances=balances,
        month=first,
        may_record=may_record(deps, client, user),
        documents=documents,
        bills_due=bills_due,
    )


def publish_home(deps: Deps, client: WebClient, user: str) -> bool:
    """Publish `user`'s Home tab; a failure is logged, never raised (the change itself stands)."""
    try:
        view = build_home(deps, client, user)
    except DBAPIError:
        log.warning("App Home of %s not refreshed: database unavailable", user)
        return False
    return slack_api.publish_home(client, user, view).ok


def refresh_homes(deps: Deps, client: WebClient, users: Iterable[str | None]) -> None:
    """Re-publish the Home tab of each (Slack) user, shortly and once per burst, in the background."""
    for user in sorted({u for u in users if u and u[:1] in ("U", "W")}):
        deps.home_refresh.schedule(user, functools.partial(publish_home, deps, client, user))
