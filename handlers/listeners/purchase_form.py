"""The purchase form: add and remove item rows, and the submission that posts the purchase."""

import logging
from decimal import Decimal
from functools import partial
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import DBAPIError

from db.errors import FieldError, InvalidPurchase
from db.posting import Origin
from db.schemas import parse_purchase
from handlers import slack_api, slack_files
from handlers.blocks.documents import DOCUMENTS_BLOCK
from handlers.blocks.purchase_form import (
    ACTION_ADD,
    ACTION_REMOVE,
    CALLBACK_ID,
    MAX_MODAL_ITEMS,
    FormValues,
    ItemValues,
    ModalMeta,
    build_failure_view,
    build_posting_view,
    build_purchase_modal,
)
from handlers.blocks.purchase_input import (
    accounts_in,
    block_errors,
    missing_selects,
    purchase_input,
    read_form,
)
from handlers.blocks.receipt import build_receipt_message, build_result_view
from handlers.context import Deps, deps_of
from handlers.in_time import Screens, answer_in_time
from handlers.listeners.documents import file_message
from handlers.texts import CHOOSE_FILES_AGAIN, FAILED, not_known_yet
from handlers.usecases.recording import (
    DOCUMENTS,
    Outcome,
    notify_channel,
    receipt_required_above,
    record,
    record_with_files,
)

log = logging.getLogger(__name__)


def register(app: Any) -> None:
    app.action(ACTION_ADD)(add_item)
    app.action(ACTION_REMOVE)(remove_item)
    app.action({"block_id": "payment_account", "action_id": "value"})(payment_account_chosen)
    app.view_submission(CALLBACK_ID)(submit_purchase)


def _form(
    view: dict[str, Any], deps: Deps, values: FormValues, meta: ModalMeta, notice: str | None = None
) -> dict[str, Any]:
    """The form again, with what the user typed; the chart as the modal already shows it, so
    redrawing needs no database."""
    return build_purchase_modal(
        accounts_in(view),
        values=values,
        meta=meta,
        default_currency=deps.default_currency,
        today=deps.clock.today(),
        notice=notice,
    )


def _redraw(client: WebClient, view: dict[str, Any], deps: Deps, values: FormValues, meta: ModalMeta) -> None:
    # With the view's hash: if the user changed the form meanwhile (hash_conflict), their newer view stands.
    slack_api.update_view(client, view["id"], _form(view, deps, values, meta), view.get("hash"))


