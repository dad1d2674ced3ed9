"""Scale-out: three `purchase-bot serve` processes on one PostgreSQL, 2,000 signed submissions from
20 concurrent clients, 10% of them duplicates of an earlier submission sent to another process.

Every distinct purchase is recorded exactly once, every duplicate is answered with the first ID,
every request is acknowledged within Slack's 3 seconds, and the books verify and balance.
"""

import json
import random
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from db.models import Announcement, Document, TransactionDocument, TransactionHeader
from handlers.blocks.purchase_form import FormValues, ItemValues, ModalMeta, build_purchase_modal
from handlers.caches import AccountOption
from tests.clock import BOOKS_DAY
from tests.helpers import until
from tests.samples import pdf, png
from tests.serving import BIN, bot_env, free_port, serve, slack_bot_env
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi

PROCESSES = 3
CLIENTS = 20
REQUESTS = 2000
DUPLICATE_SHARE = 0.10
ACCOUNTS = [AccountOption("1000", "Cash", "asset"), AccountOption("1100", "Inventory", "asset")]


@dataclass
class Sent:
    view_id: str
    server: int
    reply: slack.Reply | None = None
    duplicate_of: str | None = None


def _view(n: int) -> dict[str, Any]:
    values = FormValues(
        description=f"Purchase {n}",
        items=[ItemValues(f"Item {n}", str(1 + n % 5), f"{1 + n % 997}.{n % 100:02d}", "1100")],
    )
    return build_purchase_modal(
        ACCOUNTS, values=values, meta=ModalMeta([0], 1), default_currency="USD", today=BOOKS_DAY
    )


def _posted_id(text: str) -> int | None:
    for marker in ("Posted as transaction *#", "Already recorded as transaction *#"):
        if marker in text:
            return int(text.split(marker)[1].split("*")[0])
    return None


def _unsent(engine: Engine) -> int:
    with Session(engine) as s:
        return len(s.scalars(select(Announcement.transaction_id).where(Announcement.sent_at.is_(None))).all())


