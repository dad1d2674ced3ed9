"""Database faults through a TCP proxy the test controls: every request is answered in time with
the reason, nothing partial is written, and the bot recovers by itself when the database returns."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from bot.app import make_app_engine
from db.models import Announcement, TransactionDetail, TransactionHeader
from db.reports import verify
from tests.helpers import before_first_insert_into, until
from tests.slack import requests as slack
from tests.slack.harness import Bot, bot_settings, running_bot
from tests.tcp_proxy import TcpProxy

TIMEOUT = 3.0  # DATABASE_TIMEOUT for these tests: statements, locks and the user's wait


@contextmanager
def bot_behind_proxy(pg_url: URL) -> Iterator[tuple[Bot, TcpProxy]]:
    proxy = TcpProxy(pg_url.host or "127.0.0.1", pg_url.port or 5432).start()
    proxied = pg_url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    # Only the engine is taken from these settings; running_bot brings its own fake Slack API.
    settings = bot_settings("http://127.0.0.1:9/api/", proxied, database_timeout=TIMEOUT)
    engine = make_app_engine(settings)
    try:
        with running_bot(engine, database_timeout=TIMEOUT) as bot:
            yield bot, proxy
    finally:
        engine.dispose()
        proxy.stop()


def _modal(bot: Bot, proxy: TcpProxy) -> tuple[dict[str, Any], str]:
    return bot.open_modal("Office: 2 Laptop @ 1200, 1 Mouse @ 25.50")


def _posted_id(body: dict[str, Any]) -> int | None:
    text = str(body.get("view", ""))
    if "Posted as transaction" not in text and "Already recorded" not in text:
        return None
    return int(text.split("transaction *#")[1].split("*")[0])


def _final_text(bot: Bot, reply: slack.Reply, before: int) -> str:
    """What the user ends up seeing: the ack's view, or the views.update that followed "Posting..."."""
    body = reply.json()
    shown = str(body.get("view", body))
    if "Posting" in shown:
        shown = str(bot.fake.wait_for("views.update", before + 1, timeout=TIMEOUT * 4)[before].params["view"])
    return shown


def _announced(engine: Engine) -> int:
    with Session(engine) as s:
        return len(
            s.scalars(select(Announcement.transaction_id).where(Announcement.sent_at.is_not(None))).all()
        )


def _books_sound(engine: Engine) -> None:
    with Session(engine) as s:
        assert verify(s) == []
        orphans = s.scalars(
            select(TransactionHeader.id).where(
                ~select(TransactionDetail.id)
                .where(TransactionDetail.transaction_id == TransactionHeader.id)
                .exists()
            )
        ).all()
        assert orphans == []


def test_connection_cut_after_the_header_flush_writes_nothing(pg_url: URL, pg_engine: Engine) -> None:
    with bot_behind_proxy(pg_url) as (bot, proxy):
        view, view_id = _modal(bot, proxy)
        cuts: list[int] = []

        def cut(_cursor: Any) -> None:
            cuts.append(1)
            proxy.cut()

        # The header is flushed (it has its ID); the connection dies as its items are sent.
        with before_first_insert_into("transaction_details", cut):
            reply = bot.submit(view, view_id)
        assert reply.status == 200
        assert reply.seconds < 3
        assert cuts == [1]
        shown = _final_text(bot, reply, 0)
        assert "could not be reached, so nothing was saved" in shown
        with pg_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar() == 0
        # No restart: the same form, submitted again, posts exactly once.
        again = bot.submit(view, view_id)
        assert _posted_id(again.json()) is not None
        _books_sound(pg_engine)
        with pg_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar() == 1


def test_connection_cut_during_commit_is_reported_honestly_and_retry_posts_once(
    pg_url: URL, pg_engine: Engine
) -> None:
    with bot_behind_proxy(pg_url) as (bot, proxy):
        view, view_id = _modal(bot, proxy)
        cuts: list[int] = []

        def before_commit(session: Session) -> None:
            if not cuts and not session.in_nested_transaction():
                cuts.append(1)
                proxy.cut()

        event.listen(Session, "before_commit", before_commit)
        try:
            reply = bot.submit(view, view_id)
        finally:
            event.remove(Session, "before_commit", before_commit)
        assert reply.status == 200
        assert cuts == [1]
        shown = _final_text(bot, reply, 0)
        assert "not certain the purchase was recorded" in shown
        again = bot.submit(view, view_id)
        assert _posted_id(again.json()) is not None
        third = bot.submit(view, view_id)
        assert "Already recorded" in str(third.json()["view"])
        _books_sound(pg_engine)
        with pg_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar() == 1


