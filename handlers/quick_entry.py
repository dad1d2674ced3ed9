"""`/purchase Office equipment: 2 Laptop @ 4000000, 4 Monitor @ 500000 from Bank at Dell` -> form values.

After the items, `from <payment account>` and `at <vendor>` may follow, in either order."""

import datetime as dt
import re
from collections.abc import Sequence

from handlers.blocks.common import escape
from handlers.blocks.purchase_form import MAX_MODAL_ITEMS, MAX_VENDOR, FormValues, ItemValues
from handlers.caches import AccountOption

_PRICE = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_ITEM = re.compile(
    rf"^(?:(?P<qty>\d+)\s*(?:x\s+|×\s*)?)?(?P<name>.+?)\s*@\s*(?P<price>{_PRICE})$", re.IGNORECASE
)
_FROM = re.compile(r"\s+from\s+(?P<account>[^,@]+?)\s*$", re.IGNORECASE)
# A vendor may hold commas ("Dell, Inc.") but no `@` (that is an item) and no ` from ` (that is the account).
_AT = re.compile(r"\s+at\s+(?P<vendor>(?:(?!\s+from\s)[^@])+?)\s*$", re.IGNORECASE)
# A bill: bought on account (from a vendor), optionally with its due date.
_ON_ACCOUNT = re.compile(
    r"\s+on\s+account(?:\s+(?:from|at)\s+(?P<vendor>(?:(?!\s+due\s)[^@])+?))?(?:\s+due\s+(?P<due>\S+))?\s*$",
    re.IGNORECASE,
)
_SPLIT = re.compile(r"(?<=\d)\s*[,;]\s+(?=\S)|\s*;\s*")


_MARKUP = re.compile(r"<([^<>]*)>")


def unmark(text: str) -> str:
    """A Slack message's text as a person reads it: `<@U1|ann>` -> `@ann`, `<#C1|general>` ->
    `#general`, `<!here>` -> `@here`, `<https://x|label>` -> `label`, entities decoded, white space
    collapsed."""

    def plain(match: re.Match[str]) -> str:
        inner = match[1]
        target, bar, label = inner.partition("|")
        if target.startswith(("@", "#")):
            return target[0] + (label.lstrip("@#") if bar else target[1:])
        if target.startswith("!"):
            return label if bar else "@" + target[1:].split("^")[0]
        return label if bar else target.removeprefix("mailto:")

    text = _MARKUP.sub(plain, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


class QuickEntryError(ValueError):
    """The text could not be read; the message says which part and why."""


def parse_quick_entry(text: str, accounts: Sequence[AccountOption]) -> FormValues:
    text = " ".join(text.split())
    description, colon, rest = text.partition(":")
    if not colon or not description.strip() or not rest.strip():
        raise QuickEntryError(
            "Start with a description and a colon, then the items, e.g. `Snacks: 3 Coffee @ 4.50`"
        )
    bill = _ON_ACCOUNT.search(rest)
    due = None
    if bill:
        rest = rest[: bill.start()]
        due = _due(bill["due"]) if bill["due"] else None
    payment, vendor, rest = _payment_and_vendor(rest, accounts)
    if bill:
        payment, vendor = _payable(accounts), (bill["vendor"] or "").strip() or vendor
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
    return FormValues(
        description=description.strip(), vendor=vendor, payment_account=payment, due_date=due, items=items
    )


def _due(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise QuickEntryError(f"`{escape(text)}` is not a due date; write it as `due 2026-12-31`") from None


def _payable(accounts: Sequence[AccountOption]) -> str:
    """The account a bill is owed on: Accounts Payable, else the chart's first liability."""
    liabilities = [a for a in accounts if a.type == "liability"]
    named = [a for a in liabilities if a.name.casefold() == "accounts payable"]
    if not (named or liabilities):
        raise QuickEntryError("The chart of accounts has no payable (liability) account to buy on account")
    return (named or liabilities)[0].code


def _payment_and_vendor(rest: str, accounts: Sequence[AccountOption]) -> tuple[str | None, str | None, str]:
    """`... from Bank at Dell` or `... at Dell from Bank`: the account's code, the vendor, and the
    items before them. `from Cash at hand` stays an account when the chart has one by that name."""
    payment = vendor = None
    for _ in range(2):
        found = _FROM.search(rest) if payment is None else None
        code = _known(found["account"], accounts) if found else None
        if found and code:
            payment, rest = code, rest[: found.start()]
            continue
        at = _AT.search(rest) if vendor is None else None
        if at:
            vendor, rest = at["vendor"].strip(), rest[: at.start()]
            if len(vendor) > MAX_VENDOR:
                raise QuickEntryError(f"The vendor's name is too long; at most {MAX_VENDOR} characters")
            continue
        if found:
            _account(found["account"], accounts)  # raises: no such account
        break
    return payment, vendor, rest


def _split_items(rest: str) -> list[str]:
    """Items are separated by commas after a price ("@ 4,000,000, 4 Monitor") or by semicolons."""
    parts = [p.strip() for p in _SPLIT.split(rest.strip()) if p and p.strip()]
    if not parts:
        raise QuickEntryError("List at least one item, e.g. `2 Laptop @ 4000000`")
    return parts


def _known(name: str, accounts: Sequence[AccountOption]) -> str | None:
    wanted = name.strip().casefold()
    for account in accounts:
        if wanted in (account.code.casefold(), account.name.casefold()):
            return account.code
    return None


def _account(name: str, accounts: Sequence[AccountOption]) -> str:
    code = _known(name, accounts)
    if code is not None:
        return code
    known = ", ".join(a.name for a in accounts[:12])
    raise QuickEntryError(f"There is no account called `{escape(name.strip())}`; try one of: {escape(known)}")
