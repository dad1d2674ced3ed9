"""`/purchase Office equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000 from Bank` -> form values."""

import re
from collections.abc import Sequence

from handlers.blocks.common import escape
from handlers.blocks.purchase_form import MAX_MODAL_ITEMS, FormValues, ItemValues
from handlers.caches import AccountOption

_PRICE = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_ITEM = re.compile(
    rf"^(?:(?P<qty>\d+)\s*(?:x\s+|×\s*)?)?(?P<name>.+?)\s*@\s*(?P<price>{_PRICE})$", re.IGNORECASE
)
_FROM = re.compile(r"\s+from\s+(?P<account>[^,@]+?)\s*$", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=\d)\s*[,;]\s+(?=\S)|\s*;\s*")


class QuickEntryError(ValueError):
    """The text could not be read; the message says which part and why."""


def parse_quick_entry(text: str, accounts: Sequence[AccountOption]) -> FormValues:
    text = " ".join(text.split())
    description, colon, rest = text.partition(":")
    if not colon or not description.strip() or not rest.strip():
        raise QuickEntryError(
            "Start with a description and a colon, then the items, e.g. `Snacks: 3 Coffee @ 4.50`"
        )
    payment = None
    found = _FROM.search(rest)
    if found:
        payment = _account(found["account"], accounts)
        rest = rest[: found.start()]
    items = []
    for part in _split_items(rest):
        match = _ITEM.match(part)
        if not match:
            raise QuickEntryError(
                f"Cannot read the item `{escape(part)}`; write it as `quantity name @ unit price`"
            )
        items.append(
            ItemValues(name=match["name"].strip(), quantity=match["qty"] or "1", unit_price=match["price"])
        )
    if len(items) > MAX_MODAL_ITEMS:
        raise QuickEntryError(
            f"That is {len(items)} items; one purchase here takes at most {MAX_MODAL_ITEMS}"
        )
    return FormValues(description=description.strip(), payment_account=payment, items=items)


def _split_items(rest: str) -> list[str]:
    """Items are separated by commas after a price ("@ 4,000,000, 4 Monitor") or by semicolons."""
    parts = [p.strip() for p in _SPLIT.split(rest.strip()) if p and p.strip()]
    if not parts:
        raise QuickEntryError("List at least one item, e.g. `2 Laptop @ 4000000`")
    return parts


def _account(name: str, accounts: Sequence[AccountOption]) -> str:
    wanted = name.strip().casefold()
    for account in accounts:
        if wanted in (account.code.casefold(), account.name.casefold()):
            return account.code
    known = ", ".join(a.name for a in accounts[:12])
    raise QuickEntryError(f"There is no account called `{escape(name.strip())}`; try one of: {escape(known)}")