def test_database_down_for_ten_seconds_during_load(pg_url: URL, pg_engine: Engine) -> None:
    with bot_behind_proxy(pg_url) as (bot, proxy):
        template, _ = _modal(bot, proxy)
        results: list[tuple[str, slack.Reply]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(number: int) -> None:
            n = 0
            while not stop.is_set():
                view_id = f"VLOAD-{number}-{n}"
                reply = bot.submit(template, view_id)
                with lock:
                    results.append((view_id, reply))
                n += 1
                time.sleep(0.05)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(2)
        proxy.down()
        time.sleep(10)
        proxy.up()
        time.sleep(3)
        stop.set()
        for t in threads:
            t.join(timeout=30)

        assert len(results) > 40
        assert all(r.status == 200 for _, r in results)
        assert max(r.seconds for _, r in results) < 3
        posted = {view_id: _posted_id(r.json()) for view_id, r in results}
        refused = [v for v, r in results if "nothing was saved" in str(r.json())]
        assert refused, "the outage should have refused some submissions"
        # Recovery without a restart: submissions after the outage post again.
        last = results[-8:]
        assert any(_posted_id(r.json()) for _, r in last)
        time.sleep(TIMEOUT + 1)  # let late outcomes of in-flight requests settle
        with Session(pg_engine) as s:
            rows = s.execute(select(TransactionHeader.idempotency_key, TransactionHeader.id)).all()
            stored = {key: tx for key, tx in rows}
        for view_id, tx in posted.items():
            if tx is not None:
                assert stored[f"slack:T1:{view_id}"] == tx
        for view_id in refused:
            assert f"slack:T1:{view_id}" not in stored
        _books_sound(pg_engine)


def test_stalled_connection_answers_in_time_then_delivers_the_outcome(pg_url: URL, pg_engine: Engine) -> None:
    with bot_behind_proxy(pg_url) as (bot, proxy):
        view, view_id = _modal(bot, proxy)
        bot.submit(*_modal(bot, proxy))  # one purchase, so pooled connections exist and are warm
        # ... and its channel message is settled, so the stall catches the next posting mid-way
        # on a connection just used, not a connection check-out (that is a database gone, below).
        until(lambda: _announced(pg_engine) == 1)
        bot.fake.clear()
        proxy.stall()
        try:
            reply = bot.submit(view, view_id)
            assert reply.status == 200
            assert reply.seconds < 3
            assert "Posting" in str(reply.json()["view"])
            waiting = bot.fake.wait_for("views.update", 1, timeout=TIMEOUT * 3)[0].params
            assert "not known yet" in str(waiting["view"])
        finally:
            proxy.unstall()
        final = bot.fake.wait_for("views.update", 2, timeout=TIMEOUT * 4)[1].params
        assert final["view_id"] == view_id
        assert "Posted as transaction" in str(final["view"])
        again = bot.submit(view, view_id)
        assert "Already recorded" in str(again.json()["view"])
        _books_sound(pg_engine)
        with pg_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar() == 2


@pytest.mark.parametrize("seconds", [TIMEOUT + 1])
def test_a_lock_held_too_long_times_out_with_nothing_written(
    pg_url: URL, pg_engine: Engine, seconds: float
) -> None:
    with bot_behind_proxy(pg_url) as (bot, proxy):
        view, view_id = _modal(bot, proxy)
        with pg_engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE journal_entries IN ACCESS EXCLUSIVE MODE"))
            reply = bot.submit(view, view_id)
            assert reply.status == 200
            assert reply.seconds < 3
            shown = _final_text(bot, reply, 0)
            time.sleep(0.1)
            blocker.rollback()
        assert "too busy to answer in time, so nothing was saved" in shown
        assert seconds > TIMEOUT
        time.sleep(1)
        with pg_engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM transaction_headers")).scalar() == 0
        again = bot.submit(view, view_id)
        assert _posted_id(again.json()) is not None
