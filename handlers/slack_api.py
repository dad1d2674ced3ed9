"""Talking to Slack's Web API: the client's retry policy, error text, and calls that never raise.

Everything the bot says to Slack goes through here. A failed call is logged with Slack's error
code and reported as a value; what to do about it (retry later, tell the user another way) is the
caller's decision.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler

log = logging.getLogger(__name__)

# What a Web API call raises when Slack refuses (SlackApiError) or cannot be reached (OSError:
# refused connections, timeouts, TLS failures).
FAILURES = (SlackApiError, OSError)

# Slack's own trouble, worth another try later; any other error (channel_not_found,
# not_in_channel, invalid_auth, ...) needs a person to fix something first.
TRANSIENT = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)

NO_ANSWER = "Slack did not answer"


def retry_handlers() -> list[RetryHandler]:
    """The client's retry policy: 429 after its Retry-After (twice), and one retry of a 5xx."""
    return [RateLimitErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=1)]


def make_client(token: str, base_url: str) -> WebClient:
    client = WebClient(token=token, base_url=base_url, timeout=5)
    client.retry_handlers.extend(retry_handlers())
    return client


def slack_error(exc: BaseException) -> str:
    """Slack's error code (`not_in_channel`), its HTTP status, or "Slack did not answer"."""
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error", exc.response.status_code))
    return f"{NO_ANSWER}: {type(exc).__name__}" if isinstance(exc, OSError) else type(exc).__name__


def worth_retrying(exc: BaseException) -> bool:
    """Whether a failed call may succeed later without anyone fixing anything."""
    if isinstance(exc, SlackApiError):
        return slack_error(exc) in TRANSIENT or (exc.response is not None and exc.response.status_code >= 500)
    # A timeout may have landed: sending again risks a second message, never a missing one.
    return isinstance(exc, OSError)


@dataclass(frozen=True)
class Sent:
    """The outcome of a call: ok (with the `ts` of a posted message), or Slack's error code and
    whether trying again later may help."""

    ok: bool
    error: str | None = None
    ts: str | None = None
    retry: bool = False


def _call(what: str, call: Any, **params: Any) -> Sent:
    try:
        response = call(**params)
    except FAILURES as exc:
        log.warning("%s failed: %s", what, slack_error(exc))
        return Sent(False, slack_error(exc), retry=worth_retrying(exc))
    return Sent(True, ts=response.get("ts") if hasattr(response, "get") else None)


def post_message(
    client: WebClient, channel: str, text: str, blocks: Sequence[dict[str, Any]] | None = None
) -> Sent:
    return _call(
        f"chat.postMessage to {channel}",
        client.chat_postMessage,
        channel=channel,
        text=text,
        blocks=blocks,
        unfurl_links=False,
    )


def update_message(
    client: WebClient, channel: str, ts: str, text: str, blocks: Sequence[dict[str, Any]]
) -> Sent:
    return _call(
        f"chat.update of {channel}/{ts}", client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks
    )


def dm(
    client: WebClient, user: str | None, text: str, blocks: Sequence[dict[str, Any]] | None = None
) -> Sent:
    """A direct message to a Slack user (U.../W...); anyone else (a CLI name) is not on Slack."""
    if not user or user[:1] not in ("U", "W"):
        return Sent(False, "not a Slack user")
    return post_message(client, user, text, blocks)


def open_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> Sent:
    return _call("views.open", client.views_open, trigger_id=trigger_id, view=view)


def update_view(client: WebClient, view_id: str, view: dict[str, Any], view_hash: str | None = None) -> Sent:
    """Replace a modal; with `view_hash`, only if the user has not changed it meanwhile (hash_conflict)."""
    return _call("views.update", client.views_update, view_id=view_id, hash=view_hash, view=view)


def publish_home(client: WebClient, user: str, view: dict[str, Any]) -> Sent:
    return _call(f"views.publish for {user}", client.views_publish, user_id=user, view=view)


def group_members(client: WebClient, group: str) -> frozenset[str]:
    """Members of a user group (usergroups.users.list); raises one of FAILURES when Slack fails."""
    response = client.usergroups_users_list(usergroup=group)
    return frozenset(str(u) for u in response.get("users") or [])


def tell(client: WebClient, body: dict[str, Any], respond: Respond, text: str) -> None:
    """An ephemeral answer to whoever clicked: via response_url, or a DM when there is none (App Home)."""
    user = str((body.get("user") or {}).get("id") or body.get("user_id") or "")
    if body.get("response_url"):
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
        except FAILURES as exc:
            log.warning("could not tell %s: %s", user, slack_error(exc))
    elif user:
        dm(client, user, text)
