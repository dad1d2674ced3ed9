"""Exact money: amounts are Decimal in the domain and integer minor units in the database.

The scale of a currency (its ISO 4217 exponent, from CLDR via Babel) is looked up once, when a
transaction is posted, and stored on the transaction header, so historic amounts never change
meaning if the reference data does.
"""

from decimal import Decimal
from functools import cache

from babel.numbers import get_currency_precision, list_currencies

# The largest amount any single figure may hold, in major units; 15 significant digits.
MAX_AMOUNT = Decimal("9999999999999.99")


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def exponent(currency: str) -> int:
    """Digits after the decimal point for `currency` (USD 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


def to_minor(amount: Decimal, exp: int) -> int:
    """Exact conversion; the caller has already checked `amount` has at most `exp` decimals."""
    minor = amount.scaleb(exp)
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} has more than {exp} decimal places")
    return int(minor)


def from_minor(minor: int, exp: int) -> Decimal:
    return Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_amount(minor: int, exp: int, currency: str) -> str:
    """`1234567` with exponent 2 in USD -> `USD 12,345.67` (grouping, never float)."""
    value = from_minor(minor, exp)
    return f"{currency} {value:,}"
