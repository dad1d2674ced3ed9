"""Talking to Slack's Web API: the client's retry policy, error text, and calls that never raise.

Everything the bot says to Slack goes through here. A failed call is logged with Slack's error
code and reported as a value; what to do about it (retry later, tell the user another way) is the
caller's decision.
"""

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from http.client import HTTPException, HTTPMessage
from typing import IO, Any
from urllib.parse import urlsplit

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


def push_view(client: WebClient, trigger_id: str, view: dict[str, Any]) -> Sent:
    """A modal on top of the one the user is in (a button inside a modal has no room for views.open)."""
    return _call("views.push", client.views_push, trigger_id=trigger_id, view=view)


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


# Files: reading what users uploaded, sending stored documents back.


@dataclass(frozen=True)
class FileInfo:
    """What files.info says of a file: its name and where its bytes are; or why it cannot be had."""

    name: str
    url: str | None = None
    size: int | None = None
    problem: str | None = None


_FILE_ERRORS = {
    "file_not_found": "could not be found in Slack (file_not_found)",
    "file_deleted": "was deleted from Slack (file_deleted)",
    "not_visible": "is not visible to the bot (not_visible): share it in a channel the bot is in",
}


def file_info(client: WebClient, file_id: str, name: str | None = None) -> FileInfo:
    """files.info: the file's name, size and download URL (scope files:read)."""
    shown = name or file_id
    try:
        response = client.files_info(file=file_id)
    except FAILURES as exc:
        error = slack_error(exc)
        log.warning("files.info of %s failed: %s", file_id, error)
        return FileInfo(shown, problem=_FILE_ERRORS.get(error, f"could not be read from Slack ({error})"))
    file = response.get("file") or {}
    url = file.get("url_private_download") or file.get("url_private")
    size = file.get("size")
    return FileInfo(
        str(file.get("name") or shown),
        str(url) if url else None,
        int(size) if isinstance(size, int) else None,
        None if url else "has no download address in Slack",
    )


@dataclass(frozen=True)
class Download:
    """A file's bytes, or why they could not be had (a reason that completes "<name> ...")."""

    content: bytes | None = None
    problem: str | None = None


def trusted_file_host(client: WebClient, url: str) -> bool:
    """Whether the bot's token may be sent to `url`: Slack's own hosts over HTTPS, or the host of
    the Web API the client talks to (SLACK_API_URL). Nowhere else, and never another scheme."""
    parts, api = urlsplit(url), urlsplit(str(client.base_url))
    if (
        parts.scheme == "https"
        and parts.hostname
        and (parts.hostname == "slack.com" or parts.hostname.endswith(".slack.com"))
    ):
        return True
    return parts.scheme in ("http", "https") and (parts.scheme, parts.netloc) == (api.scheme, api.netloc)


class _KeepTokenAtHome(urllib.request.HTTPRedirectHandler):
    """Follows a redirect, but sends the token only where `trusted_file_host` allows it."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not trusted_file_host(self._client, newurl):
            if urlsplit(newurl).scheme not in ("http", "https"):
                return None
            new.remove_header("Authorization")
        return new


TOO_SLOW = "did not download from Slack in time"
_SIGN_IN_PAGE = (
    "came back as a Slack sign-in page instead of the file "
    "(the bot needs the files:read scope and access to the file)"
)


def download(client: WebClient, url: str, *, max_bytes: int, seconds: float) -> Download:
    """GET a file's `url_private_download` with the bot token (`Authorization: Bearer`), within
    `seconds` and at most `max_bytes`. Slack answers a request it will not serve with a sign-in
    page and status 200, so an HTML answer is refused, not stored."""
    if not trusted_file_host(client, url):
        return Download(problem="is not a Slack file address")
    limit = f"{max_bytes / 1_000_000:g} MB"
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {client.token}"})  # noqa: S310
    opener = urllib.request.build_opener(_KeepTokenAtHome(client))
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    try:
        with opener.open(request, timeout=seconds) as response:
            if (response.headers.get_content_type() or "") == "text/html":
                return Download(problem=_SIGN_IN_PAGE)
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                return Download(problem=f"is larger than the {limit} limit")
            got = 0
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunk = response.read(1 << 16)
                if not chunk:
                    break
                got += len(chunk)
                if got > max_bytes:
                    return Download(problem=f"is larger than the {limit} limit")
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        log.warning("download of %s failed: HTTP %s", url, exc.code)
        if exc.code == 404:
            return Download(problem="could not be found in Slack (HTTP 404)")
        return Download(problem=f"could not be downloaded from Slack (HTTP {exc.code})")
    except (TimeoutError, urllib.error.URLError) as exc:
        if isinstance(exc, urllib.error.URLError) and not isinstance(exc.reason, TimeoutError):
            log.warning("download of %s failed: %s", url, exc.reason)
            return Download(problem=f"could not be downloaded from Slack ({exc.reason})")
        log.warning("download of %s did not finish within %g s", url, seconds)
        return Download(problem=TOO_SLOW)
    except (OSError, ValueError, HTTPException) as exc:
        log.warning("download of %s failed: %s", url, exc)
        return Download(problem=f"could not be downloaded from Slack ({type(exc).__name__})")
    content = b"".join(chunks)
    if content.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        return Download(problem=_SIGN_IN_PAGE)
    return Download(content=content)


def open_dm(client: WebClient, user: str) -> tuple[str | None, str | None]:
    """(the D... ID of the bot's direct conversation with `user`, None) or (None, Slack's error);
    files can only be shared to a conversation ID, not to a user ID (scope im:write)."""
    try:
        response = client.conversations_open(users=user)
    except FAILURES as exc:
        log.warning("conversations.open with %s failed: %s", user, slack_error(exc))
        return None, slack_error(exc)
    channel = str((response.get("channel") or {}).get("id") or "")
    return (channel, None) if channel else (None, "no conversation")


def upload_file(
    client: WebClient, channel: str, filename: str, content: bytes, *, comment: str | None = None
) -> Sent:
    """Share a file in `channel` (files_upload_v2: getUploadURLExternal, the upload, then
    completeUploadExternal; scope files:write)."""
    return _call(
        f"file upload of {filename} to {channel}",
        client.files_upload_v2,
        channel=channel,
        file_uploads=[{"content": content, "filename": filename, "title": filename}],
        initial_comment=comment,
    )
