"""Bad input is refused with the field and the reason, before anything is written; odd but valid input
is stored exactly as typed."""

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from db.errors import FieldError, InvalidPurchase
from db.models import Account
from db.money import from_minor
from db.posting import post_purchase
from db.reports import count_rows, get_transaction
from db.schemas import parse_purchase
from db.session import make_session_factory
from tests.clock import BOOKS_DAY
from tests.helpers import ZERO_ROWS, item, purchase_data

Loc = tuple[str | int, ...]
PRICE: Loc = ("items", 0, "unit_price")
QTY: Loc = ("items", 0, "quantity")
PLAIN = "must be a plain amount like 1250 or 1250.50 (digits only)"
POSITIVE = "must be more than zero"
TOO_LARGE = "is too large; the most a ledger amount can be is 9,999,999,999,999.99"
WHOLE = "must be a whole number like 3"
DATE = "must be a date like 2026-11-23"
CONTROL = "must not contain control characters such as line breaks or tabs"
NOT_A_FIELD = "is not a field a purchase has"


def one_item(**fields: Any) -> dict[str, Any]:
    """A purchase with a single item whose fields are replaced by `fields`."""
    return purchase_data(items=[{**item(), **fields}])


def without(key: str) -> dict[str, Any]:
    data = purchase_data()
    del data[key]
    return data


def case(case_id: str, data: Any, *errors: tuple[Loc, str]) -> Any:
    return pytest.param(data, list(errors), id=case_id)


