"""The chart of accounts: the default one, loading a replacement, and looking codes up."""

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.errors import LedgerError
from db.models import Account, AccountType


class AccountSpec(BaseModel):
    """One account as written in a chart file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")
    name: str = Field(min_length=1, max_length=100)
    type: AccountType
    active: bool = True


DEFAULT_CHART = (
    AccountSpec(code="1000", name="Cash", type=AccountType.ASSET),
    AccountSpec(code="1010", name="Bank", type=AccountType.ASSET),
    AccountSpec(code="1100", name="Inventory", type=AccountType.ASSET),
    AccountSpec(code="1400", name="Input Tax", type=AccountType.ASSET),
    AccountSpec(code="1500", name="Equipment", type=AccountType.ASSET),
    AccountSpec(code="2000", name="Accounts Payable", type=AccountType.LIABILITY),
    AccountSpec(code="2100", name="Company Credit Card", type=AccountType.LIABILITY),
    AccountSpec(code="3000", name="Owner's Equity", type=AccountType.EQUITY),
    AccountSpec(code="6100", name="Office Supplies", type=AccountType.EXPENSE),
    AccountSpec(code="6200", name="Software Subscriptions", type=AccountType.EXPENSE),
    AccountSpec(code="6300", name="Travel", type=AccountType.EXPENSE),
    AccountSpec(code="6400", name="Meals and Entertainment", type=AccountType.EXPENSE),
)


def parse_chart(rows: Iterable[object]) -> list[AccountSpec]:
    """Validate a chart file's rows; the error names the row and field."""
    specs: list[AccountSpec] = []
    for number, row in enumerate(rows, start=1):
        try:
            specs.append(AccountSpec.model_validate(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "row"
            raise LedgerError(f"Account {number} in the chart, {where}: {first['msg']}") from None
    codes = [s.code.upper() for s in specs]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise LedgerError(f"The chart lists account {', '.join(duplicates)} more than once")
    if not specs:
        raise LedgerError("The chart has no accounts")
    return specs


def seed_default_chart(session: Session) -> bool:
    """Create the default chart when there are no accounts yet; True when it did."""
    if session.scalar(select(Account.id).limit(1)) is not None:
        return False
    load_chart(session, DEFAULT_CHART)
    return True


def load_chart(session: Session, specs: Sequence[AccountSpec]) -> None:
    """Make the chart match `specs`: add new codes, rename, and close accounts no longer listed.

    Accounts are never deleted (entries refer to them); an unlisted one is marked inactive.
    """
    existing = {a.code: a for a in session.scalars(select(Account))}
    listed = set()
    for spec in specs:
        code = spec.code.upper()
        listed.add(code)
        account = existing.get(code)
        if account is None:
            session.add(Account(code=code, name=spec.name, type=spec.type, active=spec.active))
            continue
        if account.type != spec.type and account.type is not None:
            raise LedgerError(
                f"Account {code} is {account.type.value} in the books and cannot become {spec.type.value}"
            )
        account.name, account.active = spec.name, spec.active
    for code, account in existing.items():
        if code not in listed:
            account.active = False
    session.flush()


def list_accounts(session: Session, *, include_inactive: bool = False) -> list[Account]:
    query = select(Account).order_by(Account.code)
    if not include_inactive:
        query = query.where(Account.active)
    return list(session.scalars(query))


def accounts_by_code(session: Session, codes: Iterable[str]) -> dict[str, Account]:
    wanted = sorted(set(codes))
    return {a.code: a for a in session.scalars(select(Account).where(Account.code.in_(wanted)))}
