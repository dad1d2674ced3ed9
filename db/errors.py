"""Errors whose message is the reason, in words the person who typed the purchase understands.

They carry the facts as values too (who decided, when), so a front end can say it its own way;
`str(error)` is plain text, with no front end's markup.
"""

import datetime as dt
from dataclasses import dataclass


class LedgerError(Exception):
    """Nothing was saved; `str(error)` says why."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field. `loc` is the field's path, e.g. ("items", 1, "unit_price")."""

    loc: tuple[str | int, ...]
    message: str

    @property
    def label(self) -> str:
        """`("items", 1, "unit_price")` -> `Item 2 unit price`."""
        parts: list[str] = []
        for i, part in enumerate(self.loc):
            if isinstance(part, int):
                parts.append(str(part + 1))
            else:
                word = part.replace("_", " ")
                if i == 0 and word == "items" and len(self.loc) > 1:
                    word = "item"
                parts.append(word)
        text = " ".join(parts) or "purchase"
        return text[0].upper() + text[1:]


class InvalidPurchase(LedgerError):
    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.label}: {e.message}" for e in errors))


class IdempotencyConflict(LedgerError):
    pass


class NotFound(LedgerError):
    pass


class AlreadyDecided(LedgerError):
    """A void, approval or rejection of a transaction someone already decided: the decision as values."""

    def __init__(
        self,
        transaction_id: int,
        status: str,
        *,
        by: str | None = None,
        at: dt.datetime | None = None,
        reason: str | None = None,
    ) -> None:
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)  # SQLite gives back the UTC times it stores without their zone
        self.transaction_id, self.status, self.by, self.at, self.reason = (
            transaction_id,
            status,
            by,
            at,
            reason,
        )
        who = f" by {by}" if by else ""
        when = f" on {at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if at else ""
        why = f": {reason}" if reason else ""
        super().__init__(f"Transaction {transaction_id} was already {status}{who}{when}{why}")


class Unbalanced(LedgerError):
    pass


class InvalidPayment(InvalidPurchase):
    """A payment with fields that are wrong (`amount`, `from_account`, `date`); nothing was saved."""