BAD_INPUT = [
    # Amounts
    case("negative-price-text", one_item(unit_price="-5"), (PRICE, POSITIVE)),
    case("negative-price-int", one_item(unit_price=-5), (PRICE, POSITIVE)),
    case("negative-price-decimal", one_item(unit_price=Decimal("-0.01")), (PRICE, POSITIVE)),
    case("zero-price", one_item(unit_price="0"), (PRICE, POSITIVE)),
    case("zero-price-decimals", one_item(unit_price="0.00"), (PRICE, POSITIVE)),
    case("huge-price", one_item(unit_price="10000000000000"), (PRICE, TOO_LARGE)),
    case("huge-price-int", one_item(unit_price=10**30), (PRICE, TOO_LARGE)),
    case(
        "items-add-up-to-too-much",
        one_item(quantity=2, unit_price="9999999999999.99"),
        (("items",), "add up to more than 9,999,999,999,999.99, the most one purchase can be"),
    ),
    case(
        "three-decimals-usd",
        one_item(unit_price="1.234"),
        (PRICE, "has too many decimal places; USD amounts have at most 2 decimal places"),
    ),
    case("exponent-notation", one_item(unit_price="1e3"), (PRICE, PLAIN)),
    case("exponent-json-number", one_item(unit_price=Decimal("1E+3")), (PRICE, PLAIN)),
    case(
        "bidi-override",
        purchase_data(description="Invoice \u202egnp.exe"),
        (("description",), "must not contain invisible text-direction characters"),
    ),
    case("nan-text", one_item(unit_price="NaN"), (PRICE, PLAIN)),
    case("nan-decimal", one_item(unit_price=Decimal("NaN")), (PRICE, PLAIN)),
    case("infinity-text", one_item(unit_price="Infinity"), (PRICE, PLAIN)),
    case("infinity-decimal", one_item(unit_price=Decimal("Infinity")), (PRICE, PLAIN)),
    case(
        "float",
        one_item(unit_price=12.5),
        (PRICE, "must be an exact amount; write it as text or a whole number, not a float"),
    ),
    case("bool-price", one_item(unit_price=True), (PRICE, "must be an amount like 12.50, not true/false")),
    case("list-price", one_item(unit_price=["1"]), (PRICE, "must be an amount like 12.50")),
    case("currency-symbol", one_item(unit_price="$12"), (PRICE, PLAIN)),
    case("currency-suffix", one_item(unit_price="12.50 USD"), (PRICE, PLAIN)),
    case("plus-sign", one_item(unit_price="+5"), (PRICE, PLAIN)),
    case("bad-thousands", one_item(unit_price="1,00"), (PRICE, PLAIN)),
    case("fullwidth-digits", one_item(unit_price="\uff11\uff12"), (PRICE, PLAIN)),
    case("arabic-indic-digits", one_item(unit_price="\u0661\u0662"), (PRICE, PLAIN)),
    case("missing-price", purchase_data(items=[{"name": "Pen", "quantity": 1}]), (PRICE, "is required")),
    case("null-price", one_item(unit_price=None), (PRICE, "must be an amount like 12.50")),
    # Quantities
    case("zero-quantity", one_item(quantity=0), (QTY, "must be at least 1")),
    case("negative-quantity", one_item(quantity=-3), (QTY, "must be at least 1")),
    case("fractional-quantity-float", one_item(quantity=1.5), (QTY, WHOLE)),
    case("fractional-quantity-text", one_item(quantity="1.5"), (QTY, WHOLE)),
    case("bool-quantity", one_item(quantity=True), (QTY, WHOLE)),
    case("huge-quantity", one_item(quantity=1_000_001), (QTY, "must be at most 1,000,000")),
    # Items
    case("empty-items", purchase_data(items=[]), (("items",), "needs at least one line item")),
    case(
        "101-items",
        purchase_data(items=[item(f"Item {n}") for n in range(101)]),
        (("items",), "has too many line items; at most 100"),
    ),
    case("items-not-a-list", purchase_data(items="laptop"), (("items",), "must be a list of line items")),
    case(
        "item-not-an-object",
        purchase_data(items=["laptop"]),
        (("items", 0), "must be an object with name, quantity and unit price"),
    ),
    case("missing-items", without("items"), (("items",), "is required")),
    case(
        "101-char-item-name",
        one_item(name="x" * 101),
        (("items", 0, "name"), "is too long; at most 100 characters"),
    ),
    case("empty-item-name", one_item(name=""), (("items", 0, "name"), "must not be empty")),
    case("tab-in-item-name", one_item(name="Desk\tchair"), (("items", 0, "name"), CONTROL)),
    case(
        "extra-item-field",
        one_item(colour="red"),
        (("items", 0, "colour"), NOT_A_FIELD),
    ),
    # Text
    case(
        "201-char-description",
        purchase_data(description="d" * 201),
        (("description",), "is too long; at most 200 characters"),
    ),
    case("empty-description", purchase_data(description=""), (("description",), "must not be empty")),
    case("blank-description", purchase_data(description="   "), (("description",), "must not be empty")),
    case("missing-description", without("description"), (("description",), "is required")),
    case("null-description", purchase_data(description=None), (("description",), "must be text")),
    case("number-description", purchase_data(description=42), (("description",), "must be text")),
    case("newline-in-description", purchase_data(description="Paper\nand ink"), (("description",), CONTROL)),
    case("nul-in-description", purchase_data(description="Paper\x00"), (("description",), CONTROL)),
    case("escape-in-vendor", purchase_data(vendor="Evil\x1b[31mCo"), (("vendor",), CONTROL)),
    case(
        "201-char-vendor",
        purchase_data(vendor="v" * 201),
        (("vendor",), "is too long; at most 200 characters"),
    ),
    case(
        "blank-vendor",
        purchase_data(vendor="   "),
        (("vendor",), "must not be only spaces; leave it empty for no vendor"),
    ),
    case(
        "201-char-idempotency-key",
        purchase_data(idempotency_key="k" * 201),
        (("idempotency_key",), "is too long; at most 200 characters"),
    ),
    # Dates
    case("impossible-date", purchase_data(date="2026-13-01"), (("date",), DATE)),
    case("february-30", purchase_data(date="2026-02-30"), (("date",), DATE)),
    case("words-for-date", purchase_data(date="yesterday"), (("date",), DATE)),
    case("date-with-time", purchase_data(date="2026-11-20T10:30:00"), (("date",), DATE)),
    # Currency
    case(
        "unknown-currency",
        purchase_data(currency="ZZZ"),
        (("currency",), "must be a three-letter ISO currency code such as USD or EUR"),
    ),
    case(
        "currency-name",
        purchase_data(currency="Dollars"),
        (("currency",), "must be a three-letter ISO currency code such as USD or EUR"),
    ),
    case(
        "jpy-with-decimals",
        one_item(unit_price="100.5") | {"currency": "JPY"},
        (PRICE, "has too many decimal places; JPY amounts have no decimal places"),
    ),
    case(
        "kwd-four-decimals",
        one_item(unit_price="1.2345") | {"currency": "KWD"},
        (PRICE, "has too many decimal places; KWD amounts have at most 3 decimal places"),
    ),
    # Total
    case(
        "total-mismatch",
        purchase_data(total_amount="100.00"),
        (("total_amount",), "is 100.00 but the items add up to 168.90"),
    ),
    case(
        "total-three-decimals",
        purchase_data(total_amount="168.901"),
        (("total_amount",), "has too many decimal places; USD amounts have at most 2 decimal places"),
    ),
    case("total-zero", purchase_data(total_amount="0"), (("total_amount",), POSITIVE)),
    case(
        "total-float",
        purchase_data(total_amount=168.9),
        (("total_amount",), "must be an exact amount; write it as text or a whole number, not a float"),
    ),
    # Shape
    case("extra-field", purchase_data(notes="hi"), (("notes",), NOT_A_FIELD)),
    case(
        "not-an-object",
        ["Printer paper"],
        ((), "must be an object with a description and line items"),
    ),
    case(
        "too-long-account-code",
        purchase_data(payment_account="1" * 21),
        (("payment_account",), "is too long; at most 20 characters"),
    ),
    # The chart of accounts (checked against the database)
    case(
        "unknown-item-account",
        one_item(account="9999"),
        (("items", 0, "account"), "account 9999 does not exist in the chart of accounts"),
    ),
    case(
        "unknown-payment-account",
        purchase_data(payment_account="1999"),
        (("payment_account",), "account 1999 does not exist in the chart of accounts"),
    ),
    case(
        "closed-item-account",
        one_item(account="6300"),
        (("items", 0, "account"), "account 6300 (Travel) is closed"),
    ),
    case(
        "payment-account-is-item-account",
        one_item(account="1000"),
        (("payment_account",), "must differ from the accounts the items are booked to"),
    ),
    # Several problems at once: all are reported
    case(
        "several-problems",
        purchase_data(description="", items=[item(quantity=0, unit_price="-1")]),
        (("description",), "must not be empty"),
        (QTY, "must be at least 1"),
        (PRICE, POSITIVE),
    ),
    case(
        "unknown-and-closed-accounts",
        purchase_data(items=[item(account="9999"), item(account="6300")]),
        (("items", 0, "account"), "account 9999 does not exist in the chart of accounts"),
        (("items", 1, "account"), "account 6300 (Travel) is closed"),
    ),
]


