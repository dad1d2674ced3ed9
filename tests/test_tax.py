"""Purchase taxes: codes, the split of an item into net and tax (one rounding rule per line), the report."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import URL

from db import tax
from db.errors import InvalidPurchase, LedgerError
from db.lifecycle import approve
from db.models import Account, JournalEntry
from db.posting import Origin, post_purchase
from db.reports import verify
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import item, make_purchase
from tests.test_cli import fails, ok, run

CODES: list[dict[str, object]] = [
    {"code": "PPN11", "name": "PPN 11%", "rate": "11", "account": "1400"},
    {"code": "VAT20", "name": "VAT 20% included", "rate": "20", "account": "1400", "inclusive": True},
]


def _entries(engine: Engine, tx: int) -> dict[str, tuple[int, int]]:
    with make_session_factory(engine).begin() as session:
        rows = session.execute(
            select(Account.code, JournalEntry.debit, JournalEntry.credit)
            .join(Account, Account.id == JournalEntry.account_id)
            .where(JournalEntry.transaction_id == tx)
        )
        return {code: (debit, credit) for code, debit, credit in rows}


def _load(engine: Engine) -> None:
    with make_session_factory(engine).begin() as session:
        tax.load_tax_codes(session, tax.parse_tax_codes(CODES))


def test_an_item_is_split_into_net_and_tax_with_the_total_exact(engine: Engine) -> None:
    _load(engine)
    factory = make_session_factory(engine)
    items = [
        item("Laptop", 2, "4000000", "1500") | {"tax": "ppn11"},
        item("Pen", 3, "0.35", "6100") | {"tax": "PPN11"},  # 1.05 -> tax 0.1155 -> 0.12 (half up, per line)
        item("Book", 1, "12.00", "6100") | {"tax": "VAT20"},  # included: tax 2.00, net 10.00
        item("Stamp", 1, "1.00", "6100"),
    ]
    with factory.begin() as session:
        posted = post_purchase(session, make_purchase(items=items))
    assert _entries(engine, posted.id) == {
        "1500": (800000000, 0),
        "6100": (105 + 1000 + 100, 0),
        "1400": (88000000 + 12 + 200, 0),
        "1000": (0, 800000000 + 105 + 12 + 1200 + 100 + 88000000),
    }
    with factory.begin() as session:
        assert verify(session) == []
        (ppn, vat) = tax.tax_report(session, None, None)
    assert (ppn.code, ppn.net, ppn.tax) == ("PPN11", 800000105, 88000012)
    assert (vat.code, vat.net, vat.tax) == ("VAT20", 1000, 200)


def test_a_pending_purchase_is_split_when_approved(engine: Engine) -> None:
    _load(engine)
    factory = make_session_factory(engine)
    with factory.begin() as session:
        waiting = post_purchase(
            session,
            make_purchase(items=[item("Chair", 1, "100.00") | {"tax": "PPN11"}]),
            Origin(user="U1"),
            pending=True,
        )
    with factory.begin() as session:
        approve(session, waiting.id, by="U2", clock=CLOCK)
    assert _entries(engine, waiting.id) == {"6100": (10000, 0), "1400": (1100, 0), "1000": (0, 11100)}


def test_an_unknown_tax_code_is_an_error_on_the_item(engine: Engine) -> None:
    factory = make_session_factory(engine)
    with pytest.raises(InvalidPurchase) as caught, factory.begin() as session:
        post_purchase(session, make_purchase(items=[item(), item() | {"tax": "GST5"}]))
    assert [(e.loc, e.message) for e in caught.value.errors] == [
        (("items", 1, "tax"), "tax code GST5 does not exist; purchase-bot tax list shows them")
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"rate": "-1"}, "tax code 1: rate: must be between 0 and 100 percent, not -1"),
        ({"rate": "101"}, "tax code 1: rate: must be between 0 and 100 percent, not 101"),
        ({"rate": "abc"}, "tax code 1: rate: 'abc' is not a number; give a percentage such as \"11\""),
    ],
)
def test_bad_rates_are_refused(row: dict[str, object], message: str) -> None:
    with pytest.raises(LedgerError) as caught:
        tax.parse_tax_codes([CODES[0] | row])
    assert str(caught.value) == message


def test_a_tax_code_on_an_expense_account_is_refused(engine: Engine) -> None:
    with pytest.raises(LedgerError) as caught, make_session_factory(engine).begin() as session:
        tax.load_tax_codes(session, tax.parse_tax_codes([CODES[0] | {"account": "6100"}]))
    assert str(caught.value) == (
        "tax code PPN11: account 6100 (Office Supplies) is an expense account; "
        "recoverable tax goes to an asset account such as 1400 Input Tax"
    )


def test_the_cli_loads_lists_and_reports(tmp_path: Path, sqlite_url: URL) -> None:
    codes = tmp_path / "tax.json"
    codes.write_text(json.dumps(CODES))
    assert ok(run(tmp_path, "tax", "load", str(codes), url=sqlite_url)) == "2 tax codes loaded.\n"
    listed = json.loads(ok(run(tmp_path, "tax", "list", "--json", url=sqlite_url)))
    assert listed[0] == {
        "code": "PPN11",
        "name": "PPN 11%",
        "rate": "11",
        "account": "1400",
        "inclusive": False,
    }
    purchase = tmp_path / "p.json"
    purchase.write_text(
        json.dumps(
            {
                "description": "Office equipment",
                "date": "2026-11-20",
                "items": [{"name": "Laptop", "quantity": 2, "price": 4000000, "tax": "PPN11"}],
            }
        )
    )
    ok(run(tmp_path, "post", str(purchase), url=sqlite_url, env={"DEFAULT_CURRENCY": "IDR"}))
    report = json.loads(
        ok(
            run(
                tmp_path,
                "tax",
                "report",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--json",
                url=sqlite_url,
            )
        )
    )
    assert report == [{"code": "PPN11", "currency": "IDR", "net": "8000000", "tax": "880000"}]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([CODES[0] | {"rate": "101"}]))
    assert fails(run(tmp_path, "tax", "load", str(bad), url=sqlite_url)) == (
        "error: tax code 1: rate: must be between 0 and 100 percent, not 101"
    )
    assert Decimal(listed[1]["rate"]) == 20