def add_item(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    view = body["view"]
    values, meta = read_form(view)
    if len(meta.rows) >= MAX_MODAL_ITEMS:
        return
    meta.rows.append(meta.next_row)
    meta.next_row += 1
    values.items.append(ItemValues())
    _redraw(client, view, deps_of(context), values, meta)


def remove_item(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    view = body["view"]
    values, meta = read_form(view)
    try:
        row = int(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return
    if row not in meta.rows or len(meta.rows) <= 1:
        return
    index = meta.rows.index(row)
    del meta.rows[index], values.items[index]
    _redraw(client, view, deps_of(context), values, meta)


def payment_account_chosen(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    """A "Paid from" choice: a payable one shows a bill's due date and invoice number, another hides them."""
    ack()
    view = body["view"]
    values, meta = read_form(view)
    deps = deps_of(context)
    accounts = accounts_in(view)
    if not any(a.type for a in accounts if a.code == values.payment_account):
        # A type-ahead's choice does not say its type; the chart (cached) does.
        try:
            types = {a.code: a for a in deps.chart.get()}
        except DBAPIError:
            types = {}
        accounts = [types.get(a.code, a) for a in accounts]
    view_out = build_purchase_modal(
        accounts, values=values, meta=meta, default_currency=deps.default_currency, today=deps.clock.today()
    )
    slack_api.update_view(client, view["id"], view_out, view.get("hash"))


def submit_purchase(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    deps = deps_of(context)
    view = body["view"]
    values, meta = read_form(view)
    team = (body.get("team") or {}).get("id") or body.get("user", {}).get("team_id")
    user = body["user"]["id"]
    # One modal, one purchase: a double click or a retried delivery carries the same view ID.
    data = purchase_input(values, key=f"slack:{team}:{view['id']}")
    data.setdefault("currency", deps.default_currency)
    errors = missing_selects(values)
    try:
        purchase = parse_purchase(data, today=deps.clock.today())
    except InvalidPurchase as exc:
        errors = errors + exc.errors
        purchase = None
    files = values.files
    too_many = slack_files.too_many(files)
    if too_many is not None:
        errors.append(FieldError(DOCUMENTS, str(too_many)))
    limit = receipt_required_above(purchase, deps) if purchase is not None else None
    if purchase is not None and limit is not None and not files:
        errors.append(FieldError(DOCUMENTS, receipt_required(purchase.currency, limit)))
    if errors or purchase is None:
        ack(response_action="errors", errors=_errors(errors, meta))
        return
    origin = Origin(source="slack", user=user, team=team, channel=meta.channel, link=meta.message_link)

    def shown(outcome: Outcome) -> dict[str, Any]:
        if outcome.receipt is not None:
            return build_result_view(outcome.receipt, warning=outcome.warning)
        # Back to the form with everything the user typed, so pressing Post again retries. A file
        # input cannot be filled in again, so files chosen in it must be chosen again.
        notice = f":x: {_reason(outcome)}"
        if any(f not in meta.message_files for f in files):
            notice += f" {CHOOSE_FILES_AGAIN}"
        return _form(view, deps, values, meta, notice) if accounts_in(view) else build_failure_view(notice)

    def announce(outcome: Outcome) -> Outcome | None:
        """Tell the team channel; if it cannot be told, the receipt gets a warning."""
        warning = notify_channel(deps, client, outcome, user)
        return None if warning is None else Outcome(receipt=outcome.receipt, warning=warning)

    unknown = not_known_yet(deps.db_deadline)
    screens = Screens[Outcome](
        waiting=build_posting_view(),
        unknown=_form(view, deps, values, meta, unknown)
        if accounts_in(view)
        else build_failure_view(unknown),
        shown=shown,
        failed=lambda _: shown(Outcome(failure=FAILED)),
        inline_errors=lambda outcome: _errors(outcome.errors, meta) if outcome.errors else None,
        message=_message,
    )
    # With files: fetched from Slack first (within a deadline), then posted with the purchase.
    work = (
        partial(record_with_files, deps, client, purchase, origin, files)
        if files
        else partial(record, deps, purchase, origin)
    )
    answer_in_time(
        deps,
        ack,
        client,
        view_id=view["id"],
        user=user,
        work=work,
        screens=screens,
        then=announce,
        pool=deps.slack_pool if files else None,
    )


def receipt_required(currency: str, limit: Decimal) -> str:
    return (
        f"A receipt or invoice is required for purchases above {currency} {limit:,}: "
        "attach one (PDF or image)"
    )


def _errors(errors: list[FieldError], meta: ModalMeta) -> dict[str, str]:
    """{block_id: message} for the form; problems with files go on the file field as they are
    ("scan.PDF: is empty (0 bytes)"), each naming its file."""
    on_files = [e.message for e in errors if e.loc[:1] == DOCUMENTS]
    shown = block_errors([e for e in errors if e.loc[:1] != DOCUMENTS], meta)
    if on_files:
        shown[DOCUMENTS_BLOCK] = file_message(on_files)
    return shown


def _reason(outcome: Outcome) -> str:
    return outcome.failure or "Nothing was saved. " + "; ".join(
        f"{e.label}: {e.message}" for e in outcome.errors
    )


def _message(outcome: Outcome) -> tuple[str, list[dict[str, Any]]]:
    """The outcome as a direct message, for when the modal is gone."""
    if outcome.receipt is not None:
        return build_receipt_message(outcome.receipt, warning=outcome.warning)
    reason = _reason(outcome)
    return f"Your purchase was not saved: {reason}", build_failure_view(reason)["blocks"]