def _close_travel(session: Session) -> None:
    session.execute(update(Account).where(Account.code == "6300").values(active=False))


@pytest.mark.parametrize(("data", "expected"), BAD_INPUT)
def test_bad_input_is_refused_with_its_reason_and_nothing_is_written(
    factory: sessionmaker[Session], data: Any, expected: list[tuple[Loc, str]]
) -> None:
    with factory.begin() as session:
        _close_travel(session)
        with pytest.raises(InvalidPurchase) as info:
            post_purchase(session, parse_purchase(data, today=BOOKS_DAY))
        assert [(e.loc, e.message) for e in info.value.errors] == expected
        # Refused before the first write, not merely rolled back afterwards.
        assert count_rows(session) == ZERO_ROWS
    with factory.begin() as session:
        assert count_rows(session) == ZERO_ROWS


def test_bad_input_table_is_big_enough() -> None:
    assert len(BAD_INPUT) >= 30


def test_error_message_names_the_field_in_words() -> None:
    data = purchase_data(items=[item(), item(unit_price="-5")], description="")
    with pytest.raises(InvalidPurchase) as info:
        parse_purchase(data, today=BOOKS_DAY)
    assert str(info.value) == "Description: must not be empty; Item 2 unit price: must be more than zero"


@pytest.mark.parametrize(
    ("loc", "label"),
    [
        (("items", 1, "unit_price"), "Item 2 unit price"),
        (("items",), "Items"),
        (("total_amount",), "Total amount"),
        (("payment_account",), "Payment account"),
        ((), "Purchase"),
    ],
)
def test_field_error_label(loc: Loc, label: str) -> None:
    assert FieldError(loc, "x").label == label


