"""Requests exactly as Slack sends them: signed, form-encoded; interactivity as `payload=` JSON."""

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
CHANNEL = "CTEAM"  # the team channel the test bots announce in


@dataclass
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def signature(body: str | bytes, timestamp: str, secret: str = SECRET) -> str:
    """`X-Slack-Signature` for `body` sent at `timestamp`, as Slack computes it with `secret`.

    Pass another secret or an old timestamp to forge a request the bot must refuse.
    """
    signed = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    assert signed is not None  # None only for a missing timestamp
    return signed


def send(
    url: str,
    body: str,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    headers: dict[str, str] | None = None,
    timeout: float = 15.0,
) -> Reply:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    request = urllib.request.Request(url, data=body.encode(), method="POST")
    request.add_header("Content-Type", content_type)
    request.add_header("X-Slack-Request-Timestamp", ts)
    request.add_header("X-Slack-Signature", signature(body, ts, secret))
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, response.read(), time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read(), time.monotonic() - started)


def command_body(text: str = "", *, user: str = "U111", channel: str = "C123", response_url: str = "") -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": "T1",
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": "purchases",
            "user_id": user,
            "user_name": "alice",
            "command": "/purchase",
            "text": text,
            "api_app_id": "A1",
            "response_url": response_url,
            "trigger_id": f"trigger-{time.time_ns()}",
        }
    )


def home_opened_event(user: str) -> dict[str, Any]:
    return {
        "token": "legacy-unused",
        "team_id": "T1",
        "api_app_id": "A1",
        "type": "event_callback",
        "event_id": f"Ev{time.time_ns()}",
        "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home", "event_ts": "1.2"},
    }


def interaction_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload)})


def state_of(view: dict[str, Any], typed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `view.state.values` Slack would send for `view` after the user typed `typed`.

    `typed` maps block_id to a string (text, number, date or the selected option's value) or None;
    for a file input, to a list of Slack file objects. Blocks not in `typed` keep their initial
    value, as in Slack. An external select's option is the one it shows initially when the value
    is that one's, else `{"text": value, "value": value}` (as if the options listener offered it).
    """
    typed = typed or {}
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        block_id, element = block["block_id"], block["element"]
        kind = element["type"]
        given = typed.get(block_id, _initial(element))
        if kind == "static_select":
            options = element.get("options") or [
                o for g in element.get("option_groups", []) for o in g["options"]
            ]
            option = next((o for o in options if o["value"] == given), None)
            state: dict[str, Any] = {"type": kind, "selected_option": option}
        elif kind == "external_select":
            initial = element.get("initial_option")
            if given is None:
                option = None
            elif initial is not None and initial["value"] == given:
                option = initial
            else:
                option = {"text": {"type": "plain_text", "text": str(given)[:75]}, "value": given}
            state = {"type": kind, "selected_option": option}
        elif kind == "file_input":
            state = {"type": kind, "files": given or []}
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": given}
        else:
            state = {"type": kind, "value": given}
        values[block_id] = {element["action_id"]: state}
    return values


def _initial(element: dict[str, Any]) -> Any:
    if element["type"] == "file_input":
        return []
    if "initial_option" in element:
        return element["initial_option"]["value"]
    return element.get("initial_date", element.get("initial_value"))


def view_submission(
    view: dict[str, Any], view_id: str, typed: dict[str, Any] | None = None, *, user: str = "U111"
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "alice", "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{time.time_ns()}",
        "view": {
            **view,
            "id": view_id,
            "hash": f"hash-{view_id}",
            "team_id": "T1",
            "app_id": "A1",
            "state": {"values": state_of(view, typed)},
        },
    }


def block_action(
    view: dict[str, Any], view_id: str, action_id: str, value: str, typed: dict[str, Any] | None = None
) -> dict[str, Any]:
    payload = view_submission(view, view_id, typed)
    payload["type"] = "block_actions"
    payload["container"] = {"type": "view", "view_id": view_id}
    payload["actions"] = [{"type": "button", "action_id": action_id, "value": value, "block_id": "x"}]
    return payload


def message_action(
    response_url: str,
    action_id: str,
    value: str,
    *,
    user: str,
    ts: str = "1700000000.000100",
    block_id: str = "approval",
) -> dict[str, Any]:
    """A button click on a message in the team channel, as Slack sends it."""
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "team_id": "T1"},
        "api_app_id": "A1",
        "trigger_id": f"trigger-{time.time_ns()}",
        "container": {"type": "message", "message_ts": ts, "channel_id": CHANNEL, "is_ephemeral": False},
        "channel": {"id": CHANNEL, "name": "purchases"},
        "message": {"type": "message", "ts": ts, "text": "purchase"},
        "response_url": response_url,
        "actions": [
            {"type": "button", "action_id": action_id, "value": value, "block_id": block_id, "action_ts": "1"}
        ],
    }


def block_suggestion(
    view: dict[str, Any], block_id: str, value: str, *, user: str = "U111", view_id: str = "VSUGGEST"
) -> dict[str, Any]:
    """What Slack sends while someone types `value` into the external select in `block_id` of `view`."""
    return {
        "type": "block_suggestion",
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": "T1"},
        "container": {"type": "view", "view_id": view_id},
        "api_app_id": "A1",
        "token": "legacy-unused",
        "action_id": "value",
        "block_id": block_id,
        "value": value,
        "team": {"id": "T1", "domain": "acme"},
        "view": {**view, "id": view_id, "hash": f"hash-{view_id}", "state": {"values": {}}},
    }


def slack_file(
    file_id: str, name: str, *, size: int = 1024, mimetype: str = "application/pdf"
) -> dict[str, Any]:
    """A file object as Slack puts it in a message or a file input's state (trimmed)."""
    base = f"https://files.slack.com/files-pri/T1-{file_id}"
    return {
        "id": file_id,
        "created": 1_700_000_000,
        "timestamp": 1_700_000_000,
        "name": name,
        "title": name,
        "mimetype": mimetype,
        "filetype": name.rsplit(".", 1)[-1],
        "user": "U111",
        "user_team": "T1",
        "size": size,
        "mode": "hosted",
        "is_external": False,
        "url_private": f"{base}/{name}",
        "url_private_download": f"{base}/download/{name}",
        "permalink": f"https://acme.slack.com/files/U111/{file_id}/{name}",
    }


def message_shortcut(
    text: str | None,
    *,
    user: str = "U111",
    files: list[dict[str, Any]] | None = None,
    channel: str = "C123",
    ts: str = "1700000000.000300",
    response_url: str = "",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """ "Record as purchase" chosen on a message, as Slack sends the message shortcut."""
    message: dict[str, Any] = {"type": "message", "user": "U222", "ts": ts, "team": "T1"}
    if text is not None:
        message["text"] = text
    if files is not None:
        message["files"] = files
        message["upload"] = True
    if thread_ts is not None:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "token": "legacy-unused",
        "action_ts": f"{time.time():.6f}",
        "team": {"id": "T1", "domain": "acme"},
        "user": {"id": user, "username": "alice", "name": "alice", "team_id": "T1"},
        "channel": {"id": channel, "name": "purchases"},
        "callback_id": "record_purchase",
        "trigger_id": f"trigger-{time.time_ns()}",
        "message_ts": ts,
        "message": message,
        "response_url": response_url,
    }
