"""Money is exact: what goes in comes back digit for digit on PostgreSQL and SQLite alike."""

from decimal import Decimal

import pytest
from sqlalchemy import Engine

from db.money import MAX_AMOUNT, format_amount, from_minor, to_minor
from db.reports import get_transaction, trial_balance, verify
from db.schemas import Purchase
from db.session import make_engine, make_session_factory
from tests.helpers import item, make_purchase, post


def round_trip(
    engine: Engine, purchase: Purchase
) -> tuple[Decimal, list[Decimal], list[tuple[Decimal, Decimal]]]:
    """Post on a committing engine, read back with a fresh engine: total, unit prices, entries."""
    posted = post(make_session_factory(engine), purchase)
    fresh = make_engine(engine.url)
    try:
        with make_session_factory(fresh).begin() as session:
            header = get_transaction(session, posted.id)
            exp = header.exponent
            return (
                from_minor(header.total, exp),
                [from_minor(d.unit_price, exp) for d in header.details],
                [(from_minor(e.debit, exp), from_minor(e.credit, exp)) for e in header.entries],
            )
    finally:
        fresh.dispose()


def test_ten_cents_plus_twenty_cents_is_thirty_cents(engine: Engine) -> None:
    assert 0.10 + 0.20 != 0.30  # the float trap this avoids
    purchase = make_purchase(items=[item("A", 1, "0.10"), item("B", 1, "0.20")], total_amount="0.30")
    total, prices, entries = round_trip(engine, purchase)
    assert total == Decimal("0.30")
    assert str(total) == "0.30"
    assert prices == [Decimal("0.10"), Decimal("0.20")]
    assert sorted(entries) == [(Decimal("0.00"), Decimal("0.30")), (Decimal("0.30"), Decimal("0.00"))]


def test_largest_amount_round_trips_exactly(engine: Engine) -> None:
    purchase = make_purchase(items=[item("Everything", 1, "9,999,999,999,999.99", "1500")])
    total, prices, entries = round_trip(engine, purchase)
    assert total == MAX_AMOUNT == Decimal("9999999999999.99")
    assert str(total) == "9999999999999.99"
    assert prices == [Decimal("9999999999999.99")]
    assert sorted(entries) == [(Decimal("0.00"), MAX_AMOUNT), (MAX_AMOUNT, Decimal("0.00"))]
    with make_session_factory(engine).begin() as session:
        tb = trial_balance(session)
        assert tb.totals() == {"USD": (999999999999999, 999999999999999)}


def test_largest_amount_split_over_items(engine: Engine) -> None:
    purchase = make_purchase(
        items=[item("Half", 1, "4999999999999.99"), item("Rest", 1, "5000000000000.00")],
        total_amount="9999999999999.99",
    )
    total, prices, _ = round_trip(engine, purchase)
    assert total == Decimal("9999999999999.99")
    assert sum(prices) == total


def test_many_cents_add_up_exactly(engine: Engine) -> None:
    purchase = make_purchase(items=[item(f"Cent {n}", 1, "0.01") for n in range(100)], total_amount="1.00")
    total, prices, entries = round_trip(engine, purchase)
    assert total == Decimal("1.00")
    assert prices == [Decimal("0.01")] * 100
    assert sum(d for d, _ in entries) == sum(c for _, c in entries) == Decimal("1.00")
    assert sum([0.01] * 100) != 1.0  # and again, floats would not


def test_a_million_cents(engine: Engine) -> None:
    total, _, _ = round_trip(
        engine, make_purchase(items=[item("Washers", 1_000_000, "0.01")], total_amount="10000")
    )
    assert total == Decimal("10000.00")


def test_tenths_summed_across_transactions_in_the_trial_balance(engine: Engine) -> None:
    factory = make_session_factory(engine)
    for _ in range(10):
        post(factory, make_purchase(items=[item("Tenth", 1, "0.10")]))
    post(factory, make_purchase(items=[item("Big", 3, "3333333333333.33")]))
    with factory.begin() as session:
        rows = {r.code: r for r in trial_balance(session).rows}
        assert from_minor(rows["6100"].debit, 2) == Decimal("9999999999999.99") + Decimal("1.00")
        assert from_minor(rows["1000"].credit, 2) == Decimal("10000000000000.99")
        assert verify(session) == []


@pytest.mark.parametrize(
    ("currency", "price", "minor", "shown"),
    [
        ("USD", "12.34", 1234, "USD 12.34"),
        ("JPY", "1500", 1500, "JPY 1,500"),
        ("KWD", "1.234", 1234, "KWD 1.234"),
        ("EUR", "0.05", 5, "EUR 0.05"),
    ],
)
def test_currency_exponent_is_stored_and_used(
    engine: Engine, currency: str, price: str, minor: int, shown: str
) -> None:
    posted = post(
        make_session_factory(engine), make_purchase(currency=currency, items=[item(unit_price=price)])
    )
    with make_session_factory(engine).begin() as session:
        header = get_transaction(session, posted.id)
        assert header.total == minor
        assert from_minor(header.total, header.exponent) == Decimal(price)
        assert str(from_minor(header.total, header.exponent)) == price
        assert format_amount(header.total, header.exponent, header.currency) == shown


@pytest.mark.parametrize(
    ("amount", "exp", "minor"),
    [("0.10", 2, 10), ("9999999999999.99", 2, 999999999999999), ("1500", 0, 1500), ("1.234", 3, 1234)],
)
def test_to_minor_and_back(amount: str, exp: int, minor: int) -> None:
    assert to_minor(Decimal(amount), exp) == minor
    assert from_minor(minor, exp) == Decimal(amount)


def test_to_minor_refuses_to_round() -> None:
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        to_minor(Decimal("0.005"), 2)
