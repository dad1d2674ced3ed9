"""Record a purchase from Slack and tell the team: the part of a submission that may be slow.

`record` runs on the handlers' worker pool so the view_submission can be acknowledged within
Slack's 3 seconds whatever the database does. Every outcome is a value the modal can show:
posted, field errors, or the reason nothing was saved. `notify_channel` runs after the user has
the outcome, so a slow or failing Slack API never delays or undoes a purchase.
"""

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.documents import IncomingDocument, InvalidDocument, check_document, documents_of
from db.errors import FieldError, InvalidPurchase, LedgerError
from db.faults import Fault, classify
from db.outbox import hold_new
from db.posting import Origin, post_purchase
from db.reports import get_transaction
from db.schemas import Purchase
from handlers import slack_files
from handlers.context import Deps
from handlers.receipt import Receipt
from handlers.texts import COMMIT_LOST, FAILED, NOTHING_SAVED, REFUSED, TOO_BUSY
from handlers.usecases.access import approver_users
from handlers.usecases.announcements import announce
from handlers.usecases.home import refresh_homes

log = logging.getLogger(__name__)


def _database_failure(exc: DBAPIError, committing: bool) -> str:
    fault = classify(exc)
    if fault is Fault.BUSY:
        log.warning("posting timed out in the database: %s", exc.orig)
        return TOO_BUSY
    if fault is Fault.UNREACHABLE:
        log.warning("posting failed: database unreachable (during commit: %s)", committing, exc_info=True)
        return COMMIT_LOST if committing else NOTHING_SAVED
    log.exception("the database refused a posting")
    return REFUSED


@dataclass
class Outcome:
    receipt: Receipt | None = None
    errors: list[FieldError] = field(default_factory=list)
    failure: str | None = None
    warning: str | None = None
    # The database has not answered yet; the real outcome follows when it does.
    # A fresh posting's channel message is this process's to send until then (time.monotonic());
    # after that a sweep may have taken it over, so sending it here could send it twice.
    announce_by: float | None = None


def needs_approval(purchase: Purchase, deps: Deps) -> bool:
    limit = deps.approval_thresholds.get(purchase.currency, deps.approval_thresholds.get(None))
    return limit is not None and purchase.items_total > limit


def receipt_required_above(purchase: Purchase, deps: Deps) -> Decimal | None:
    """RECEIPT_REQUIRED_ABOVE for the purchase's currency, when its total is above it (else None)."""
    limit = deps.receipt_thresholds.get(purchase.currency, deps.receipt_thresholds.get(None))
    return limit if limit is not None and purchase.items_total > limit else None


DOCUMENTS = ("documents",)  # where errors on the files go (the file field's block)


def document_errors(fetched: slack_files.Fetched, max_bytes: int) -> list[FieldError]:
    """Each file that could not be fetched, and each fetched one the ledger would refuse (empty,
    too large, not a PDF or an image by its bytes), named with the reason."""
    errors = [FieldError(DOCUMENTS, str(problem)) for problem in fetched.problems]
    for doc in fetched.documents:
        try:
            check_document(doc, max_bytes=max_bytes)
        except InvalidDocument as exc:
            errors.append(FieldError(DOCUMENTS, str(exc)))
    return errors


def record_with_files(
    deps: Deps, client: WebClient, purchase: Purchase, origin: Origin, files: Sequence[slack_files.FileRef]
) -> Outcome:
    """Fetch the submitted files from Slack (no transaction open meanwhile), check them, then post
    the purchase and its documents in one transaction; nothing is saved if one file is wrong.

    Runs on the Slack I/O pool: the download may take seconds, which the ledger's threads must not
    spend; the posting itself is handed to the ledger's pool."""
    fetched = slack_files.fetch(client, files, max_bytes=deps.max_document_bytes, seconds=deps.fetch_deadline)
    errors = document_errors(fetched, deps.max_document_bytes)
    if errors:
        return Outcome(errors=errors)
    return deps.executor.submit(record, deps, purchase, origin, fetched.documents).result()


def record(
    deps: Deps, purchase: Purchase, origin: Origin, documents: Sequence[IncomingDocument] = ()
) -> Outcome:
    """Post in one transaction, with its documents, and make the receipt; the database part of a
    submission. A replay (same idempotency key) attaches nothing again."""
    committing = False
    announce_by = None
    try:
        with deps.sessions.begin() as session:
            posted = post_purchase(
                session,
                purchase,
                origin,
                pending=needs_approval(purchase, deps),
                documents=documents,
                clock=deps.clock,
                max_document_bytes=deps.max_document_bytes,
                max_future_days=deps.max_future_days,
                base_currency=deps.base_currency,
            )
            if posted.written is not None:
                receipt = Receipt.of_written(posted.written)
                if deps.channel is not None:
                    hold_new(session, posted.id, clock=deps.clock, hold=deps.announce_hold)
                    # Half the hold: room for the message's own retries before a sweep may start.
                    announce_by = time.monotonic() + deps.announce_hold.total_seconds() / 2
            else:
                receipt = Receipt.of(get_transaction(session, posted.id), replayed=posted.replayed)
            if documents or posted.written is None:
                receipt = replace(receipt, documents=tuple(documents_of(session, posted.id)))
            committing = True
    except InvalidPurchase as exc:
        return Outcome(errors=exc.errors)
    except InvalidDocument as exc:
        return Outcome(errors=[FieldError(DOCUMENTS, str(exc))])
    except LedgerError as exc:
        return Outcome(failure=str(exc))
    except DBAPIError as exc:
        return Outcome(failure=_database_failure(exc, committing))
    except Exception:
        log.exception("posting failed unexpectedly")
        return Outcome(failure=FAILED)
    return Outcome(receipt=receipt, announce_by=announce_by)


def notify_channel(deps: Deps, client: WebClient, outcome: Outcome, user: str) -> str | None:
    """Tell the team channel of a fresh posting; a failure never undoes the purchase, it comes back
    as a warning. Also refreshes the App Home of the requester (and of the approvers when it waits
    for them)."""
    receipt = outcome.receipt
    if receipt is None or receipt.replayed:
        return None
    refresh_homes(
        deps, client, [user, *(approver_users(deps, client) if receipt.status == "pending" else [])]
    )
    if deps.channel is None or outcome.announce_by is None:
        return None
    if time.monotonic() > outcome.announce_by:
        log.info("transaction %s is left to the announcement sweep: its hold is running out", receipt.id)
        return None
    return announce(deps, client, receipt)
