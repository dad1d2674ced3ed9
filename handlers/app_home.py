"""The App Home tab: published on app_home_opened and again for everyone a change concerns."""

import functools
import logging
from collections.abc import Iterable
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError

from db.clock import month_bounds
from db.queries import Filter, awaiting_approval, list_purchases, movements
from handlers.deps import Deps, deps_of
from handlers.lifecycle_views import home_view
from handlers.permissions import is_approver, may_record

log = logging.getLogger(__name__)

RECENT = 10


def register(app: Any) -> None:
    app.event("app_home_opened")(home_opened)


def home_opened(event: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    publish_home(deps_of(context), client, str(event["user"]))


def build_home(deps: Deps, client: WebClient, user: str) -> dict[str, Any]:
    day = deps.clock.today()
    approver = is_approver(deps, client, user)
    first, last = month_bounds(day)
    with deps.sessions.begin() as session:
        recent = list_purchases(session, Filter(created_by=user), limit=RECENT).rows
        awaiting = awaiting_approval(session, user) if approver else None
        balances = movements(session, first, last)
    return home_view(
        recent=recent,
        awaiting=awaiting,
        balances=balances,
        month=day,
        may_record=may_record(deps, client, user),
    )


def publish_home(deps: Deps, client: WebClient, user: str) -> bool:
    """Publish `user`'s Home tab; a failure is logged, never raised (the change itself stands)."""
    try:
        view = build_home(deps, client, user)
        client.views_publish(user_id=user, view=view)
    except DBAPIError:
        log.warning("App Home of %s not refreshed: database unavailable", user)
        return False
    except (SlackApiError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("App Home of %s not published: %s", user, error)
        return False
    return True


def refresh_homes(deps: Deps, client: WebClient, users: Iterable[str | None]) -> None:
    """Re-publish the Home tab of each (Slack) user, shortly and once per burst, in the background."""
    for user in sorted({u for u in users if u and u[:1] in ("U", "W")}):
        deps.home_refresh.schedule(user, functools.partial(publish_home, deps, client, user))
