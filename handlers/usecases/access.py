"""Who may do what: PURCHASE_ALLOWED_USERS may record, APPROVERS decide, PAYERS pay bills; each
accepts user groups.

A user group ID (S...) is expanded with usergroups.users.list and cached briefly (`Deps.groups`).
Every refusal is logged with the user ID and answered with a message saying why.
"""

import logging
from collections.abc import Iterable
from functools import partial

from slack_sdk import WebClient

from handlers import slack_api
from handlers.context import Deps

log = logging.getLogger(__name__)


def _members(deps: Deps, client: WebClient, group: str) -> frozenset[str]:
    try:
        return deps.groups.members(group, partial(slack_api.group_members, client))
    except slack_api.FAILURES as exc:
        log.warning(
            "user group %s could not be read (%s); treating it as empty", group, slack_api.slack_error(exc)
        )
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


def may_pay(deps: Deps, client: WebClient, user: str) -> bool:
    """PAYERS; unset, the approvers; with neither set, whoever may record purchases."""
    if deps.payers is not None:
        return in_list(deps, client, user, deps.payers)
    if deps.approvers:
        return is_approver(deps, client, user)
    return may_record(deps, client, user)


def may_read(deps: Deps, client: WebClient, user: str) -> bool:
    return may_record(deps, client, user) or is_approver(deps, client, user)


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
