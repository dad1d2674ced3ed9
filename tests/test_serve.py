"""`purchase-bot serve` as deployed: gunicorn over HTTP, and Socket Mode against a local WebSocket server."""

import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from tests.serving import BIN, bot_env, serve, slack_bot_env
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi
from tests.slack.socket_server import FakeSocketMode


def _dsn(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def _headers(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar_one())


def test_http_server_serves_slack_and_health(pg_url: URL, pg_engine: Engine, tmp_path: Path) -> None:
    fake = FakeSlackApi().start()
    env = slack_bot_env(_dsn(pg_url), fake, WEB_CONCURRENCY="2")
    port = int(env["PORT"])
    log = tmp_path / "serve.log"
    try:
        with serve(env, log):
            events = f"http://127.0.0.1:{port}/slack/events"
            body = slack.command_body("Snacks: 3 Coffee @ 4.50", response_url=fake.response_url)
            assert slack.send(events, body).status == 200
            view = fake.wait_for("views.open")[0].params["view"]
            reply = slack.send(events, slack.interaction_body(slack.view_submission(view, "VSERVE1")))
            assert reply.status == 200
            assert reply.json()["response_action"] == "update"
            assert "Posted as transaction" in str(reply.json()["view"])
            assert _headers(pg_engine) == 1
            with pytest.raises(urllib.error.HTTPError) as caught:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/nowhere", timeout=5)
            assert caught.value.code == 404
    finally:
        fake.stop()
    lines = log.read_text().splitlines()
    assert any("Booting worker" in line for line in lines)
    # One access-log line per request handled.
    assert sum('"POST /slack/events' in line for line in lines) == 2
    assert any('"GET /healthz' in line for line in lines)
    assert "xoxb-serve-test" not in log.read_text()
    assert slack.SECRET not in log.read_text()


def test_socket_mode_acknowledges_envelopes_and_posts(pg_url: URL, pg_engine: Engine, tmp_path: Path) -> None:
    fake = FakeSlackApi().start()
    socket = FakeSocketMode().start()
    fake.socket_url = socket.url
    env = bot_env(
        DATABASE_URL=_dsn(pg_url),
        SLACK_BOT_TOKEN="xoxb-socket-test",
        SLACK_APP_TOKEN="xapp-socket-test",
        SLACK_API_URL=fake.base_url,
        PURCHASE_CHANNEL="CTEAM",
    )
    try:
        with serve(env, tmp_path / "socket.log", http=False):
            socket.wait_connected()
            assert (
                fake.calls_to("apps.connections.open")[0].headers["authorization"]
                == "Bearer xapp-socket-test"
            )
            command = dict(parse_qsl(slack.command_body("Snacks: 3 Coffee @ 4.50")))
            socket.deliver("env-1", "slash_commands", command)
            assert socket.ack_for("env-1")["envelope_id"] == "env-1"
            view = fake.wait_for("views.open")[0].params["view"]
            envelope = str(uuid.uuid4())
            socket.deliver(envelope, "interactive", slack.view_submission(view, "VSOCKET1"))
            ack = socket.ack_for(envelope)
            assert ack["payload"]["response_action"] == "update"
            assert "Posted as transaction" in str(ack["payload"]["view"])
            assert _headers(pg_engine) == 1
            note = fake.wait_for("chat.postMessage")[0]
            assert note.params["channel"] == "CTEAM"
    finally:
        socket.stop()
        fake.stop()


def test_serve_refuses_bad_settings_with_one_line(tmp_path: Path) -> None:
    cases = {
        "SLACK_BOT_TOKEN": ("not-a-token", "SLACK_BOT_TOKEN: must be a bot token"),
        "PORT": ("99999", "PORT:"),
        "PURCHASE_CHANNEL": ("#general", "PURCHASE_CHANNEL:"),
    }
    for name, (value, expected) in cases.items():
        env = bot_env(**{"SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s", name: value})
        done = subprocess.run(
            [str(BIN), "serve"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=30
        )
        assert done.returncode == 1, done
        assert done.stderr.strip().startswith(f"error: {expected}"), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr
    env = bot_env(SLACK_SIGNING_SECRET="s")
    done = subprocess.run(
        [str(BIN), "serve"], env=env, capture_output=True, text=True, cwd=tmp_path, timeout=30
    )
    assert done.returncode == 1
    assert "SLACK_BOT_TOKEN is not set" in done.stderr
