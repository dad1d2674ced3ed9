"""Bills and payments (issue 12) with closed periods and the hash chain (issue 13), on both databases."""

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from db import chain, periods
from db.bills import BillState, bill_state
from db.errors import InvalidPayment
from db.lifecycle import void
from db.models import ChainLink
from db.posting import Origin
from db.reports import verify
from tests.clock import CLOCK
from tests.test_bills import bill, header, paying
from tests.test_cli import as_json, fails, ok, run, write
from tests.test_cli_bills import BILL


def _linked(factory: sessionmaker[Session]) -> list[int]:
    with factory.begin() as session:
        return list(session.scalars(select(ChainLink.transaction_id).order_by(ChainLink.seq)))


def test_a_bill_its_payment_and_the_payments_void_leave_the_chain_clean(
    factory: sessionmaker[Session],
) -> None:
    b = bill(factory).id
    payment = paying(factory, b, "100").id
    assert header(factory, b).paid == 10000  # changed by the trigger, after the bill was linked
    with factory.begin() as session:
        assert chain.verify(session) == []
        assert verify(session) == []
    with factory.begin() as session:
        reversal = void(session, payment, reason="wrong account", origin=Origin(user="U1"), clock=CLOCK).id
    assert header(factory, b).paid == 0
    assert bill_state(header(factory, b)) == BillState.OPEN
    # The bill is linked once (its `paid` is not part of what is chained); the payment when it was
    # recorded and again when it was voided; the void's reversal once.
    assert _linked(factory) == [b, payment, payment, reversal]
    with factory.begin() as session:
        assert chain.verify(session) == []
        assert verify(session) == []
        head = chain.head(session)
        assert head is not None
        assert chain.verify(session, expected_head=head.hash) == []


def test_a_payment_dated_in_a_closed_period_is_refused_and_an_open_date_pays(
    factory: sessionmaker[Session],
) -> None:
    b = bill(factory).id  # dated in 2026-11
    with factory.begin() as session:
        periods.close(session, "2026-11", by="U_ACCOUNTANT", clock=CLOCK)
    with pytest.raises(InvalidPayment) as caught:
        paying(factory, b, "100", date=dt.date(2026, 11, 25))
    (error,) = caught.value.errors
    assert error.loc == ("date",)
    assert error.message == periods.closed_message(dt.date(2026, 11, 25))
    assert header(factory, b).paid == 0
    # The bill, in the closed period, is still paid with a date in an open one.
    paid = paying(factory, b, date=dt.date(2026, 12, 1))
    assert header(factory, b).paid == header(factory, b).total
    assert bill_state(header(factory, b)) == BillState.PAID
    with factory.begin() as session:
        assert chain.verify(session) == []
        assert verify(session) == []
    assert _linked(factory) == [b, paid.id]


def test_cli_pay_into_a_closed_period_is_refused_naming_it(tmp_path: Path, sqlite_url: URL) -> None:
    ok(run(tmp_path, "db", "upgrade", url=sqlite_url))
    bill_id = str(
        as_json(run(tmp_path, "post", write(tmp_path / "bill.json", BILL), "--json", url=sqlite_url))["id"]
    )
    ok(run(tmp_path, "period", "close", "2026-10", "--by", "U_ACCOUNTANT", url=sqlite_url))
    refused = fails(
        run(
            tmp_path,
            "pay",
            bill_id,
            "--from",
            "1010",
            "--date",
            "2026-10-20",
            "--amount",
            "100",
            url=sqlite_url,
        )
    )
    assert "period 2026-10 is closed" in refused
    assert "purchase-bot period reopen 2026-10 --reason" in refused
    out = ok(run(tmp_path, "pay", bill_id, "--from", "1010", "--date", "2026-11-01", url=sqlite_url))
    assert "paid, USD 0.00 open" in out
    ok(run(tmp_path, "verify", url=sqlite_url))
