"""Bills and payments in the ledger: buy on account, pay in parts, never past zero (on both databases)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from db.bills import BillState, aging, bill_state, open_bills, set_terms, vendor_statement
from db.errors import IdempotencyConflict, InvalidPayment, InvalidPurchase, LedgerError, NotFound
from db.lifecycle import approve, reject, void
from db.models import Status, TransactionHeader
from db.payments import PaymentRequest, pay
from db.posting import Origin, Posted
from db.reports import get_transaction, trial_balance, verify
from db.session import make_session_factory
from tests.clock import BOOKS_DAY, SetClock, SetTime
from tests.helpers import item, make_purchase, post
from tests.test_concurrency import together


def bill(factory: sessionmaker[Session], *, pending: bool = False, **overrides: object) -> Posted:
    data: dict[str, object] = {
        "description": "Laptops",
        "vendor": "Dell",
        "items": [item("Laptop", 2, "150.00", "1500")],
        "payment_account": "2000",
    }
    data.update(overrides)
    return post(factory, make_purchase(**data), pending=pending)


def paying(
    factory: sessionmaker[Session],
    bill_id: int,
    amount: str | None = None,
    *,
    from_account: str = "1010",
    date: dt.date | None = None,
    idempotency_key: str | None = None,
) -> Posted:
    request = PaymentRequest(bill_id, from_account, amount, date, idempotency_key)
    with factory.begin() as session:
        return pay(session, request, Origin(user="U1"), clock=SetClock())


def header(factory: sessionmaker[Session], transaction_id: int) -> TransactionHeader:
    with factory.begin() as session:
        return get_transaction(session, transaction_id)


def test_a_bill_is_due_by_its_vendors_terms_and_credits_the_payable(factory: sessionmaker[Session]) -> None:
    first = bill(factory)
    h = header(factory, first.id)
    assert h.due_date == BOOKS_DAY + dt.timedelta(days=30)
    assert bill_state(h) == BillState.OPEN
    assert sorted((e.account.code, e.debit, e.credit) for e in h.entries) == [
        ("1500", 30000, 0),
        ("2000", 0, 30000),
    ]
    with factory.begin() as session:
        set_terms(session, "DELL ", 45)
    assert header(factory, bill(factory).id).due_date == BOOKS_DAY + dt.timedelta(days=45)
    given = bill(factory, due_date="2026-12-31", invoice_number="INV-1")
    assert header(factory, given.id).due_date == dt.date(2026, 12, 31)


def test_bill_then_two_partial_payments_then_a_refused_overpayment(factory: sessionmaker[Session]) -> None:
    b = bill(factory).id
    paying(factory, b, "100")
    assert bill_state(header(factory, b)) == BillState.PARTLY_PAID
    second = paying(factory, b, "150.00", from_account="1000")
    with pytest.raises(InvalidPayment, match=r"Amount: is more than bill \d+ still owes \(USD 50.00\)|50.00"):
        paying(factory, b, "50.01")
    rest = paying(factory, b)  # the default: what is still open
    h = header(factory, b)
    assert (h.paid, bill_state(h)) == (30000, BillState.PAID)
    assert sorted((e.account.code, e.debit, e.credit) for e in header(factory, second.id).entries) == [
        ("1000", 0, 15000),
        ("2000", 15000, 0),
    ]
    assert header(factory, rest.id).total == 5000
    with pytest.raises(LedgerError, match="already paid in full"):
        paying(factory, b, "1")
    with factory.begin() as session:
        assert verify(session) == []
        assert next(r for r in trial_balance(session, "2000").rows if r.currency == "USD").balance == 0


@pytest.mark.parametrize(
    ("amount", "from_account", "date", "message"),
    [
        ("0", "1010", None, "Amount: must be more than zero"),
        ("-5", "1010", None, "Amount: must be more than zero"),
        ("1.001", "1010", None, "Amount: has too many decimal places"),
        (
            "10",
            "2100",
            None,
            "From account: must be an asset account .* 2100 Company Credit Card is a liability",
        ),
        ("10", "6100", None, "From account: must be an asset account .* is an expense account"),
        ("10", "9999", None, "From account: account 9999 does not exist"),
        ("10", "1010", dt.date(2026, 11, 19), "Date: must not be before the bill's date, 2026-11-20"),
    ],
)
def test_bad_payments_save_nothing(
    factory: sessionmaker[Session], amount: str, from_account: str, date: dt.date | None, message: str
) -> None:
    b = bill(factory).id
    with pytest.raises(InvalidPayment, match=message):
        paying(factory, b, amount, from_account=from_account, date=date)
    with factory.begin() as session:
        assert session.scalars(select(TransactionHeader).where(TransactionHeader.pays_id == b)).all() == []


def test_what_cannot_be_paid(factory: sessionmaker[Session]) -> None:
    cash = post(factory, make_purchase()).id
    with pytest.raises(LedgerError, match=f"Transaction {cash} is not a bill"):
        paying(factory, cash)
    with pytest.raises(NotFound, match="There is no transaction 999999"):
        paying(factory, 999999)
    pending = bill(factory, pending=True).id
    with pytest.raises(LedgerError, match="waiting for approval"):
        paying(factory, pending)
    with factory.begin() as session:
        reject(session, pending, by="U9", reason="no", clock=SetClock())
    with pytest.raises(LedgerError, match="was rejected"):
        paying(factory, pending)
    voided = bill(factory).id
    with factory.begin() as session:
        void(session, voided, reason="wrong", origin=Origin(user="U1"), clock=SetClock())
    with pytest.raises(LedgerError, match="is voided"):
        paying(factory, voided)
    payment = paying(factory, bill(factory).id, "1").id
    with pytest.raises(LedgerError, match="is a payment"):
        paying(factory, payment)


def test_bad_bills_save_nothing(factory: sessionmaker[Session]) -> None:
    with pytest.raises(InvalidPurchase, match="Vendor: is required for a bill"):
        bill(factory, vendor=None)
    with pytest.raises(InvalidPurchase, match="Due date: must not be before the bill's date, 2026-11-20"):
        bill(factory, due_date="2026-11-19")
    with pytest.raises(InvalidPurchase, match="Due date: is only for a bill; 1000 Cash is paid at once"):
        bill(factory, payment_account="1000", due_date="2026-12-01")
    first = bill(factory, invoice_number="INV-7").id
    with pytest.raises(
        InvalidPurchase, match=f"Invoice number: INV-7 from Dell is already recorded as transaction {first}"
    ):
        bill(factory, vendor="dell", invoice_number="INV-7")
    bill(factory, vendor="HP", invoice_number="INV-7")  # another vendor's number is fine


def test_a_bill_with_payments_cannot_be_voided_until_they_are_and_voiding_one_reopens_it(
    factory: sessionmaker[Session],
) -> None:
    b = bill(factory).id
    p1 = paying(factory, b, "100").id
    p2 = paying(factory, b).id
    clock = SetClock()
    with (
        factory.begin() as session,
        pytest.raises(LedgerError, match=f"Bill {b} has payments \\({p1}, {p2}\\)"),
    ):
        void(session, b, reason="wrong", origin=Origin(user="U1"), clock=clock)
    with factory.begin() as session:
        void(session, p2, reason="bounced", origin=Origin(user="U1"), clock=clock)
    h = header(factory, b)
    assert (h.paid, bill_state(h)) == (10000, BillState.PARTLY_PAID)
    with factory.begin() as session:
        void(session, p1, reason="bounced", origin=Origin(user="U1"), clock=clock)
    assert bill_state(header(factory, b)) == BillState.OPEN
    with factory.begin() as session:
        void(session, b, reason="wrong", origin=Origin(user="U1"), clock=clock)
    with factory.begin() as session:  # (the hash chain links the void when it commits)
        assert verify(session) == []


def test_payments_are_idempotent(factory: sessionmaker[Session]) -> None:
    b = bill(factory).id
    first = paying(factory, b, idempotency_key="slack:T1:pay:1")
    again = paying(factory, b, idempotency_key="slack:T1:pay:1")
    assert (again.id, again.replayed) == (first.id, True)
    with pytest.raises(IdempotencyConflict):
        paying(factory, b, "1", idempotency_key="slack:T1:pay:1")


def test_the_database_refuses_an_overpayment_and_setting_paid(factory: sessionmaker[Session]) -> None:
    """Past the Python checks: a payment header written directly cannot overpay the bill."""
    b = bill(factory).id
    with factory.begin() as session:
        h = session.get_one(TransactionHeader, b)
        row = {
            c: getattr(h, c) for c in ("vendor_id", "currency", "exponent", "payment_account_id", "source")
        }
    with pytest.raises(DBAPIError), factory.begin() as session:
        session.execute(
            insert(TransactionHeader).values(
                effective_date=BOOKS_DAY,
                description="Too much",
                total=30001,
                status=Status.POSTED,
                pays_id=b,
                **row,
            )
        )
    # PostgreSQL lets only the payment triggers set `paid`; SQLite (one local writer) only its CHECK.
    with factory.begin() as session:
        postgres = session.get_bind().dialect.name == "postgresql"
    with pytest.raises(DBAPIError), factory.begin() as session:
        session.execute(
            update(TransactionHeader).where(TransactionHeader.id == b).values(paid=1 if postgres else 30001)
        )
    cash = post(factory, make_purchase()).id
    with pytest.raises(DBAPIError), factory.begin() as session:
        session.execute(
            insert(TransactionHeader).values(
                effective_date=BOOKS_DAY,
                description="Not a bill",
                total=1,
                status=Status.POSTED,
                pays_id=cash,
                **row,
            )
        )


def test_concurrent_payments_never_overpay(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    b = bill(factory).id  # 300.00
    results = together(8, lambda i: paying(factory, b, "100"))
    paid = [r for r in results if isinstance(r, Posted)]
    refused = [r for r in results if not isinstance(r, Posted)]
    assert len(paid) == 3
    assert all(isinstance(r, InvalidPayment) or "already paid" in str(r) for r in refused), refused
    with factory.begin() as session:
        assert session.get_one(TransactionHeader, b).paid == 30000
        assert verify(session) == []
        assert trial_balance(session).balanced


def test_concurrent_requests_for_the_last_100_one_wins(pg_engine: Engine) -> None:
    factory = make_session_factory(pg_engine)
    b = bill(factory).id
    paying(factory, b, "200")
    results = together(8, lambda i: paying(factory, b, "100", idempotency_key=None))
    assert len([r for r in results if isinstance(r, Posted)]) == 1
    with factory.begin() as session:
        assert verify(session) == []


def test_aging_buckets_around_month_ends_in_the_books_time_zone(factory: sessionmaker[Session]) -> None:
    """Due dates and "today" are the books' days: at 23:30 UTC on Jan 31 it is Feb 1 in Jakarta."""
    due = {
        "A": "2026-12-31",
        "B": "2026-12-01",
        "C": "2026-11-30",
        "D": "2026-11-02",
        "E": "2026-11-01",
        "F": "2027-02-01",
    }
    ids = {name: bill(factory, vendor=name, date="2026-10-01", due_date=day).id for name, day in due.items()}
    clock = SetClock(
        zone=ZoneInfo("Asia/Jakarta"), source=SetTime(dt.datetime(2027, 1, 31, 23, 30, tzinfo=dt.UTC))
    )
    today = clock.today()
    assert today == dt.date(2027, 2, 1)
    with factory.begin() as session:
        bills = {b.vendor: b for b in open_bills(session, as_of=today)}
        rows = {r.vendor: r for r in aging(list(bills.values()))}
    assert {v: b.bucket for v, b in bills.items()} == {
        "A": "31-60",  # 32 days
        "B": "61-90",  # 62 days
        "C": "61-90",  # 63 days
        "D": "over 90",  # 91 days
        "E": "over 90",
        "F": "not yet due",  # due today
    }
    assert bills["A"].days_overdue == 32
    assert rows["A"].buckets["31-60"] == rows["A"].total == 30000
    paying(factory, ids["A"], "100", date=dt.date(2027, 2, 2))
    with factory.begin() as session:
        # A payment dated after the day asked about does not count yet.
        assert [b.open for b in open_bills(session, as_of=today, vendor="a")] == [30000]
        assert [b.open for b in open_bills(session, as_of=dt.date(2027, 2, 2), vendor="a")] == [20000]
        statement = vendor_statement(session, "A")
    assert [(line.kind, line.amount) for line in statement.lines] == [("bill", 30000), ("payment", -10000)]
    assert statement.balances() == {"USD": (2, 20000)}


def test_verify_names_a_payable_whose_balance_differs_from_its_bills(factory: sessionmaker[Session]) -> None:
    bill(factory)
    with factory.begin() as session:
        # A purchase debiting the payable directly (not a payment) leaves it out of step with its bills.
        post(factory, make_purchase(items=[item("Refund", 1, "1.00", "2000")], payment_account="1000"))
        problems = [str(p) for p in verify(session)]
    assert problems == ["Account 2000: balance in USD (29900) differs from what its open bills owe (30000)"]


def test_approving_a_pending_bill_makes_it_payable(factory: sessionmaker[Session]) -> None:
    b = bill(factory, pending=True).id
    with factory.begin() as session:
        approve(session, b, by="U9", clock=SetClock())
    paying(factory, b, "1")
    assert bill_state(header(factory, b)) == BillState.PARTLY_PAID
