"""Who may do what: PURCHASE_ALLOWED_USERS may record, APPROVERS decide; both accept user groups.

A user group ID (S...) is expanded with usergroups.users.list and cached briefly (`Deps.groups`).
Every refusal is logged with the user ID and answered with a message saying why.
"""

import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.deps import Deps, deps_of
from handlers.views import CALLBACK_ID

log = logging.getLogger(__name__)

NOT_ALLOWED = (
    "You are not allowed to record purchases. Ask your Slack admin to add you to the bot's "
    "PURCHASE_ALLOWED_USERS."
)
NOT_APPROVER = "Only approvers can approve or reject purchases; you are not one of the bot's APPROVERS."
NOT_VOIDER = "Only the person who recorded a purchase, or an approver, can void it."


def _loader(client: WebClient) -> Callable[[str], frozenset[str]]:
    def load(group: str) -> frozenset[str]:
        response = client.usergroups_users_list(usergroup=group)
        return frozenset(str(u) for u in response.get("users") or [])

    return load


def _members(deps: Deps, client: WebClient, group: str) -> frozenset[str]:
    try:
        return deps.groups.members(group, _loader(client))
    except (SlackApiError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log.warning("user group %s could not be read (%s); treating it as empty", group, error)
        return frozenset()


def in_list(deps: Deps, client: WebClient, user: str, ids: Iterable[str]) -> bool:
    """True when `user` is one of `ids` or a member of a user group among them."""
    ids = tuple(ids)
    if user in ids:
        return True
    return any(user in _members(deps, client, g) for g in ids if g.startswith("S"))


def may_record(deps: Deps, client: WebClient, user: str) -> bool:
    """PURCHASE_ALLOWED_USERS, or everyone when it is unset."""
    return deps.allowed_users is None or in_list(deps, client, user, deps.allowed_users)


def is_approver(deps: Deps, client: WebClient, user: str) -> bool:
    return in_list(deps, client, user, deps.approvers)


def approver_users(deps: Deps, client: WebClient) -> list[str]:
    """Every approver's user ID, groups expanded (for refreshing their App Home)."""
    users: set[str] = set()
    for entry in deps.approvers:
        if entry.startswith("S"):
            users |= _members(deps, client, entry)
        else:
            users.add(entry)
    return sorted(users)


def refused(user: str, action: str, message: str) -> str:
    """Log a refusal with the user ID; returns the message for the user."""
    log.warning("refused %s for user %s: %s", action, user, message)
    return message


def guard_submission(
    body: dict[str, Any], client: WebClient, context: BoltContext, ack: Ack, next: Callable[[], Any]
) -> Any:
    """Global middleware: a purchase modal submitted by someone not allowed posts nothing."""
    if body.get("type") == "view_submission" and (body.get("view") or {}).get("callback_id") == CALLBACK_ID:
        user = str((body.get("user") or {}).get("id") or "")
        if not may_record(deps_of(context), client, user):
            message = refused(user, "purchase submission", NOT_ALLOWED)
            return ack(response_action="errors", errors={"description": message})
    return next()


def register(app: Any) -> None:
    app.use(guard_submission)
