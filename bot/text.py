"""Plain-text rendering of ledger views for the terminal."""

from db.models import TransactionHeader
from db.money import format_amount, from_minor
from db.reports import TrialBalance


def transaction_text(header: TransactionHeader) -> str:
    exp, cur = header.exponent, header.currency
    lines = [
        f"Transaction {header.id}  [{header.status.value}]",
        f"  {header.effective_date.isoformat()}  {header.description}"
        + (f"  ({header.vendor})" if header.vendor else ""),
    ]
    if header.reverses_id:
        lines.append(f"  Reverses transaction {header.reverses_id}")
    if header.void_reason:
        lines.append(f"  Voided by {header.voided_by}: {header.void_reason}")
    if header.details:
        lines.append("  Items:")
        for d in header.details:
            lines.append(
                f"    {d.line:>3}. {d.item:<30} {d.quantity:>7} x {from_minor(d.unit_price, exp):>18,}"
                f" = {from_minor(d.subtotal, exp):>20,}  -> {d.account.code}"
            )
    lines.append("  Journal:")
    if not header.entries:
        lines.append("    (no entries until approved)")
    for e in header.entries:
        debit = f"{from_minor(e.debit, exp):,}" if e.debit else ""
        credit = f"{from_minor(e.credit, exp):,}" if e.credit else ""
        lines.append(f"    {e.account.code:<6} {e.account.name:<28} Dr {debit:>20}  Cr {credit:>20}")
    lines.append(f"  Total: {format_amount(header.total, exp, cur)}")
    return "\n".join(lines)


def trial_balance_text(tb: TrialBalance) -> str:
    if not tb.rows:
        return "No journal entries yet."
    header = f"{'Account':<8}{'Name':<28}{'Debits':>22}{'Credits':>22}{'Balance':>22}"
    lines: list[str] = []
    totals = tb.totals()
    for currency in sorted(totals):
        rows = [r for r in tb.rows if r.currency == currency]
        exp = rows[0].exponent
        lines += [f"Trial balance ({currency})", header, "-" * len(header)]
        for r in rows:
            lines.append(
                f"{r.code:<8}{r.name[:27]:<28}{from_minor(r.debit, exp):>22,}"
                f"{from_minor(r.credit, exp):>22,}{from_minor(r.balance, exp):>22,}"
            )
        debit, credit = totals[currency]
        lines.append("-" * len(header))
        state = "balanced" if debit == credit else "NOT BALANCED"
        lines.append(f"{'Total':<36}{from_minor(debit, exp):>22,}{from_minor(credit, exp):>22,}  {state}")
        lines.append("")
    return "\n".join(lines).rstrip()
