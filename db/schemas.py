"""The purchase as typed by a person, validated once for the CLI and for Slack alike.

Use `parse_purchase` (or `Purchase.model_validate`): field problems and cross-field problems
(decimal places for the currency, the stated total) both come out as `InvalidPurchase`, each
naming the field and saying what is wrong.
"""

import datetime as dt
import hashlib
import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Self

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from db.errors import FieldError, InvalidPurchase
from db.money import MAX_AMOUNT, exponent, known_currencies, to_minor

MAX_ITEMS = 100
MAX_VENDOR = 200  # db.vendors.MAX_NAME
MAX_QUANTITY = 1_000_000
DEFAULT_PAYMENT_ACCOUNT = "1000"
DEFAULT_ITEM_ACCOUNT = "1100"
DEFAULT_CURRENCY = "USD"

_PLAIN_NUMBER = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?|\d+(\.\d+)?", re.ASCII)


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _error(kind: str, message: str, **ctx: Any) -> PydanticCustomError:
    return PydanticCustomError(kind, message, ctx or None)


def _parse_amount(value: Any) -> Decimal:
    """Plain digits with an optional decimal point (and optional thousands commas); never a float."""
    if isinstance(value, bool):
        raise _error("amount_type", "must be an amount like 12.50, not true/false")
    if isinstance(value, float):
        raise _error(
            "amount_float", "must be an exact amount; write it as text or a whole number, not a float"
        )
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        # A JSON number like 1e3 arrives as Decimal("1E+3"): refuse exponent notation here too.
        if value.is_finite() and int(value.as_tuple().exponent) > 0:
            raise _error("amount_format", "must be a plain amount like 1250 or 1250.50 (digits only)")
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("-"):
            raise _error("amount_negative", "must be more than zero")
        if not _PLAIN_NUMBER.fullmatch(text):
            raise _error("amount_format", "must be a plain amount like 1250 or 1250.50 (digits only)")
        amount = Decimal(text.replace(",", ""))
    else:
        raise _error("amount_type", "must be an amount like 12.50")
    if not amount.is_finite():
        raise _error("amount_format", "must be a plain amount like 1250 or 1250.50 (digits only)")
    if amount <= 0:
        raise _error("amount_positive", "must be more than zero")
    if amount > MAX_AMOUNT:
        raise _error("amount_max", "is too large; the most a ledger amount can be is 9,999,999,999,999.99")
    return amount


def _parse_quantity(value: Any) -> int:
    if isinstance(value, (bool, float)):
        raise _error("quantity_type", "must be a whole number like 3")
    if isinstance(value, Decimal):
        if not value.is_finite() or value != value.to_integral_value():
            raise _error("quantity_type", "must be a whole number like 3")
        value = int(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text.isascii() or not text.lstrip("-").isdigit():
            raise _error("quantity_type", "must be a whole number like 3")
        value = int(text)
    if not isinstance(value, int):
        raise _error("quantity_type", "must be a whole number like 3")
    if value <= 0:
        raise _error("quantity_positive", "must be at least 1")
    if value > MAX_QUANTITY:
        raise _error("quantity_max", "must be at most 1,000,000")
    return value


def _clean_text(value: Any) -> Any:
    if isinstance(value, str):
        value = unicodedata.normalize("NFC", value).strip()
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise _error("text_control", "must not contain control characters such as line breaks or tabs")
        if any(c in _BIDI_CONTROLS for c in value):
            # Direction overrides make text display differently from what is stored ("Trojan Source").
            raise _error("text_bidi", "must not contain invisible text-direction characters")
    return value


def _optional_text(value: Any) -> Any:
    value = _clean_text(value)
    return value or None


def _vendor_name(value: Any) -> Any:
    """No vendor (None or ""), or a name; a name of only spaces is a mistake, not "no vendor"."""
    if isinstance(value, str) and value and not value.strip():
        raise _error("vendor_blank", "must not be only spaces; leave it empty for no vendor")
    return _optional_text(value)


def _tax_code(value: Any) -> Any:
    value = _optional_text(value)
    return value.upper() if isinstance(value, str) else value


def _account_code(value: Any) -> Any:
    value = _clean_text(value)
    if isinstance(value, str):
        value = value.upper()
    return value


def _currency(value: Any) -> Any:
    value = _clean_text(value)
    if isinstance(value, str):
        value = value.upper()
        if value not in known_currencies():
            raise _error("currency", "must be a three-letter ISO currency code such as USD or EUR")
    return value


Amount = Annotated[Decimal, BeforeValidator(_parse_amount)]
Quantity = Annotated[int, BeforeValidator(_parse_quantity)]
Text = Annotated[str, BeforeValidator(_clean_text)]
AccountCode = Annotated[str, BeforeValidator(_account_code), Field(min_length=1, max_length=20)]


class PurchaseItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, loc_by_alias=False)

    name: Annotated[Text, Field(min_length=1, max_length=100)]
    quantity: Quantity
    unit_price: Annotated[Amount, Field(validation_alias=AliasChoices("unit_price", "price"))]
    account: AccountCode = DEFAULT_ITEM_ACCOUNT
    # A tax code (db/tax.py), e.g. "PPN11"; its rate and account are looked up when it is posted.
    tax: Annotated[Annotated[str, Field(max_length=16)] | None, BeforeValidator(_tax_code)] = None


