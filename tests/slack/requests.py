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

    `typed` maps block_id to a string (text, number, date or the selected option's value) or None.
    Blocks not in `typed` keep their initial value, as in Slack.
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
            option = next((o for o in element["options"] if o["value"] == given), None)
            state: dict[str, Any] = {"type": kind, "selected_option": option}
        elif kind == "datepicker":
            state = {"type": kind, "selected_date": given}
        else:
            state = {"type": kind, "value": given}
        values[block_id] = {element["action_id"]: state}
    return values


def _initial(element: dict[str, Any]) -> Any:
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
