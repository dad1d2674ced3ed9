"""Block Kit for the App Home tab."""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from db.bills import OpenBill
from db.money import format_amount
from db.queries import Page, Summary
from db.reports import BalanceRow
from handlers.blocks.bills import bill_section
from handlers.blocks.browse import summary_line
from handlers.blocks.common import context, escape, plain, section, sections
from handlers.blocks.documents import Listed
from handlers.blocks.lifecycle import approval_buttons

HOME_BILLS = 10
BILLS_AHEAD = dt.timedelta(days=7)


def balances_text(rows: Sequence[BalanceRow]) -> str:
    if not rows:
        return "_No journal entries this month._"
    return "\n".join(
        f"`{r.code}` {escape(r.name)}: {format_amount(r.balance, r.exponent, r.currency)}"
        f" (Dr {format_amount(r.debit, r.exponent, r.currency)}, Cr {format_amount(r.credit, r.exponent, r.currency)})"
        for r in rows
    )


def home_view(
    *,
    recent: Sequence[Summary],
    awaiting: Page | None,
    balances: Sequence[BalanceRow],
    month: dt.date,
    may_record: bool = True,
    documents: Mapping[int, Sequence[Listed]] | None = None,
    bills_due: Sequence[OpenBill] = (),
) -> dict[str, Any]:
    """The App Home tab: the user's recent purchases, what awaits their approval, the month's balances;
    each purchase with its documents (`documents` by transaction ID, never their bytes); and the
    bills overdue or due within a week (`bills_due`), each with "Record payment"."""
    documents = documents or {}
    blocks: list[Block] = [
        HeaderBlock(text=plain("Purchases")),
        section(
            "Record a purchase with `/purchase`; `/purchase help` lists everything else."
            if may_record
            else "You can see purchases here; recording them needs a place in PURCHASE_ALLOWED_USERS.",
            "intro",
        ),
        DividerBlock(),
        section("*Your recent purchases*", "recent_title"),
    ]
    if recent:
        blocks += [section(summary_line(row, documents.get(row.id, ()))) for row in recent]
    else:
        blocks.append(context("You have not recorded any purchases yet."))
    if awaiting is not None:
        blocks += [DividerBlock(), section("*Waiting for your approval*", "awaiting_title")]
        for row in awaiting.rows:
            blocks.append(section(summary_line(row, documents.get(row.id, ()))))
            blocks.append(approval_buttons(row.id, f"approval_{row.id}"))
        if not awaiting.rows:
            blocks.append(context("Nothing waits for you."))
        elif awaiting.total > len(awaiting.rows):
            blocks.append(
                context(f"…and {awaiting.total - len(awaiting.rows)} more: `/purchase list pending`.")
            )
    if bills_due:
        blocks += [DividerBlock(), section("*Bills to pay: overdue or due within a week*", "bills_title")]
        blocks += [bill_section(bill) for bill in bills_due[:HOME_BILLS]]
        if len(bills_due) > HOME_BILLS:
            blocks.append(context(f"…and {len(bills_due) - HOME_BILLS} more: `purchase-bot bills`."))
    blocks += [
        DividerBlock(),
        section(f"*Account balances for {month:%B %Y}*", "balances"),
        # A chart of any size: as many sections as the lines take, none cut short.
        *sections(balances_text(balances)),
    ]
    return View(type="home", blocks=blocks[: View.blocks_max_length]).to_dict()