class Purchase(BaseModel):
    """One purchase: what was bought, when, from whom, and how it was paid."""

    model_config = ConfigDict(extra="forbid", frozen=True, loc_by_alias=False)

    description: Annotated[Text, Field(min_length=1, max_length=200)]
    date: dt.date
    vendor: Annotated[Annotated[str, Field(max_length=MAX_VENDOR)] | None, BeforeValidator(_vendor_name)] = (
        None
    )
    currency: Annotated[str, BeforeValidator(_currency)] = DEFAULT_CURRENCY
    items: Annotated[list[PurchaseItem], Field(min_length=1, max_length=MAX_ITEMS)]
    payment_account: AccountCode = DEFAULT_PAYMENT_ACCOUNT
    total_amount: Amount | None = None
    # Bills only (a payable payment account, db/bills.py): when it is due, the vendor's number for it.
    due_date: dt.date | None = None
    invoice_number: Annotated[
        Annotated[str, Field(max_length=64)] | None, BeforeValidator(_optional_text)
    ] = None
    idempotency_key: Annotated[
        Annotated[str, Field(max_length=200)] | None, BeforeValidator(_optional_text)
    ] = None

    @model_validator(mode="after")
    def _check_amounts(self) -> Self:
        errors = _scale_errors(self)
        if errors:
            raise InvalidPurchase(errors)
        if self.total_amount is not None and self.total_amount != self.items_total:
            raise InvalidPurchase(
                [
                    FieldError(
                        ("total_amount",),
                        f"is {self.total_amount:,} but the items add up to {self.items_total:,}",
                    )
                ]
            )
        if self.due_date is not None and self.due_date < self.date:
            raise InvalidPurchase(
                [FieldError(("due_date",), f"must not be before the bill's date, {self.date.isoformat()}")]
            )
        if self.items_total > MAX_AMOUNT:
            raise InvalidPurchase(
                [
                    FieldError(
                        ("items",), "add up to more than 9,999,999,999,999.99, the most one purchase can be"
                    )
                ]
            )
        return self

    @property
    def exponent(self) -> int:
        return exponent(self.currency)

    @property
    def items_total(self) -> Decimal:
        return sum((item.quantity * item.unit_price for item in self.items), Decimal(0))

    def request_hash(self) -> str:
        """A digest of what the purchase says, so a reused idempotency key can be told apart."""
        exp = self.exponent
        canonical = {
            "description": self.description,
            "date": self.date.isoformat(),
            "vendor": self.vendor,
            "currency": self.currency,
            "payment_account": self.payment_account,
            # An item's tax code is added only when it has one, so keys stored before taxes still match.
            "items": [
                [i.name, i.quantity, to_minor(i.unit_price, exp), i.account, *([i.tax] if i.tax else [])]
                for i in self.items
            ],
        }
        # Only when given, so the digests of purchases recorded before bills existed stay the same.
        if self.due_date is not None:
            canonical["due_date"] = self.due_date.isoformat()
        if self.invoice_number is not None:
            canonical["invoice_number"] = self.invoice_number
        raw = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


def _scale_errors(purchase: Purchase) -> list[FieldError]:
    exp = purchase.exponent
    places = "no decimal places" if exp == 0 else f"at most {exp} decimal place{'s' * (exp != 1)}"
    message = f"has too many decimal places; {purchase.currency} amounts have {places}"
    errors = [
        FieldError(("items", i, "unit_price"), message)
        for i, item in enumerate(purchase.items)
        if _decimals(item.unit_price) > exp
    ]
    if purchase.total_amount is not None and _decimals(purchase.total_amount) > exp:
        errors.append(FieldError(("total_amount",), message))
    return errors


def _decimals(amount: Decimal) -> int:
    exp = amount.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    return max(0, -exp)


_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a field a purchase has",
    "date_from_datetime_parsing": "must be a date like 2026-11-23",
    "date_parsing": "must be a date like 2026-11-23",
    "date_type": "must be a date like 2026-11-23",
    "date_from_datetime_inexact": "must be a date like 2026-11-23",
    "string_type": "must be text",
    "list_type": "must be a list of line items",
    "model_type": "must be an object with name, quantity and unit price",
    "model_attributes_type": "must be an object with name, quantity and unit price",
    "dict_type": "must be an object",
}


def _friendly(error: Any) -> FieldError:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    loc = tuple(error["loc"])
    is_items = loc == ("items",)
    if loc == () and kind in ("model_type", "model_attributes_type"):
        message = "must be an object with a description and line items"
    elif kind in ("too_short", "string_too_short"):
        message = "needs at least one line item" if is_items else "must not be empty"
    elif kind in ("too_long", "string_too_long"):
        limit = ctx.get("max_length")
        message = (
            f"has too many line items; at most {limit}"
            if is_items
            else f"is too long; at most {limit} characters"
        )
    elif kind in _MESSAGES:
        message = _MESSAGES[kind]
    else:
        message = error["msg"]
    return FieldError(loc, message)


def parse_purchase(data: Any, *, today: dt.date) -> Purchase:
    """Validate raw input (a dict from JSON or from a Slack modal) into a `Purchase`; one without a
    date is dated `today` (the books' day, from `db.clock`)."""
    if isinstance(data, dict) and "date" not in data:
        data = {**data, "date": today}
    try:
        return Purchase.model_validate(data)
    except ValidationError as exc:
        raise InvalidPurchase([_friendly(e) for e in exc.errors()]) from None


def parse_amount(text: str) -> Decimal:
    """The same rules as a purchase amount, for other inputs (approval thresholds)."""
    try:
        return _parse_amount(text)
    except (PydanticCustomError, InvalidOperation) as exc:
        raise ValueError(str(exc)) from None