def _complaints(logs: Path) -> str:
    """What the bot processes warned about, for a failure message that says why."""
    lines = [
        line
        for log in sorted(logs.glob("bot*.log"))
        for line in log.read_text(errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line
    ]
    return "channel messages missing; the bots logged:\n" + "\n".join(lines[-40:])


def test_three_processes_two_thousand_submissions(pg_url: URL, pg_engine: Engine, tmp_path: Path) -> None:
    fake = FakeSlackApi().start()
    ports = [free_port() for _ in range(PROCESSES)]
    dsn = pg_url.render_as_string(hide_password=False)
    rng = random.Random(20261123)
    sent: list[Sent] = []
    lock = threading.Lock()
    try:
        with ExitStack() as stack:
            for i, port in enumerate(ports):
                env = slack_bot_env(dsn, fake, PORT=str(port))
                stack.enter_context(serve(env, tmp_path / f"bot{i}.log"))

            def one(n: int) -> None:
                with lock:
                    done = [s for s in sent if s.reply is not None and s.duplicate_of is None]
                    duplicate = done and rng.random() < DUPLICATE_SHARE
                    if duplicate:
                        original = rng.choice(done)
                        server = (original.server + 1 + rng.randrange(PROCESSES - 1)) % PROCESSES
                        item = Sent(original.view_id, server, duplicate_of=original.view_id)
                    else:
                        item = Sent(f"VSCALE{n:05d}", rng.randrange(PROCESSES))
                    sent.append(item)
                number = int(item.view_id.removeprefix("VSCALE"))
                payload = slack.interaction_body(slack.view_submission(_view(number), item.view_id))
                item.reply = slack.send(f"http://127.0.0.1:{ports[item.server]}/slack/events", payload)

            started = time.monotonic()
            with ThreadPoolExecutor(CLIENTS) as pool:
                list(pool.map(one, range(REQUESTS)))
            elapsed = time.monotonic() - started
            # Channel messages (and outcomes that went the "Posting..." way) follow the
            # acknowledgements; let the servers finish them before they are stopped.
            distinct = sum(1 for s in sent if s.duplicate_of is None)
            try:
                fake.wait_for("chat.postMessage", distinct, timeout=60)
            except AssertionError:
                raise AssertionError(_complaints(tmp_path)) from None
            # The outbox rows are marked sent just after their messages.
            until(lambda: _unsent(pg_engine) == 0, timeout=30)
            time.sleep(1)  # anything extra (a duplicate announced again) would show up by now

        replies = [s.reply for s in sent if s.reply is not None]
        assert len(replies) == REQUESTS
        assert all(r.status == 200 for r in replies)
        slowest = max(r.seconds for r in replies)
        assert slowest < 3, f"slowest acknowledgement {slowest:.2f}s"

        late = {c.params["view_id"]: str(c.params["view"]) for c in fake.calls_to("views.update")}

        def outcome(s: Sent) -> int | None:
            assert s.reply is not None
            shown = str(s.reply.json()["view"])
            return _posted_id(late.get(s.view_id, "") if "Posting" in shown else shown)

        first_ids = {s.view_id: outcome(s) for s in sent if s.duplicate_of is None}
        duplicates = [s for s in sent if s.duplicate_of is not None]
        assert all(first_ids.values()), "every distinct submission got a transaction ID"
        for d in duplicates:
            assert d.reply is not None
            assert _posted_id(str(d.reply.json()["view"])) == first_ids[d.view_id]
        assert len(duplicates) >= REQUESTS * DUPLICATE_SHARE * 0.7

        with Session(pg_engine) as s:
            rows = s.execute(select(TransactionHeader.idempotency_key, TransactionHeader.id)).all()
            announced = s.execute(select(Announcement.transaction_id, Announcement.sent_at)).all()
        stored = {key: tx for key, tx in rows}
        assert len(stored) == len(first_ids)  # exactly once each: no more, no fewer
        for view_id, tx in first_ids.items():
            assert stored[f"slack:T1:{view_id}"] == tx
        notes = fake.calls_to("chat.postMessage")
        assert len(notes) == len(first_ids)  # duplicates are not announced again
        # ... and the outbox knows it: one row per purchase, each marked sent.
        assert len(announced) == len(first_ids)
        assert {tx for tx, _ in announced} == set(first_ids.values())
        assert all(sent_at is not None for _, sent_at in announced)

        env = bot_env(DATABASE_URL=dsn)
        checked = subprocess.run([str(BIN), "verify"], env=env, capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr
        balance = subprocess.run(
            [str(BIN), "trial-balance", "--json"], env=env, capture_output=True, text=True, timeout=60
        )
        assert balance.returncode == 0, balance.stderr
        assert json.loads(balance.stdout)["balanced"] is True
        print(
            f"\nscale-out: {REQUESTS} requests ({len(first_ids)} distinct, {len(duplicates)} duplicates) "
            f"over {PROCESSES} processes from {CLIENTS} clients in {elapsed:.1f}s "
            f"({REQUESTS / elapsed:.0f}/s); slowest ack {slowest:.2f}s; "
            f"headers stored {len(stored)}; via Posting... {len(late)}"
        )
    finally:
        fake.stop()


def test_a_submission_with_documents_retried_on_other_processes_stores_them_once(
    pg_url: URL, pg_engine: Engine, tmp_path: Path
) -> None:
    """The same form, with two files, submitted at once to three processes (a double click that a load
    balancer spreads, or Slack retrying): one purchase, each document stored and linked once, and
    every process answers with that purchase's ID."""
    fake = FakeSlackApi().start()
    try:
        files = [fake.add_file(pdf("scale"), "invoice.pdf"), fake.add_file(png(7), "photo.png", "image/png")]
        ports = [free_port() for _ in range(PROCESSES)]
        with ExitStack() as stack:
            for i, port in enumerate(ports):
                env = slack_bot_env(pg_url.render_as_string(hide_password=False), fake, PORT=str(port))
                stack.enter_context(serve(env, tmp_path / f"bot{i}.log"))
            payload = slack.interaction_body(slack.view_submission(_view(1), "VDOCS", {"documents": files}))
            with ThreadPoolExecutor(PROCESSES) as pool:
                replies = list(
                    pool.map(lambda port: slack.send(f"http://127.0.0.1:{port}/slack/events", payload), ports)
                )
            assert all(r.status == 200 and r.seconds < 3 for r in replies), replies
            assert all(r.json().get("response_action") == "update" for r in replies), [
                r.json() for r in replies
            ]
            shown = [str(r.json()["view"]) for r in replies]
            if any("Posting" in view for view in shown):
                fake.wait_for("views.update", sum("Posting" in view for view in shown), timeout=30)
            late = [str(c.params["view"]) for c in fake.calls_to("views.update")]
            ids = {_posted_id(view) for view in shown + late} - {None}
        with Session(pg_engine) as s:
            headers = s.scalars(select(TransactionHeader.id)).all()
            stored = s.scalars(select(Document.sha256)).all()
            linked = s.execute(select(TransactionDocument.transaction_id, TransactionDocument.name)).all()
        assert len(headers) == 1
        assert ids == {headers[0]}
        assert len(stored) == 2
        assert sorted(linked) == [(headers[0], "invoice.pdf"), (headers[0], "photo.png")]
    finally:
        fake.stop()
