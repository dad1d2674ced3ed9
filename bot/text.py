"""Terminal views of the ledger, as rich tables: aligned on a terminal, plain text when piped."""

import datetime as dt
from collections.abc import Sequence

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table

from db.bills import BUCKETS, AgingRow, OpenBill, Statement, bill_state
from db.documents import DocumentInfo, format_size
from db.models import Account, Announcement, TransactionHeader
from db.money import format_amount, from_minor
from db.reports import BalanceRow, TrialBalance
from db.vendors import VendorSummary

# Without a terminal (a pipe, a file, a test) rich would lay tables out in 80 columns and wrap them.
PIPED_WIDTH = 200


def console() -> Console:
    """Standard output for ledger data as it is: a name such as "[draft] Pens :x:" is neither rich
    markup nor an emoji code, and numbers are not recoloured."""
    out = Console(markup=False, highlight=False, emoji=False)
    if not out.is_terminal:
        out.width = PIPED_WIDTH
    return out


def _table(*columns: str, title: str | None = None, footer: bool = False) -> Table:
    """A borderless table with a rule under the header (and above the footer): a column whose name
    starts with ">" is right-aligned (amounts)."""
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE,
        show_edge=False,
        pad_edge=False,
        show_footer=footer,
    )
    for column in columns:
        table.add_column(column.removeprefix(">"), justify="right" if column.startswith(">") else "left")
    return table


def _indented(renderable: RenderableType) -> Padding:
    return Padding(renderable, (0, 0, 0, 2), expand=False)


def _major(minor: int, exp: int) -> str:
    return f"{from_minor(minor, exp):,}"


def transaction_view(header: TransactionHeader, documents: Sequence[DocumentInfo] = ()) -> Group:
    """The header's facts (the vendor by its current name), its items, its journal entries, its
    total and its documents."""
    exp = header.exponent
    facts = [
        f"Transaction {header.id}  [{header.status.value}]",
        f"  {header.effective_date.isoformat()}  {header.description}"
        + (f"  ({header.vendor})" if header.vendor else ""),
    ]
    if header.reverses_id:
        facts.append(f"  Reverses transaction {header.reverses_id}")
    if header.due_date is not None:
        facts.append(bill_line(header))
    if header.pays_id is not None:
        facts.append(f"  Pays bill {header.pays_id}")
    if header.void_reason:
        facts.append(f"  Voided by {header.voided_by}: {header.void_reason}")
    parts: list[RenderableType] = ["\n".join(facts)]
    if header.details:
        items = _table("#", "Item", ">Quantity", ">Unit price", ">Subtotal", "Account", title="Items")
        for d in header.details:
            items.add_row(
                str(d.line),
                d.item,
                str(d.quantity),
                _major(d.unit_price, exp),
                _major(d.subtotal, exp),
                d.account.code,
            )
        parts.append(_indented(items))
    if header.entries:
        journal = _table("Account", "Name", ">Debit", ">Credit", title="Journal")
        for e in header.entries:
            debit = _major(e.debit, exp) if e.debit else ""
            credit = _major(e.credit, exp) if e.credit else ""
            journal.add_row(e.account.code, e.account.name, debit, credit)
        parts.append(_indented(journal))
    else:
        parts.append("  Journal: no entries until approved")
    parts.append(f"  Total: {format_amount(header.total, exp, header.currency)}")
    if documents:
        parts.append(_indented(documents_table(documents, title="Documents")))
    return Group(*parts)


def documents_table(documents: Sequence[DocumentInfo], *, title: str | None = None) -> Table:
    table = _table("Name", "Type", ">Size", "Attached by", "Attached at (UTC)", "SHA-256", title=title)
    for d in documents:
        table.add_row(
            d.name,
            d.content_type,
            format_size(d.size),
            d.attached_by or "",
            f"{d.attached_at.astimezone(dt.UTC):%Y-%m-%d %H:%M}",
            d.sha256[:12],
        )
    return table


def documents_view(transaction_id: int, documents: Sequence[DocumentInfo]) -> RenderableType:
    if not documents:
        return f"Transaction {transaction_id} has no documents."
    return documents_table(documents)


