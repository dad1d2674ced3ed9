"""The WSGI application served in HTTP mode: Slack's endpoint, a health check, and a body limit."""

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request.internals import build_context
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; anything larger is not from Slack.
# A refused body is read and dropped up to this size, so the client (still sending) reads the 413
# instead of a broken pipe; anything larger just has its connection closed.
MAX_DRAIN = 8 * MAX_BODY

StartResponse = Callable[..., Any]


def _reply(start_response: StartResponse, status: str, body: dict[str, Any]) -> Iterable[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class _FormAwareHandler(SlackRequestHandler):
    """Bolt reads a form body that merely contains the word "payload" (say, in a slash command's
    text: `/purchase Payload cables: ...`) as an interactivity payload, finds none and answers 404.
    Read such a body as the form it is; the signature is still checked on the raw body."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt = BoltRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        if not bolt.body and "payload" in bolt.raw_body and not _is_json(bolt.content_type, bolt.raw_body):
            form = dict(parse_qsl(bolt.raw_body, keep_blank_values=True))
            if "payload" not in form:
                bolt.body = form
                bolt.context = build_context(BoltContext({}), form)
        return self.app.dispatch(bolt)


def create_wsgi_app(
    app: App, health: Callable[[], None]
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    slack = _FormAwareHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            try:
                health()
            except DBAPIError:
                return _reply(
                    start_response, "503 Service Unavailable", {"ok": False, "database": "unreachable"}
                )
            return _reply(start_response, "200 OK", {"ok": True})
        if path == EVENTS_PATH and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                _discard(environ["wsgi.input"], min(length, MAX_DRAIN))
                return _reply(
                    start_response, "413 Content Too Large", {"ok": False, "error": "body_too_large"}
                )
            timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
            if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit()):
                # Bolt's signature check would raise on int() and answer 500; it is simply unsigned.
                return _reply(start_response, "401 Unauthorized", {"error": "invalid request"})
            content_type = environ.get("CONTENT_TYPE", "")
            if not content_type.startswith(("application/x-www-form-urlencoded", "application/json")):
                return _reply(
                    start_response, "415 Unsupported Media Type", {"ok": False, "error": "content_type"}
                )
            body = environ["wsgi.input"].read(length)
            if not _well_formed(body, content_type):
                return _reply(start_response, "400 Bad Request", {"ok": False, "error": "malformed_body"})
            environ["wsgi.input"] = io.BytesIO(body)
        return slack(environ, start_response)

    return wsgi


def _discard(stream: Any, length: int) -> None:
    while length > 0:
        chunk = stream.read(min(length, 64 * 1024))
        if not chunk:
            return
        length -= len(chunk)


def _is_json(content_type: str | None, text: str) -> bool:
    """As Bolt decides: a JSON content type, or any body starting with `{`."""
    return (content_type or "").startswith("application/json") or text.startswith("{")


def _well_formed(body: bytes, content_type: str) -> bool:
    """Bolt raises on an undecodable body or on JSON that is not an object; refuse those here
    with a 400 instead of a 500."""
    try:
        text = body.decode()
        if _is_json(content_type, text):
            return isinstance(json.loads(text), dict)
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return payload is None or _envelope_ok(json.loads(payload))
    except ValueError:
        return False


def _envelope_ok(payload: Any) -> bool:
    """The parts of an interactivity payload that Slack always sends and the listeners rely on:
    who (`user.id`), which workspace (`team`, an object or null) and, for a view, its `id` and
    `state`. Anything else is not from Slack; the values inside are the listeners' to judge."""
    if not isinstance(payload, dict):
        return False
    user, team, view = payload.get("user"), payload.get("team"), payload.get("view")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return False
    if team is not None and not (isinstance(team, dict) and isinstance(team.get("id"), (str, type(None)))):
        return False
    if view is None:
        return payload.get("type") not in ("view_submission", "view_closed")
    return (
        isinstance(view, dict)
        and isinstance(view.get("id"), str)
        and isinstance(view.get("state", {}), dict)
        and isinstance(view.get("blocks", []), list)
    )


def database_health(engine: Engine) -> Callable[[], None]:
    def check() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    return check
