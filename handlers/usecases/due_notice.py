"""The daily notice of bills to pay: once a day (the books' day), from NOTICE_HOUR in the books'
time zone, the team channel gets one message listing the bills overdue and those due within
BILLS_DUE_NOTICE_DAYS, each with "Record payment".

Every serving process's sweep (handlers/usecases/announcements.py) tries; the day's notice is
claimed in the database like an outbox row (db/outbox.py `claim_daily`), so several processes
send it once, and a process that dies holding it leaves it to the next sweep when its hold lapses.
"""

import datetime as dt
import logging

from slack_sdk import WebClient

from db import outbox
from db.bills import open_bills
from handlers import slack_api
from handlers.blocks.bills import due_notice
from handlers.context import Deps

log = logging.getLogger(__name__)

KIND = "bills_due"
NOTICE_HOUR = 9


def send_due_notice(deps: Deps, client: WebClient) -> bool:
    """Send today's notice if it is time and nobody has; True when this call sent it."""
    if deps.channel is None or deps.clock.local_now().hour < NOTICE_HOUR:
        return False
    today = deps.clock.today()
    with deps.sessions.begin() as session:
        if not outbox.claim_daily(session, KIND, today, clock=deps.clock, hold=deps.announce_hold):
            return False
    with deps.sessions.begin() as session:
        due_by = today + dt.timedelta(days=deps.bills_due_notice_days)
        bills = open_bills(session, as_of=today, due_by=due_by)
    if not bills:
        with deps.sessions.begin() as session:
            outbox.daily_sent(session, KIND, today, None, None, clock=deps.clock)
        return False
    text, blocks = due_notice(bills, within_days=deps.bills_due_notice_days)
    sent = slack_api.post_message(client, deps.channel, text, blocks)
    if not sent.ok:
        # Its hold lapses and a later sweep (of any process) tries again.
        log.warning("the bills due notice of %s could not be sent: %s", today, sent.error)
        return False
    with deps.sessions.begin() as session:
        outbox.daily_sent(session, KIND, today, deps.channel, sent.ts, clock=deps.clock)
    return True