def vendors_view(rows: Sequence[VendorSummary]) -> RenderableType:
    if not rows:
        return "No vendors yet."
    table = _table("Vendor", ">Purchases")
    for r in rows:
        table.add_row(r.name, str(r.purchases))
    return table


def _currency_table(currency: str, rows: list[BalanceRow], debit: int, credit: int) -> Table:
    exp = rows[0].exponent
    table = _table(
        "Account", "Name", ">Debits", ">Credits", ">Balance", title=f"Trial balance ({currency})", footer=True
    )
    for r in rows:
        table.add_row(r.code, r.name, _major(r.debit, exp), _major(r.credit, exp), _major(r.balance, exp))
    state = "balanced" if debit == credit else "NOT BALANCED"
    footers = ["Total", "", _major(debit, exp), _major(credit, exp), state]
    for column, footer in zip(table.columns, footers, strict=True):
        column.footer = footer
    return table


def trial_balance_view(tb: TrialBalance) -> RenderableType:
    """One table per currency, each with its totals and whether they balance."""
    if not tb.rows:
        return "No journal entries yet."
    parts: list[RenderableType] = []
    for currency, (debit, credit) in sorted(tb.totals().items()):
        rows = [r for r in tb.rows if r.currency == currency]
        if parts:
            parts.append("")  # a blank line between currencies
        parts.append(_currency_table(currency, rows, debit, credit))
    return Group(*parts)


def accounts_view(accounts: Sequence[Account]) -> Table:
    table = _table("Code", "Name", "Type", "Status")
    for a in accounts:
        table.add_row(a.code, a.name, a.type.value, "" if a.active else "closed")
    return table


def announcements_view(rows: Sequence[Announcement]) -> RenderableType:
    """Waiting (with the next try, in UTC) or given up, and the last error."""
    if not rows:
        return "Every announcement has been delivered."
    table = _table(">Transaction", "State", ">Attempts", "Last error")
    for r in rows:
        state = "given up" if r.given_up_at else f"next try {r.due_at:%Y-%m-%d %H:%M:%S} UTC"
        table.add_row(f"#{r.transaction_id}", state, str(r.attempts), r.last_error or "")
    return table


def bill_line(header: TransactionHeader) -> str:
    """`  Bill INV-7, due 2026-12-20: partly paid, USD 50.00 open`."""
    invoice = f" {header.invoice_number}" if header.invoice_number else ""
    due = header.due_date.isoformat() if header.due_date else ""
    open_amount = format_amount(header.total - header.paid, header.exponent, header.currency)
    return f"  Bill{invoice}, due {due}: {bill_state(header)}, {open_amount} open"


def bills_view(as_of: dt.date, bills: Sequence[OpenBill], rows: Sequence[AgingRow]) -> RenderableType:
    if not bills:
        return f"No open bills as of {as_of.isoformat()}."
    listing = _table(
        "ID", "Vendor", "Invoice", "Date", "Due", ">Days overdue", ">Open", "Currency", title="Open bills"
    )
    for b in bills:
        listing.add_row(
            str(b.id),
            b.vendor,
            b.invoice_number or "",
            b.date.isoformat(),
            b.due_date.isoformat(),
            str(max(b.days_overdue, 0)),
            _major(b.open, b.exponent),
            b.currency,
        )
    aged = _table(
        "Vendor", "Currency", *(f">{name}" for name in BUCKETS), ">Total", title=f"Aging as of {as_of}"
    )
    for r in rows:
        aged.add_row(
            r.vendor,
            r.currency,
            *(_major(r.buckets[name], r.exponent) for name in BUCKETS),
            _major(r.total, r.exponent),
        )
    return Group(listing, "", aged)


def statement_view(statement: Statement) -> RenderableType:
    head = f"{statement.vendor}: net {statement.terms_days}"
    if not statement.lines:
        return f"{head}\nNo bills or payments."
    table = _table("Date", "ID", "Kind", "Description", "Status", ">Amount", "Currency")
    for x in statement.lines:
        table.add_row(
            x.date.isoformat(),
            str(x.id),
            x.kind,
            x.description,
            x.status.value,
            _major(x.amount, x.exponent),
            x.currency,
        )
    owed = ", ".join(format_amount(v, exp, c) for c, (exp, v) in statement.balances().items())
    return Group(head, table, f"Owed: {owed}")
