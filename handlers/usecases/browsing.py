"""Reading purchases for `/purchase show` and `/purchase list`: one session each, an outcome value."""

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError

from db.clock import month_bounds
from db.errors import NotFound
from db.models import Status
from db.queries import PAGE_SIZE, Filter, Page, list_purchases
from handlers.context import Deps
from handlers.receipt import Audit, Receipt
from handlers.texts import NOTHING_SHOWN, no_purchase
from handlers.usecases.purchases import load_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """One purchase in full, or why it cannot be shown."""

    receipt: Receipt | None = None
    audit: Audit | None = None
    problem: str | None = None


def show(deps: Deps, tx: int) -> Shown:
    try:
        with deps.sessions.begin() as session:
            receipt, audit = load_state(session, tx)
    except NotFound:
        return Shown(problem=no_purchase(tx))
    except DBAPIError:
        log.warning("show %s failed: database error", tx, exc_info=True)
        return Shown(problem=NOTHING_SHOWN)
    return Shown(receipt, audit)


def filter_for(kind: str, user: str, today: dt.date) -> Filter:
    if kind == "mine":
        return Filter(created_by=user)
    if kind == "pending":
        return Filter(status=Status.PENDING)
    if kind == "month":
        first, last = month_bounds(today)
        return Filter(date_from=first, date_to=last)
    return Filter()


def page(deps: Deps, kind: str, user: str, offset: int) -> Page | None:
    """One page of a list; None when the database cannot be reached."""
    try:
        with deps.sessions.begin() as session:
            return list_purchases(
                session, filter_for(kind, user, deps.clock.today()), offset=offset, limit=PAGE_SIZE
            )
    except DBAPIError:
        log.warning("list %s failed: database error", kind, exc_info=True)
        return None
