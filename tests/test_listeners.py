"""The listeners in-process: signed requests handed straight to `App.dispatch`, as bolt-python's own
scenario tests do, without an HTTP server in between. The Slack Web API is the fake one; the
database a PostgreSQL of the test's own. The same paths over HTTP are in test_slack_http.py."""

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine

from bot.app import create_app
from db.models import Status, TransactionHeader
from db.posting import Origin
from db.reports import count_rows
from db.session import make_session_factory
from tests.clock import SetClock
from tests.helpers import ZERO_ROWS, item, make_purchase, post
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi
from tests.slack.harness import CHANNEL, bot_settings
from tests.slack.requests import message_action

pytestmark = pytest.mark.postgres

APPROVERS = "U201 U202"
QUICK = "Snacks: 3 Coffee @ 4.50"
FORM = "application/x-www-form-urlencoded"


@dataclass
class Listeners:
    app: App
    fake: FakeSlackApi
    engine: Engine

    def dispatch(self, body: str) -> BoltResponse:
        """`body` signed with the app's signing secret, dispatched as Slack would send it."""
        timestamp = str(int(time.time()))
        signature = SignatureVerifier(slack.SECRET).generate_signature(timestamp=timestamp, body=body)
        assert signature is not None
        headers: dict[str, str | Sequence[str]] = {
            "content-type": FORM,
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": signature,
        }
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def command(self, text: str = "", **kwargs: Any) -> BoltResponse:
        return self.dispatch(slack.command_body(text, response_url=self.fake.response_url, **kwargs))

    def interact(self, payload: dict[str, Any]) -> BoltResponse:
        return self.dispatch(slack.interaction_body(payload))

    def open_modal(self, text: str = "") -> dict[str, Any]:
        before = len(self.fake.calls_to("views.open"))
        response = self.command(text)
        assert response.status == 200, response.body
        view: dict[str, Any] = self.fake.wait_for("views.open", before + 1)[-1].params["view"]
        return view

    def rows(self) -> dict[str, int]:
        with make_session_factory(self.engine).begin() as session:
            return count_rows(session)


@pytest.fixture
def listeners(pg_engine: Engine, fake_slack: FakeSlackApi, clock: SetClock) -> Listeners:
    """The app as serving builds it, approvals from 1000 up, on this test's database and clock."""
    url = pg_engine.url.render_as_string(hide_password=False)
    settings = bot_settings(fake_slack.base_url, url, approval_threshold="1000", approvers=APPROVERS)
    return Listeners(create_app(settings, pg_engine, clock=clock), fake_slack, pg_engine)


def _json(response: BoltResponse) -> Any:
    return json.loads(response.body) if response.body else None


def test_help_answers_with_usage_through_the_response_url(listeners: Listeners) -> None:
    response = listeners.command("help")
    assert response.status == 200
    told = listeners.fake.wait_for("response_url")[0].params
    assert "/purchase" in told["text"]
    assert told["response_type"] == "ephemeral"
    assert listeners.fake.calls_to("views.open") == []


def test_purchase_opens_the_modal(listeners: Listeners) -> None:
    response = listeners.command("")
    assert response.status == 200
    call = listeners.fake.wait_for("views.open")[0]
    assert call.params["trigger_id"].startswith("trigger-")
    view = call.params["view"]
    assert view["callback_id"] == "purchase_modal"
    block_ids = {b.get("block_id") for b in view["blocks"]}
    assert {"description", "date", "payment_account", "currency", "item_0_name"} <= block_ids


def test_submission_posts_and_updates_the_modal(listeners: Listeners) -> None:
    view = listeners.open_modal(QUICK)
    response = listeners.interact(slack.view_submission(view, "VLISTEN1"))
    assert response.status == 200
    body = _json(response)
    assert body["response_action"] == "update", body
    assert "Posted as transaction" in str(body["view"])
    assert listeners.rows()["transaction_headers"] == 1
    note = listeners.fake.wait_for("chat.postMessage")[0].params
    assert note["channel"] == CHANNEL


def test_a_bad_field_is_marked_on_the_form(listeners: Listeners) -> None:
    view = listeners.open_modal(QUICK)
    response = listeners.interact(slack.view_submission(view, "VLISTEN2", {"item_0_unit_price": "-5"}))
    assert response.status == 200
    body = _json(response)
    assert body["response_action"] == "errors", body
    assert "more than zero" in body["errors"]["item_0_unit_price"].lower()
    assert listeners.rows() == ZERO_ROWS
    assert listeners.fake.calls_to("chat.postMessage") == []


def test_approve_by_a_non_approver_is_refused(listeners: Listeners) -> None:
    pending = make_purchase(items=[item("Server", 1, "5000.00", "1500")])
    origin = Origin(source="slack", user="U111", team="T1", channel=CHANNEL)
    tx = post(make_session_factory(listeners.engine), pending, origin, pending=True).id
    response = listeners.interact(
        message_action(listeners.fake.response_url, "approve_purchase", str(tx), user="U999")
    )
    assert response.status == 200
    told = listeners.fake.wait_for("response_url")[0].params
    assert "Only approvers" in told["text"]
    assert listeners.fake.calls_to("chat.update") == []
    with make_session_factory(listeners.engine)() as session:
        assert session.get_one(TransactionHeader, tx).status == Status.PENDING
