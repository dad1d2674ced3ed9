"""Type-ahead answers for the purchase form: vendors from the ledger, accounts from the cached chart.

Slack shows nothing unless an options request is answered within 3 seconds, so each search runs on
the ledger pool and gives up after `Deps.ack_budget`: a slow database means fewer suggestions (the
typed vendor is still offered as a new one), never an error.
"""

import logging
from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import TypeVar

from db.errors import LedgerError
from db.vendors import clean_name, search_vendors, vendor_key
from handlers.caches import AccountOption
from handlers.context import Deps

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class VendorSuggestions:
    """`new`: the typed name as it would be stored, when it is a valid name no known vendor has;
    `known`: known vendors' names matching it."""

    new: str | None = None
    known: list[str] = field(default_factory=list)


def _within(deps: Deps, what: str, work: Callable[[], T], fallback: T) -> T:
    future = deps.executor.submit(work)
    try:
        return future.result(timeout=deps.ack_budget)
    except FutureTimeout:
        log.warning("%s took longer than %gs; answered without it", what, deps.ack_budget)
    except Exception:
        log.warning("%s failed; answered without it", what, exc_info=True)
    return fallback


def vendors(deps: Deps, typed: str, *, limit: int) -> VendorSuggestions:
    """Known vendors with a word starting with `typed`, and `typed` itself as a new vendor (a name
    of at most 200 characters, not only spaces, that no known vendor has)."""

    def search() -> list[str]:
        with deps.sessions.begin() as session:
            return [v.name for v in search_vendors(session, typed, limit=limit)]

    known: list[str] = _within(deps, "vendor search", search, [])
    try:
        new: str | None = clean_name(typed)
    except LedgerError:
        new = None
    if new is not None and any(vendor_key(name) == vendor_key(new) for name in known):
        new = None
    return VendorSuggestions(new, known)


def accounts(deps: Deps, typed: str, *, limit: int) -> list[AccountOption]:
    """Accounts whose code or a word of whose name starts with what was typed, from the cached chart
    (the database is read only when the cache is stale)."""
    return _within(deps, "account search", lambda: deps.chart.search(typed, limit), [])
