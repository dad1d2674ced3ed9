"""Telling the team channel about new purchases, through the outbox in db/outbox.py.

`announce` runs right after a posting commits (the poster holds the outbox row); `Sweeper` runs in
every serving process and sends what nobody holds any more: messages Slack failed to take, and
those of a process that died between COMMIT and the message. A purchase is never undone or held up
by its announcement.
"""

import logging
import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db import outbox
from db.models import Status
from handlers import slack_api
from handlers.blocks.lifecycle import channel_message
from handlers.context import Deps
from handlers.receipt import Audit, Receipt
from handlers.usecases.due_notice import send_due_notice
from handlers.usecases.purchases import load_state

log = logging.getLogger(__name__)


def announce(deps: Deps, client: WebClient, receipt: Receipt, audit: Audit | None = None) -> str | None:
    """Post the channel message of a held announcement and settle its outbox row.

    `audit` is the transaction's state now (a sweep may come after an approval or a void); a
    fresh posting has none yet. Returns a warning for the user when the team could not be told
    now (None when it was).
    """
    assert deps.channel is not None
    audit = audit or Audit(id=receipt.id, status=Status(receipt.status), created_by=receipt.created_by)
    # Pending: Approve / Reject for the approvers; posted: Void (with a confirm dialog).
    text, blocks = channel_message(receipt, audit)
    sent = slack_api.post_message(client, deps.channel, text, blocks)
    if not sent.ok:
        return _failed(deps, receipt.id, sent.error or "", retry=sent.retry)
    channel = deps.channel
    _settle(deps, receipt.id, lambda s: outbox.sent(s, receipt.id, channel, sent.ts, clock=deps.clock))
    return None


def _failed(deps: Deps, transaction_id: int, error: str, *, retry: bool) -> str:
    log.warning("announcing transaction %s in %s failed: %s", transaction_id, deps.channel, error)
    shown = slack_api.NO_ANSWER if error.startswith(slack_api.NO_ANSWER) else error
    if retry and _settle(
        deps, transaction_id, lambda s: outbox.retry_later(s, transaction_id, error, clock=deps.clock)
    ):
        return f"The purchase is saved; the team channel will be told when Slack answers ({shown})."
    if not retry:
        _settle(deps, transaction_id, lambda s: outbox.give_up(s, transaction_id, error, clock=deps.clock))
    return f"The purchase is saved, but the team channel could not be told ({shown})."


def _settle(deps: Deps, transaction_id: int, change: Callable[[Session], object]) -> bool:
    """Record what became of an announcement; if the database is away, its hold lapses and a sweep
    takes it up again, so this may only ever cause a second message, never a lost one."""
    try:
        with deps.sessions.begin() as session:
            return change(session) is not False
    except DBAPIError:
        log.warning("could not record the announcement of transaction %s", transaction_id, exc_info=True)
        return False


def sweep(deps: Deps, client: WebClient, *, most: int = 20) -> int:
    """Send up to `most` announcements that are due and held by nobody; how many were taken.

    One at a time: each is taken just before it is sent, so a slow Slack never keeps a batch
    past its hold (when another process could take the rest again).
    """
    with deps.sessions.begin() as session:
        outbox.give_up_worn_out(session, clock=deps.clock)
    taken = 0
    while taken < most:
        with deps.sessions.begin() as session:
            transaction_id = outbox.take_next(session, clock=deps.clock, hold=deps.announce_hold)
        if transaction_id is None:
            break
        taken += 1
        _send_taken(deps, client, transaction_id)
    if taken:
        log.info("announced %d held-over transaction(s)", taken)
    return taken


def _send_taken(deps: Deps, client: WebClient, transaction_id: int) -> None:
    try:
        with deps.sessions.begin() as session:
            receipt, audit = load_state(session, transaction_id)
        announce(deps, client, receipt, audit)
    except Exception as exc:
        # Whatever went wrong, the row is tried again later, with the backoff and its attempts.
        log.exception("announcing transaction %s failed", transaction_id)
        error = f"{type(exc).__name__}: {exc}"
        _settle(
            deps, transaction_id, lambda s: outbox.retry_later(s, transaction_id, error, clock=deps.clock)
        )


class Sweeper:
    """Runs `sweep` (and the daily bills due notice) every `every` seconds on a daemon thread, for
    the life of the process."""

    def __init__(self, deps: Deps, client: WebClient, every: float) -> None:
        self._deps, self._client, self._every = deps, client, every
        self._thread = threading.Thread(target=self._run, name="announcements", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(self._every)
            try:
                sweep(self._deps, self._client)
            except Exception:
                log.exception("the announcement sweep failed; it runs again in %g s", self._every)
            try:
                send_due_notice(self._deps, self._client)
            except Exception:
                log.exception("the bills due notice failed; it is tried again in %g s", self._every)
