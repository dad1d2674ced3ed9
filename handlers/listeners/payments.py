"""Pay a bill: `/purchase pay ID [AMOUNT] from ACCOUNT [on DATE]`, or the "Record payment" button
on a bill's channel message and receipt, which opens the payment form.

The form's submission is idempotent by its view (`slack:<team>:<view id>`): a double-clicked
"Record payment" pays once. Its bad fields are marked on the form; nothing is saved.
"""

import datetime as dt
import re
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.payments import PaymentRequest
from handlers import slack_api
from handlers.blocks.bills import (
    ACCOUNT_BLOCK,
    ACTION_PAY,
    AMOUNT_BLOCK,
    PAY_CALLBACK,
    pay_modal,
    read_pay_modal,
)
from handlers.blocks.lifecycle import done_view
from handlers.context import Deps, deps_of
from handlers.in_time import Screens, answer_in_time
from handlers.listeners.reasons import action_tx, message_ref
from handlers.texts import FORM_CANNOT_OPEN, PAY_USAGE, PAYMENT_NOT_SAVED, not_known_yet
from handlers.usecases import payments
from handlers.usecases.payments import Paid

_PAY = re.compile(
    r"^pay\s+#?(?P<id>\d{1,18})(?:\s+(?P<amount>[\d.,]+|-[\d.,]+))?\s+from\s+(?P<account>.+?)"
    r"(?:\s+on\s+(?P<date>\S+))?$",
    re.IGNORECASE,
)


def register(app: Any) -> None:
    app.action(ACTION_PAY)(pay_clicked)
    app.view_submission(PAY_CALLBACK)(pay_submitted)


def is_pay_command(text: str) -> bool:
    return text.lower() == "pay" or text.lower().startswith("pay ")


def pay_command(deps: Deps, client: WebClient, body: dict[str, Any], respond: Respond, text: str) -> None:
    """`/purchase pay ...`, answered ephemerally; the account is a code or a name from the chart."""
    match = _PAY.match(text)
    if not match:
        respond(text=PAY_USAGE, response_type="ephemeral")
        return
    date = None
    if match["date"]:
        try:
            date = dt.date.fromisoformat(match["date"])
        except ValueError:
            respond(
                text=f":x: `{match['date']}` is not a date like 2026-12-31.\n{PAY_USAGE}",
                response_type="ephemeral",
            )
            return
    try:
        account = _account_code(deps, match["account"])
    except DBAPIError:
        respond(text=PAYMENT_NOT_SAVED, response_type="ephemeral")
        return
    team = body.get("team_id")
    request = PaymentRequest(
        int(match["id"]),
        account,
        match["amount"],
        date,
        idempotency_key=f"slack:{team}:pay:{body['trigger_id']}" if body.get("trigger_id") else None,
    )
    paid = payments.record_payment(
        deps,
        client,
        user=str(body.get("user_id") or ""),
        request=request,
        team=team,
        channel=body.get("channel_id"),
    )
    respond(text=paid.message if paid.ok else f":x: {paid.message}", response_type="ephemeral")
    payments.after_payment(deps, client, paid, None, None)


def _account_code(deps: Deps, text: str) -> str:
    """The code of the account named `text` (by code or by name, ignoring case), else `text` as typed."""
    wanted = text.strip().casefold()
    for account in deps.chart.get():
        if wanted in (account.code.casefold(), account.name.casefold()):
            return account.code
    return text.strip()


def pay_clicked(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, respond: Respond
) -> None:
    """The "Record payment" button: the payment form, filled with what is still open."""
    ack()
    deps = deps_of(context)
    tx = action_tx(body)
    if tx is None:
        return
    user = str(body["user"]["id"])
    bill = payments.bill_for_form(deps, client, user, tx)
    if isinstance(bill, str):
        slack_api.tell(client, body, respond, f":x: {bill}")
        return
    try:
        accounts = payments.asset_accounts(deps)
    except DBAPIError:
        slack_api.tell(client, body, respond, FORM_CANNOT_OPEN)
        return
    channel, ts = message_ref(body)
    view = pay_modal(bill, accounts, today=deps.clock.today(), channel=channel, ts=ts)
    opened = slack_api.open_view(client, body["trigger_id"], view)
    if not opened.ok:
        slack_api.tell(
            client,
            body,
            respond,
            f"The form could not open ({opened.error}); please click Record payment again.",
        )


def _screens(deps: Deps) -> Screens[Paid]:
    title = "Paying"
    return Screens[Paid](
        waiting=done_view(title, ":hourglass_flowing_sand: Recording the payment..."),
        unknown=done_view(title, not_known_yet(deps.db_deadline, "the payment was recorded")),
        shown=lambda paid: done_view(
            "Payment recorded" if paid.ok else "Not paid", paid.message if paid.ok else f":x: {paid.message}"
        ),
        failed=lambda _: done_view("Not paid", f":x: {PAYMENT_NOT_SAVED}"),
        inline_errors=lambda paid: paid.errors,
        message=lambda paid: (paid.message, []),
    )


def pay_submitted(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    view = body["view"]
    form = read_pay_modal(view)
    if form.tx is None:
        ack(
            response_action="errors",
            errors={AMOUNT_BLOCK: "This form is damaged; click Record payment again."},
        )
        return
    if not form.from_account:
        ack(response_action="errors", errors={ACCOUNT_BLOCK: "Choose the account the bill is paid from."})
        return
    user = str(body["user"]["id"])
    team = (body.get("team") or {}).get("id")
    request = PaymentRequest(
        form.tx,
        form.from_account,
        form.amount or None,
        form.date,
        idempotency_key=f"slack:{team}:{view['id']}",
    )
    answer_in_time(
        deps,
        ack,
        client,
        view_id=view["id"],
        user=user,
        work=lambda: payments.record_payment(
            deps, client, user=user, request=request, team=team, channel=form.channel
        ),
        screens=_screens(deps),
        then=lambda paid: payments.after_payment(deps, client, paid, form.channel, form.ts),
    )
