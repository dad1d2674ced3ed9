"""The real Bolt app behind a real HTTP server, wired to the fake Slack Web API."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy import Engine

from bot.app import create_app
from bot.settings import Settings
from bot.web import create_wsgi_app, database_health
from db.clock import Clock
from db.reports import count_rows
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi

CHANNEL = slack.CHANNEL


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128  # the default of 5 resets connections under concurrent tests


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def bot_settings(api_url: str, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": "xoxb-test-token",
        "slack_signing_secret": slack.SECRET,
        "slack_api_url": api_url,
        "purchase_channel": CHANNEL,
        **overrides,
    }
    return Settings(_env_file=None, **values)


@contextmanager
def http_server(wsgi_app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, wsgi_app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Bot:
    url: str
    fake: FakeSlackApi
    engine: Engine

    @property
    def events(self) -> str:
        return f"{self.url}/slack/events"

    def command(self, text: str = "", **kwargs: Any) -> slack.Reply:
        body = slack.command_body(text, response_url=self.fake.response_url, **kwargs)
        return slack.send(self.events, body)

    def interact(self, payload: dict[str, Any]) -> slack.Reply:
        return slack.send(self.events, slack.interaction_body(payload))

    def open_modal(self, text: str = "") -> tuple[dict[str, Any], str]:
        """Run /purchase and return the modal the bot opened, with the view ID Slack gave it."""
        before = len(self.fake.calls_to("views.open"))
        reply = self.command(text)
        assert reply.status == 200, reply.body
        call = self.fake.wait_for("views.open", before + 1)[-1]
        return call.params["view"], f"V{before + 1:06d}-{id(call)}"

    def submit(
        self, view: dict[str, Any], view_id: str, typed: dict[str, Any] | None = None, **kw: Any
    ) -> slack.Reply:
        return self.interact(slack.view_submission(view, view_id, typed, **kw))

    def home_opened(self, user: str) -> slack.Reply:
        """The `app_home_opened` event Slack sends when `user` opens the bot's Home tab."""
        return slack.send(
            self.events, json.dumps(slack.home_opened_event(user)), content_type="application/json"
        )

    def published_home(self, user: str, containing: str = "") -> dict[str, Any]:
        """The newest Home tab published for `user` that contains `containing`, waiting for it."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for call in reversed(self.fake.calls_to("views.publish")):
                if call.params.get("user_id") == user and containing in json.dumps(call.params["view"]):
                    return call.params["view"]  # type: ignore[no-any-return]
            time.sleep(0.05)
        raise AssertionError(f"no Home tab published for {user} containing {containing!r}")

    def rows(self) -> dict[str, int]:
        with make_session_factory(self.engine).begin() as session:
            return count_rows(session)


@contextmanager
def running_bot(engine: Engine, *, clock: Clock = CLOCK, **overrides: Any) -> Iterator[Bot]:
    fake = FakeSlackApi().start()
    try:
        url = engine.url.render_as_string(hide_password=False)
        settings = bot_settings(fake.base_url, url, **overrides)
        app = create_app(settings, engine, clock=clock)
        with http_server(create_wsgi_app(app, database_health(engine))) as base:
            yield Bot(base, fake, engine)
    finally:
        fake.stop()


# The article's example purchase, as typed into the modal.
ARTICLE = {
    "description": "Purchase Office Equipment",
    "item_0_name": "Laptop",
    "item_0_quantity": "2",
    "item_0_unit_price": "4000000",
    "item_1_name": "Monitor",
    "item_1_quantity": "4",
    "item_1_unit_price": "500000",
}
