"""The purchase modal: add and remove item rows, and the submission that posts the purchase."""

import logging
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from db.errors import InvalidPurchase
from db.posting import Origin
from db.schemas import parse_purchase
from handlers.approvals import slack_error
from handlers.deps import AccountOption, Deps, deps_of
from handlers.modal_state import block_errors, missing_selects, purchase_input, read_form
from handlers.recording import Outcome, notify_channel, record
from handlers.views import (
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
    build_receipt_message,
    build_result_view,
)


def register(app: Any) -> None:
    app.action(ACTION_ADD)(add_item)
    app.action(ACTION_REMOVE)(remove_item)
    app.view_submission(CALLBACK_ID)(submit_purchase)


def _accounts_in(view: dict[str, Any]) -> list[AccountOption]:
    """The chart as the modal already shows it: redrawing the form needs no database."""
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("block_id") == "payment_account":
            options = (block.get("element") or {}).get("options") or []
            return [
                AccountOption(o["value"], str(o["text"]["text"]).removeprefix(o["value"]).strip(), "")
                for o in options
                if isinstance(o, dict) and isinstance(o.get("value"), str) and isinstance(o.get("text"), dict)
            ]
    return []


def _redraw(client: WebClient, view: dict[str, Any], deps: Deps, values: FormValues, meta: ModalMeta) -> None:
    modal = build_purchase_modal(
        _accounts_in(view),
        values=values,
        meta=meta,
        default_currency=deps.default_currency,
        today=deps.clock.today(),
    )
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)
    except SlackApiError as exc:
        # hash_conflict: the user changed the view meanwhile; their newer view stands.
        logging.getLogger(__name__).info("views.update skipped: %s", exc.response.get("error"))


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


def submit_purchase(
    ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext, logger: logging.Logger
) -> None:
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
    if errors:
        ack(response_action="errors", errors=block_errors(errors, meta))
        return
    origin = Origin(source="slack", user=user, team=team, channel=meta.channel)
    future = deps.executor.submit(record, deps, purchase, origin)
    late = Late(client, view, deps, values, meta, user, logger)
    try:
        outcome = future.result(timeout=deps.ack_budget)
    except FutureTimeout:
        # Slack wants an answer within 3 seconds: say "Posting..." and report the outcome later.
        ack(response_action="update", view=build_posting_view())
        try:
            outcome = future.result(timeout=deps.db_deadline)
        except FutureTimeout:
            late.deliver(Outcome(unknown=True))
            future.add_done_callback(late.deliver_future)
            return
        late.deliver(outcome)
    else:
        if outcome.errors:
            ack(response_action="errors", errors=block_errors(outcome.errors, meta))
        else:
            ack(response_action="update", view=_final_view(view, deps, values, meta, outcome))
    late.announce(outcome)


def _final_view(
    view: dict[str, Any], deps: Deps, values: FormValues, meta: ModalMeta, outcome: Outcome
) -> dict[str, Any]:
    if outcome.receipt is not None:
        return build_result_view(outcome.receipt, warning=outcome.warning)
    if outcome.unknown:
        notice = (
            f":hourglass: The ledger database has not answered within {deps.db_deadline:g} seconds, so it is not "
            "known yet whether the purchase was saved. The outcome will appear here when it answers; pressing "
            "Post again never records it twice."
        )
    elif outcome.failure:
        notice = f":x: {outcome.failure}"
    else:
        notice = ":x: Nothing was saved. " + "; ".join(f"{e.label}: {e.message}" for e in outcome.errors)
    accounts = _accounts_in(view)
    if not accounts:
        return build_failure_view(notice)
    # Back to the form with everything the user typed, so pressing Post again retries.
    return build_purchase_modal(
        accounts,
        values=values,
        meta=meta,
        default_currency=deps.default_currency,
        today=deps.clock.today(),
        notice=notice,
    )


@dataclass
class Late:
    """Delivers an outcome after the submission was acknowledged with "Posting..."."""

    client: WebClient
    view: dict[str, Any]
    deps: Deps
    values: FormValues
    meta: ModalMeta
    user: str
    logger: logging.Logger

    def deliver_future(self, future: "Future[Outcome]") -> None:
        try:
            outcome = future.result()
            self.deliver(outcome)
            self.announce(outcome)
        except Exception:
            self.logger.exception("delivering a late outcome failed")

    def announce(self, outcome: Outcome) -> None:
        """Tell the team channel about a new purchase; if that fails, add a warning to the receipt."""
        warning = notify_channel(self.deps, self.client, outcome, self.user)
        if warning is not None:
            self.deliver(Outcome(receipt=outcome.receipt, warning=warning))

    def deliver(self, outcome: Outcome) -> None:
        """Replace the modal with the outcome, or message the user if the modal is gone."""
        final = _final_view(self.view, self.deps, self.values, self.meta, outcome)
        try:
            self.client.views_update(view_id=self.view["id"], view=final)
            return
        except (SlackApiError, OSError) as exc:
            self.logger.warning("views.update with the outcome failed: %s", slack_error(exc))
        if outcome.unknown:
            return  # the real outcome follows; one message is enough
        if outcome.receipt is not None:
            text, blocks = build_receipt_message(outcome.receipt, warning=outcome.warning)
        else:
            reason = outcome.failure or "; ".join(f"{e.label}: {e.message}" for e in outcome.errors)
            text, blocks = f"Your purchase was not saved: {reason}", build_failure_view(reason)["blocks"]
        try:
            self.client.chat_postMessage(channel=self.user, text=text, blocks=blocks)
        except (SlackApiError, OSError) as exc:
            self.logger.error("could not tell %s the outcome: %s", self.user, slack_error(exc))
