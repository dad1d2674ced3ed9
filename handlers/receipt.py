"""A transaction as the Slack views show it: its receipt (what was bought, the journal) and its audit
(where it stands, who put it there). Plain values, read in the session that posted or changed it."""

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from db.bills import BillState, bill_state
from db.documents import DocumentInfo
from db.models import Account, JournalEntry, Status, TransactionDetail, TransactionHeader
from db.money import format_amount, from_minor
from db.posting import Written


@dataclass(frozen=True)
class ReceiptItem:
    name: str
    quantity: int
    unit_price: str
    subtotal: str
    account: str


@dataclass(frozen=True)
class ReceiptEntry:
    account: str
    debit: str
    credit: str


@dataclass(frozen=True)
class Receipt:
    id: int
    status: str
    date: dt.date
    description: str
    vendor: str | None
    total: str
    items: tuple[ReceiptItem, ...]
    entries: tuple[ReceiptEntry, ...]
    created_by: str | None
    replayed: bool = False
    # Its documents (receipts, invoices), as listed; never their bytes.
    documents: tuple[DocumentInfo, ...] = ()
    # The permalink of the message it was recorded from, if any.
    source_link: str | None = None
    # A bill's terms and state ("Due 2026-12-20, invoice INV-7: partly paid, USD 50.00 open"), and
    # whether a payment can be recorded now; a payment's bill.
    bill: str | None = None
    payable: bool = False
    pays_id: int | None = None

    @classmethod
    def of(cls, header: TransactionHeader, *, replayed: bool = False) -> "Receipt":
        """From a header loaded with its items, entries and their accounts (db.reports.get_transaction)."""
        accounts = {d.account_id: d.account for d in header.details}
        accounts.update({e.account_id: e.account for e in header.entries})
        return cls._build(header, header.details, header.entries, accounts, replayed)

    @classmethod
    def of_written(cls, written: Written) -> "Receipt":
        """From what a posting just wrote: no need to read it back."""
        return cls._build(written.header, written.details, written.entries, written.accounts, False)

    @classmethod
    def _build(
        cls,
        header: TransactionHeader,
        details: Sequence[TransactionDetail],
        entries: Sequence[JournalEntry],
        accounts: Mapping[int, Account],
        replayed: bool,
    ) -> "Receipt":
        exp = header.exponent

        def money(minor: int) -> str:
            return f"{from_minor(minor, exp):,}" if minor else ""

        return cls(
            id=header.id,
            status=header.status.value,
            date=header.effective_date,
            description=header.description,
            vendor=header.vendor,
            total=format_amount(header.total, exp, header.currency),
            items=tuple(
                ReceiptItem(
                    d.item, d.quantity, money(d.unit_price), money(d.subtotal), accounts[d.account_id].code
                )
                for d in details
            ),
            entries=tuple(
                ReceiptEntry(
                    f"{accounts[e.account_id].code} {accounts[e.account_id].name}",
                    money(e.debit),
                    money(e.credit),
                )
                for e in entries
            ),
            created_by=header.created_by,
            replayed=replayed,
            source_link=header.source_link,
            bill=bill_text(header),
            payable=header.status == Status.POSTED
            and bill_state(header) in (BillState.OPEN, BillState.PARTLY_PAID),
            pays_id=header.pays_id,
        )


def bill_text(header: TransactionHeader) -> str | None:
    """A bill's due date, invoice number and state, or None for a transaction that is not a bill."""
    state = bill_state(header)
    if state is None or header.due_date is None:
        return None
    invoice = f", invoice {header.invoice_number}" if header.invoice_number else ""
    still = format_amount(header.total - header.paid, header.exponent, header.currency)
    return f"Due {header.due_date.isoformat()}{invoice}: {state.value}, {still} open"


@dataclass(frozen=True)
class Audit:
    """The state changes of one transaction, for status lines."""

    id: int
    status: Status
    created_by: str | None = None
    created_at: dt.datetime | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None
    decision_note: str | None = None
    voided_by: str | None = None
    voided_at: dt.datetime | None = None
    void_reason: str | None = None
    reverses_id: int | None = None
    reversal_id: int | None = None

    @classmethod
    def of(cls, header: TransactionHeader, reversal_id: int | None = None) -> "Audit":
        return cls(
            id=header.id,
            status=header.status,
            created_by=header.created_by,
            created_at=header.created_at,
            decided_by=header.decided_by,
            decided_at=header.decided_at,
            decision_note=header.decision_note,
            voided_by=header.voided_by,
            voided_at=header.voided_at,
            void_reason=header.void_reason,
            reverses_id=header.reverses_id,
            reversal_id=reversal_id,
        )
