"""A global middleware: a purchase form submitted by someone not allowed to record posts nothing."""

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from handlers.blocks.purchase_form import CALLBACK_ID
from handlers.context import deps_of
from handlers.texts import NOT_ALLOWED
from handlers.usecases.access import may_record, refused


def register(app: Any) -> None:
    app.use(guard_submission)


def guard_submission(
    body: dict[str, Any], client: WebClient, context: BoltContext, ack: Ack, next: Callable[[], Any]
) -> Any:
    if body.get("type") == "view_submission" and (body.get("view") or {}).get("callback_id") == CALLBACK_ID:
        user = str((body.get("user") or {}).get("id") or "")
        if not may_record(deps_of(context), client, user):
            message = refused(user, "purchase submission", NOT_ALLOWED)
            return ack(response_action="errors", errors={"description": message})
    return next()