ODD_BUT_VALID: dict[str, Any] = {
    "description": "Café für Büro — 日本語のノート ✓",
    "vendor": 'O\'Brien & Sons "Ltd" %s %(x)s \\ ;',
    "items": [
        item("☕️ Coffee beans 🫘", 3, "12.50", "6400"),
        item("'; DROP TABLE transaction_headers; --", 1, "1.00", "6100"),
        item("Robert'); DELETE FROM journal_entries WHERE ('1'='1", 2, "0.01", "6100"),
        item("日" * 100, 1, "0.99", "6100"),
    ],
}


def test_unicode_emoji_and_sql_looking_text_are_stored_verbatim(engine: Engine) -> None:
    data = purchase_data(**ODD_BUT_VALID)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        posted = post_purchase(session, parse_purchase(data, today=BOOKS_DAY))
    with make_session_factory(engine).begin() as session:
        header = get_transaction(session, posted.id)
        assert header.description == ODD_BUT_VALID["description"]
        assert header.vendor == ODD_BUT_VALID["vendor"]
        assert [d.item for d in header.details] == [i["name"] for i in ODD_BUT_VALID["items"]]
        assert [from_minor(d.unit_price, header.exponent) for d in header.details] == [
            Decimal(i["unit_price"]) for i in ODD_BUT_VALID["items"]
        ]
        assert count_rows(session) == {
            "transaction_headers": 1,
            "transaction_details": 4,
            "journal_entries": 3,
        }


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(purchase_data(description="é" * 200), id="200-multibyte-chars"),
        pytest.param(one_item(unit_price="9999999999999.99"), id="largest-amount"),
        pytest.param(purchase_data(items=[item(f"I{n}") for n in range(100)]), id="100-items"),
        pytest.param(one_item(quantity=1_000_000, unit_price="0.01"), id="largest-quantity"),
        pytest.param(one_item(unit_price="1,234.50"), id="thousands-commas"),
        pytest.param(one_item(unit_price=" 12.50 "), id="padded-amount"),
        pytest.param(one_item(unit_price=Decimal("12.50")), id="decimal-amount"),
        pytest.param(one_item(quantity="3", unit_price=7), id="text-quantity-int-price"),
        pytest.param(purchase_data(currency="usd", total_amount="168.90"), id="lower-case-currency"),
        pytest.param(one_item(unit_price="1500") | {"currency": "JPY"}, id="jpy-whole"),
        pytest.param(one_item(unit_price="1.234") | {"currency": "KWD"}, id="kwd-three-decimals"),
    ],
)
def test_valid_edge_inputs_are_posted(factory: sessionmaker[Session], data: dict[str, Any]) -> None:
    with factory.begin() as session:
        posted = post_purchase(session, parse_purchase(data, today=BOOKS_DAY))
    with factory.begin() as session:
        header = get_transaction(session, posted.id)
        assert sum(d.subtotal for d in header.details) == header.total
        assert sum(e.debit for e in header.entries) == sum(e.credit for e in header.entries) == header.total
