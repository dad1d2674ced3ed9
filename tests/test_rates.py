"""A base currency: rates from a CSV file, base amounts stored with each posting, the base trial balance."""

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from db import rates
from db.errors import InvalidPurchase, LedgerError
from db.lifecycle import void
from db.models import JournalEntry, TransactionHeader
from db.posting import Origin, post_purchase
from db.reports import verify
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import item, make_purchase
from tests.test_cli import fails, ok, run

RATES = "date,currency,rate\n2026-11-01,EUR,1.10\n2026-11-15,EUR,1.0837\n2026-11-01,IDR,0.0000631\n"


def _load(engine: Engine) -> None:
    with make_session_factory(engine).begin() as session:
        rates.load_rates(session, rates.parse_rates(RATES))


def test_a_posting_stores_its_rate_and_balanced_base_amounts(engine: Engine) -> None:
    _load(engine)
    factory = make_session_factory(engine)
    items = [item("A", 1, "10.01", "6100"), item("B", 1, "10.01", "6200"), item("C", 1, "10.01", "6300")]
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase(currency="EUR", items=items), base_currency="USD")
    with factory.begin() as session:
        header = session.get_one(TransactionHeader, posted.id)
        assert (header.base_currency, header.rate) == ("USD", "1.0837")  # the latest on or before 2026-11-20
        entries = session.scalars(select(JournalEntry).where(JournalEntry.transaction_id == posted.id)).all()
        # 10.01 EUR x 1.0837 = 10.847837 -> 10.85 USD each; the credit is their sum, not round(30.03 x 1.0837).
        assert sorted((e.base_debit, e.base_credit) for e in entries) == [
            (0, 3255),
            (1085, 0),
            (1085, 0),
            (1085, 0),
        ]
    with factory.begin() as session:
        void(session, posted.id, reason="typo", origin=Origin(user="U1"), clock=CLOCK)
    with factory.begin() as session:
        tb = rates.base_trial_balance(session, "USD")
        assert tb.balanced
        assert verify(session) == []


def test_the_base_trial_balance_balances_across_currencies(engine: Engine) -> None:
    _load(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        post_purchase(session, make_purchase(currency="EUR"), base_currency="USD")
        post_purchase(session, make_purchase(currency="USD"), base_currency="USD")
        post_purchase(
            session, make_purchase(currency="IDR", items=[item("Laptop", 2, "4000000")]), base_currency="USD"
        )
    with factory.begin() as session:
        tb = rates.base_trial_balance(session, "USD")
    assert tb.balanced
    assert {r.currency for r in tb.rows} == {"USD"}
    cash = next(r for r in tb.rows if r.code == "1000")
    assert cash.credit == 18304 + 16890 + 50480  # EUR 168.90 x 1.0837, USD 168.90, IDR 8,000,000 x 0.0000631


def test_a_missing_rate_names_the_currency_and_date_and_saves_nothing(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(InvalidPurchase) as caught, factory.begin() as session:
        post_purchase(session, make_purchase(currency="EUR"), base_currency="USD")
    assert [(e.loc, e.message) for e in caught.value.errors] == [
        (
            ("currency",),
            "there is no EUR to USD exchange rate on or before 2026-11-20; load one with purchase-bot rates load FILE",
        )
    ]
    with factory.begin() as session:
        assert session.scalar(select(TransactionHeader.id)) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "date,currency\n2026-11-01,EUR\n",
            "the rates file has no rate column; its first line must be date,currency,rate",
        ),
        ("date,currency,rate\n2026-11-01,EUR,0\n", "line 2: the rate must be more than 0, not 0"),
        ("date,currency,rate\n2026-11-01,EUR,abc\n", "line 2: the rate 'abc' is not a number"),
        ("date,currency,rate\n2026-02-30,EUR,1.1\n", "line 2: '2026-02-30' is not a date (YYYY-MM-DD)"),
    ],
)
def test_bad_rates_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(LedgerError) as caught:
        rates.parse_rates(text)
    assert str(caught.value) == message


def test_the_cli_loads_lists_and_values_in_the_base_currency(tmp_path: Path, sqlite_url: URL) -> None:
    file = tmp_path / "rates.csv"
    file.write_text(RATES)
    assert ok(run(tmp_path, "rates", "load", str(file), url=sqlite_url)) == "3 rates loaded (into USD).\n"
    listed = json.loads(ok(run(tmp_path, "rates", "list", "--json", url=sqlite_url)))
    assert listed[0] == {"date": "2026-11-01", "currency": "EUR", "rate": "1.10"}
    purchase = tmp_path / "p.json"
    purchase.write_text(
        json.dumps(
            {
                "description": "Desk",
                "date": "2026-11-20",
                "currency": "EUR",
                "items": [{"name": "Desk", "quantity": 1, "price": "100.00"}],
            }
        )
    )
    ok(run(tmp_path, "post", str(purchase), url=sqlite_url))
    tb = json.loads(ok(run(tmp_path, "trial-balance", "--base", "--json", url=sqlite_url)))
    assert "108.37" in json.dumps(tb)
    purchase.write_text(
        json.dumps(
            {
                "description": "Desk",
                "date": "2026-10-20",
                "currency": "EUR",
                "items": [{"name": "Desk", "quantity": 1, "price": "100.00"}],
            }
        )
    )
    assert fails(run(tmp_path, "post", str(purchase), url=sqlite_url)) == (
        "error: Currency: there is no EUR to USD exchange rate on or before 2026-10-20; "
        "load one with purchase-bot rates load FILE"
    )


def test_a_recorded_rate_cannot_be_edited(engine: Engine) -> None:
    _load(engine)
    with make_session_factory(engine).begin() as session:
        posted = post_purchase(session, make_purchase(currency="EUR"), base_currency="USD")
    with pytest.raises(DBAPIError, match="cannot be edited"), engine.begin() as conn:
        conn.execute(text("UPDATE transaction_headers SET rate = '2' WHERE id = :id"), {"id": posted.id})
