"""A bot process killed (SIGKILL) in the middle of posting leaves no partial transaction, and a
resubmission after the restart posts exactly once."""

import os
import signal
import threading
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import URL

from tests.helpers import until
from tests.serving import serve, slack_bot_env
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _waiting_on_lock(engine: Engine, database: str) -> int:
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND wait_event_type = 'Lock'")
        return int(conn.execute(query, {"db": database}).scalar_one())


def _other_backends(engine: Engine, database: str) -> int:
    engine.dispose()  # our own pooled connections are not the ones we are waiting for
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()")
        return int(conn.execute(query, {"db": database}).scalar_one())


def test_sigkill_mid_posting_leaves_nothing_and_resubmission_posts_once(
    pg_url: URL, pg_engine: Engine, tmp_path: Path
) -> None:
    fake = FakeSlackApi().start()
    env = slack_bot_env(pg_url.render_as_string(hide_password=False), fake, DATABASE_TIMEOUT="30")
    events = f"http://127.0.0.1:{env['PORT']}/slack/events"
    database = str(pg_url.database)
    try:
        with serve(env, tmp_path / "first.log") as process:
            slack.send(events, slack.command_body("Office: 2 Laptop @ 1200", response_url=fake.response_url))
            view = fake.wait_for("views.open")[0].params["view"]
            payload = slack.interaction_body(slack.view_submission(view, "VKILL1"))
            blocker = pg_engine.connect()
            blocker.execute(text("LOCK TABLE journal_entries IN ACCESS EXCLUSIVE MODE"))
            outcomes: list[object] = []

            def submit() -> None:
                try:
                    outcomes.append(slack.send(events, payload))
                except OSError as exc:  # the server died under the request
                    outcomes.append(exc)

            sender = threading.Thread(target=submit)
            sender.start()
            # The header and its items are flushed; the journal entries wait for the lock.
            until(lambda: _waiting_on_lock(pg_engine, database) == 1)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            sender.join(timeout=10)
            # Killed before it could answer, or it had only said "Posting...": never a posted ID.
            assert len(outcomes) == 1
            assert "Posted as transaction" not in str(getattr(outcomes[0], "body", b""))
            blocker.rollback()
            blocker.close()
        until(lambda: _other_backends(pg_engine, database) == 0)
        assert _count(pg_engine, "transaction_headers") == 0
        assert _count(pg_engine, "transaction_details") == 0
        assert _count(pg_engine, "journal_entries") == 0

        with serve(env, tmp_path / "second.log"):
            first = slack.send(events, payload)
            second = slack.send(events, payload)
        assert "Posted as transaction" in str(first.json()["view"])
        assert "Already recorded" in str(second.json()["view"])
        assert _count(pg_engine, "transaction_headers") == 1
        assert _count(pg_engine, "transaction_details") == 1
        assert _count(pg_engine, "journal_entries") == 2
    finally:
        fake.stop()
