"""Errors whose message is the reason, in words the person who typed the purchase understands."""

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
    """A void, approval or rejection that was already done by someone else."""


class Unbalanced(LedgerError):
    pass


class DatabaseUnavailable(LedgerError):
    pass
