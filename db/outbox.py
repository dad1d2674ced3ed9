"""The announcement outbox: transactions the team is to be told about, until it has been.

The poster writes the row in the posting's own transaction, already held by itself (`due_at` a
lease ahead), and tells the team right after COMMIT. If it cannot (Slack down, the process
killed), the hold lapses and any process's sweep takes the row over (`take_next`), so a committed
purchase is announced even when the process that posted it is gone. Delivery is at least once: a
message that reached Slack just before its sender died is sent again when the hold lapses.

These functions take a session and never commit; the caller owns the transaction.
"""

import datetime as dt

from sqlalchemy import ColumnElement, and_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from db.clock import Clock
from db.errors import LedgerError
from db.models import Announcement, Notice

HOLD = dt.timedelta(seconds=60)
RETRY_FIRST = dt.timedelta(seconds=30)
RETRY_LONGEST = dt.timedelta(minutes=30)
ATTEMPTS = 12  # 30 s doubling up to 30 min: about 4 hours of trying

# Built once and run on the session's connection: every purchase pays for these two.
_HOLD_NEW = insert(Announcement)
_SENT = (
    update(Announcement)
    .where(Announcement.transaction_id == bindparam("id"))
    .values(
        sent_at=bindparam("at"),
        channel_id=bindparam("channel"),
        message_ref=bindparam("ref"),
        last_error=None,
    )
)


def _waiting() -> ColumnElement[bool]:
    return and_(Announcement.sent_at.is_(None), Announcement.given_up_at.is_(None))


def hold_new(session: Session, transaction_id: int, *, clock: Clock, hold: dt.timedelta = HOLD) -> None:
    """Promise to announce `transaction_id`, held by the caller for `hold`."""
    session.connection().execute(
        _HOLD_NEW, {"transaction_id": transaction_id, "due_at": clock.now() + hold, "attempts": 1}
    )


def give_up_worn_out(session: Session, *, clock: Clock) -> None:
    """Stop trying rows that used up their attempts without an answer (their senders kept dying)."""
    session.execute(
        update(Announcement)
        .where(_waiting(), Announcement.attempts >= ATTEMPTS)
        .values(given_up_at=clock.now(), last_error="no answer after every attempt"),
        execution_options={"synchronize_session": False},
    )


def take_next(session: Session, *, clock: Clock, hold: dt.timedelta = HOLD) -> int | None:
    """Hold the longest-due announcement that nobody holds; its transaction ID, or None.

    A row another transaction is taking at the same moment is skipped (SKIP LOCKED on PostgreSQL;
    SQLite writes one transaction at a time), so two sweeps never take the same row.
    """
    now = clock.now()
    due = (
        select(Announcement.transaction_id)
        .where(_waiting(), Announcement.due_at <= now)
        .order_by(Announcement.due_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return session.scalar(
        update(Announcement)
        .where(Announcement.transaction_id.in_(due.scalar_subquery()))
        .values(due_at=now + hold, attempts=Announcement.attempts + 1)
        .returning(Announcement.transaction_id),
        execution_options={"synchronize_session": False},
    )


def sent(
    session: Session, transaction_id: int, channel: str, message_ref: str | None, *, clock: Clock
) -> None:
    session.connection().execute(
        _SENT, {"id": transaction_id, "at": clock.now(), "channel": channel, "ref": message_ref}
    )


def find(session: Session, transaction_id: int) -> Announcement | None:
    return session.get(Announcement, transaction_id)


def retry_later(session: Session, transaction_id: int, error: str, *, clock: Clock) -> bool:
    """Try again after a pause that doubles with each attempt; False when it has had its attempts."""
    row = session.get_one(Announcement, transaction_id, with_for_update=True)
    row.last_error = error[:200]
    if row.attempts >= ATTEMPTS:
        row.given_up_at = clock.now()
        return False
    row.due_at = clock.now() + min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_LONGEST)
    return True


def give_up(session: Session, transaction_id: int, error: str, *, clock: Clock) -> None:
    """Stop trying: retrying cannot help (the channel is gone, the token revoked)."""
    session.execute(
        update(Announcement)
        .where(Announcement.transaction_id == transaction_id)
        .values(given_up_at=clock.now(), last_error=error[:200]),
        execution_options={"synchronize_session": False},
    )


def undelivered(session: Session) -> list[Announcement]:
    """Announcements not sent yet, waiting for a try or given up, oldest first."""
    return list(
        session.scalars(
            select(Announcement).where(Announcement.sent_at.is_(None)).order_by(Announcement.transaction_id)
        )
    )


def resend(session: Session, transaction_ids: list[int] | None = None, *, clock: Clock) -> list[int]:
    """Give up no more on given-up announcements (all, or those of `transaction_ids`): due now with
    fresh attempts, for instance once the bot is in the channel; the next sweep sends them. Those
    still being tried are left alone: a running bot may be sending one this moment."""
    rows = [row for row in undelivered(session) if row.given_up_at is not None]
    if transaction_ids is not None:
        wanted = set(transaction_ids)
        missing = sorted(wanted - {row.transaction_id for row in rows})
        if missing:
            raise LedgerError(
                f"Transaction {', '.join(map(str, missing))} has no given-up announcement "
                "(it was sent, is still being tried, or the purchase was not recorded from Slack)"
            )
        rows = [row for row in rows if row.transaction_id in wanted]
    for row in rows:
        row.given_up_at, row.attempts, row.due_at = None, 0, clock.now()
    session.flush()
    return [row.transaction_id for row in rows]


# Daily notices (the bills due notice) are held the same way: the first process to claim a day's
# notice sends it; if it dies first, its hold lapses and the next sweep of any process takes it.


def claim_daily(
    session: Session, kind: str, day: dt.date, *, clock: Clock, hold: dt.timedelta = HOLD
) -> bool:
    """Hold `kind`'s notice of `day` if it is not sent and nobody holds it; True when this caller now does.

    One statement (INSERT ... ON CONFLICT DO UPDATE ... WHERE): two processes claiming at once queue
    on the row, and the second finds it held (PostgreSQL re-checks the WHERE on the row the first
    wrote; SQLite writes one transaction at a time).
    """
    now = clock.now()
    insert_ = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert_(Notice).values(kind=kind, day=day, due_at=now + hold, attempts=1)
    claim = statement.on_conflict_do_update(
        index_elements=[Notice.kind, Notice.day],
        set_={"due_at": now + hold, "attempts": Notice.attempts + 1},
        where=and_(Notice.sent_at.is_(None), Notice.due_at <= now, Notice.attempts < ATTEMPTS),
    ).returning(Notice.kind)
    return session.execute(claim, execution_options={"synchronize_session": False}).first() is not None


def daily_sent(
    session: Session, kind: str, day: dt.date, channel: str | None, message_ref: str | None, *, clock: Clock
) -> None:
    """The day's notice went out (or there was nothing to say: `channel` None)."""
    session.execute(
        update(Notice)
        .where(Notice.kind == kind, Notice.day == day)
        .values(sent_at=clock.now(), channel_id=channel, message_ref=message_ref),
        execution_options={"synchronize_session": False},
    )
