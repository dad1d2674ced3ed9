"""What the handlers need from the outside world, injected by the app factory into every request.

Handlers never import a global app or settings: `bot.app` builds one `Deps` and a middleware puts
it in the Bolt context, where `deps_of(context)` finds it.
"""

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from db import outbox
from db.clock import Clock
from db.schemas import DEFAULT_CURRENCY
from handlers.caches import ChartCache, Debouncer, GroupCache


@dataclass(frozen=True)
class Deps:
    sessions: sessionmaker[Session]
    chart: ChartCache
    # Database work of a request (posting, deciding) runs here, so Slack is answered in time.
    executor: ThreadPoolExecutor
    # Slack calls that follow an answer (late outcomes, channel messages) run here, never on the
    # ledger's threads: a slow Slack must not hold a thread the database work needs.
    slack_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack")
    )
    clock: Clock = field(default_factory=Clock)
    default_currency: str = DEFAULT_CURRENCY
    channel: str | None = None
    # How long a view_submission may wait for the database before it answers "Posting..."
    # and reports the outcome with views.update; Slack's own limit is 3 seconds.
    ack_budget: float = 2.0
    # How long the user waits on "Posting..." before being told the outcome is not known yet;
    # the real outcome still follows when the database answers.
    db_deadline: float = 10.0
    approval_thresholds: dict[str | None, Decimal] = field(default_factory=dict)
    approvers: tuple[str, ...] = ()
    # RECEIPT_REQUIRED_ABOVE by currency (None: any): above it a purchase needs a document.
    receipt_thresholds: dict[str | None, Decimal] = field(default_factory=dict)
    # MAX_DOCUMENT_MB in bytes, and how long a submission waits for its files to download.
    max_document_bytes: int = 10_000_000
    fetch_deadline: float = 8.0
    # MAX_FUTURE_DAYS: how far ahead of the books' today a purchase may be dated.
    max_future_days: int = 31
    # BASE_CURRENCY: a purchase in another currency is valued in it too (db/rates.py); None: not at all.
    base_currency: str | None = None
    allowed_users: tuple[str, ...] | None = None
    # PAYERS (None: the approvers) may record payments of bills; BILLS_DUE_NOTICE_DAYS ahead are listed daily.
    payers: tuple[str, ...] | None = None
    bills_due_notice_days: int = 3
    # How long the process that posted a purchase has to announce it before a sweep takes over.
    announce_hold: dt.timedelta = outbox.HOLD
    groups: GroupCache = field(default_factory=GroupCache)
    home_refresh: Debouncer = field(default_factory=Debouncer)


def install(app: Any, deps: Deps) -> None:
    """Register a global middleware that hands `deps` to every listener via the context."""

    def inject(context: dict[str, Any], next: Callable[[], Any]) -> Any:
        context["deps"] = deps
        return next()

    app.use(inject)


def deps_of(context: Any) -> Deps:
    value = context["deps"]
    assert isinstance(value, Deps)
    return value
