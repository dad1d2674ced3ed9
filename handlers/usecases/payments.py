"""Record a payment of a bill (db.payments) for someone in Slack, and show the bill as it then stands.

PAYERS may pay (the approvers when unset); a refusal is logged with the user ID. The payment and
the bill's new state are read in one transaction; then the bill's channel message is edited to
show it.
"""

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.errors import InvalidPayment, LedgerError
from db.models import AccountType
from db.money import format_amount, from_minor
from db.payments import PaymentRequest, check_payable, pay
from db.posting import Origin
from db.queries import header as find_header
from db.reports import get_transaction
from handlers.blocks.bills import BillForForm
from handlers.blocks.common import escape
from handlers.context import Deps
from handlers.receipt import Audit, Receipt, bill_text
from handlers.texts import NOT_PAYER, PAYMENT_NOT_SAVED
from handlers.usecases.access import may_pay, refused
from handlers.usecases.home import refresh_homes
from handlers.usecases.purchases import load_state, show_in_channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Paid:
    """A payment recorded (`ok`), or why not: a message, or errors by form field."""

    ok: bool
    message: str
    errors: dict[str, str] | None = None
    bill: Receipt | None = None
    audit: Audit | None = None


def record_payment(
    deps: Deps,
    client: WebClient,
    *,
    user: str,
    request: PaymentRequest,
    team: str | None,
    channel: str | None,
) -> Paid:
    if not may_pay(deps, client, user):
        return Paid(False, refused(user, f"payment of bill {request.bill_id}", NOT_PAYER))
    origin = Origin(source="slack", user=user, team=team, channel=channel)
    try:
        with deps.sessions.begin() as session:
            posted = pay(session, request, origin, clock=deps.clock)
            payment = get_transaction(session, posted.id)
            bill, audit = load_state(session, request.bill_id)
            amount = format_amount(payment.total, payment.exponent, payment.currency)
    except InvalidPayment as exc:
        refused(user, f"payment of bill {request.bill_id}", str(exc))
        return Paid(False, str(exc), errors={str(e.loc[0]): e.message for e in exc.errors})
    except LedgerError as exc:
        return Paid(False, refused(user, f"payment of bill {request.bill_id}", str(exc)))
    except DBAPIError:
        log.warning("payment of bill %s failed: database error", request.bill_id, exc_info=True)
        return Paid(False, PAYMENT_NOT_SAVED)
    again = "Already recorded as" if posted.replayed else "Recorded"
    vendor = f" ({escape(bill.vendor)})" if bill.vendor else ""
    message = (
        f":white_check_mark: {again} payment #{posted.id} of {escape(amount)} for bill #{bill.id}{vendor}. "
        f"{escape(bill.bill or '')}"
    )
    return Paid(True, message.strip(), bill=bill, audit=audit)


def after_payment(deps: Deps, client: WebClient, paid: Paid, channel: str | None, ts: str | None) -> None:
    """The bill's channel message shows its new state; the payer's and requester's Home tabs follow."""
    if not paid.ok or paid.bill is None or paid.audit is None:
        return
    show_in_channel(deps, client, paid.bill, paid.audit, channel, ts, post_if_unknown=False)
    refresh_homes(deps, client, [paid.audit.created_by])


def bill_for_form(deps: Deps, client: WebClient, user: str, bill_id: int) -> BillForForm | str:
    """What the payment form shows of the bill, and the asset accounts; or why it cannot be paid."""
    if not may_pay(deps, client, user):
        return refused(user, f"payment of bill {bill_id}", NOT_PAYER)
    try:
        with deps.sessions.begin() as session:
            bill = find_header(session, bill_id)
            if bill is None:
                return f"There is no transaction {bill_id}"
            check_payable(bill)
            return BillForForm(
                id=bill.id,
                description=bill.description,
                vendor=bill.vendor,
                state=bill_text(bill) or "",
                open_amount=str(from_minor(bill.total - bill.paid, bill.exponent)),
                currency=bill.currency,
            )
    except LedgerError as exc:
        return refused(user, f"payment of bill {bill_id}", str(exc))
    except DBAPIError:
        log.warning("bill %s could not be read", bill_id, exc_info=True)
        return PAYMENT_NOT_SAVED


def asset_accounts(deps: Deps) -> list[tuple[str, str]]:
    """(code, name) of the accounts a bill can be paid from."""
    return [(a.code, a.name) for a in deps.chart.get() if a.type == AccountType.ASSET.value]
