"""Exports: the Beancount file passes bean-check with the trial balance's balances; CSV adds up too."""

import csv
import datetime as dt
import io
import os
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core import realization
from beancount.core.data import Transaction
from sqlalchemy import Engine, select, text

from db.export import beancount_account, export_beancount, export_csv
from db.lifecycle import approve, reject, void
from db.models import Account
from db.money import from_minor
from db.payments import PaymentRequest, pay
from db.posting import Origin
from db.reports import trial_balance
from db.session import make_session_factory
from tests.clock import CLOCK
from tests.helpers import item, make_purchase, post

BIN = Path(sys.executable).parent
SLACK = Origin(source="slack", user="U111", team="T1", channel="C1")


def _books(engine: Engine) -> dict[str, int]:
    """Several purchases in three currencies, a void, an approval, a rejection and one still pending."""
    factory = make_session_factory(engine)
    ids: dict[str, int] = {}
    ids["paper"] = post(factory, make_purchase(), SLACK).id
    ids["laptops"] = post(
        factory,
        make_purchase(
            description='Laptops "Pro" \\ 14',
            vendor='Store "B"',
            date="2026-10-02",
            items=[item("Laptop", 2, "1299.99", "1500"), item("Bag", 2, "49.95", "6100")],
            payment_account="2100",
        ),
        SLACK,
    ).id
    ids["yen"] = post(
        factory,
        make_purchase(currency="JPY", vendor=None, items=[item("Tea", 3, "1200", "6400")], date="2026-11-02"),
        SLACK,
    ).id
    ids["euro"] = post(
        factory,
        make_purchase(currency="EUR", items=[item("Train", 1, "89.40", "6300")], payment_account="1010"),
    ).id
    ids["voided"] = post(factory, make_purchase(description="Typed twice", date="2026-11-03"), SLACK).id
    ids["approved"] = post(
        factory,
        make_purchase(description="Server", items=[item("Server", 1, "5000", "1500")]),
        SLACK,
        pending=True,
    ).id
    ids["rejected"] = post(factory, make_purchase(description="Yacht"), SLACK, pending=True).id
    ids["pending"] = post(factory, make_purchase(description="Pending"), SLACK, pending=True).id
    with factory.begin() as session:
        void(
            session,
            ids["voided"],
            reason="typed twice",
            origin=Origin(source="slack", user="U111"),
            clock=CLOCK,
        )
        approve(session, ids["approved"], by="U201", clock=CLOCK)
        reject(session, ids["rejected"], by="U201", reason="no", clock=CLOCK)
        # The laptops were bought on account (a bill); part of it is paid.
        request = PaymentRequest(ids["laptops"], "1010", "1000.00", dt.date(2026, 11, 5))
        ids["payment"] = pay(session, request, SLACK, clock=CLOCK).id
    return ids


def _tb(engine: Engine) -> dict[tuple[str, str], Decimal]:
    """Trial balance as (beancount account, currency) -> debits less credits, in major units."""
    with make_session_factory(engine).begin() as session:
        names = {a.code: beancount_account(a) for a in session.scalars(select(Account))}
        rows = trial_balance(session).rows
    return {(names[r.code], r.currency): from_minor(r.debit - r.credit, r.exponent) for r in rows}


def test_beancount_export_passes_bean_check_with_the_trial_balance(engine: Engine, tmp_path: Path) -> None:
    ids = _books(engine)
    ledger = tmp_path / "books.beancount"
    with make_session_factory(engine).begin() as session, ledger.open("w", encoding="utf-8") as out:
        written = export_beancount(session, out)
    # Five posted purchases, one approved, one reversal, one payment; none pending or rejected.
    assert written == 8

    check = subprocess.run(
        [str(BIN / "bean-check"), str(ledger)], capture_output=True, text=True, timeout=60, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr

    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    real = realization.realize(entries)  # type: ignore[no-untyped-call]
    exported: dict[tuple[str, str], Decimal] = {}
    for account in realization.iter_children(real):  # type: ignore[no-untyped-call]
        for position in account.balance:
            exported[(account.account, position.units.currency)] = position.units.number
    expected = _tb(engine)
    assert expected  # the books are not empty
    assert {k: v for k, v in exported.items() if v != 0} == {k: v for k, v in expected.items() if v != 0}
    assert set(expected) <= set(exported)
    text = ledger.read_text()
    assert "#voided" in text
    assert "Yacht" not in text
    assert 'void-reason: "typed twice"' in text
    assert text.count(f"^bill-{ids['laptops']}") == 2  # the bill and its payment


def test_csv_export_adds_up_to_the_trial_balance(pg_engine: Engine) -> None:
    ids = _books(pg_engine)
    out = io.StringIO()
    with make_session_factory(pg_engine).begin() as session:
        rows = export_csv(session, out)
        names = {a.code: beancount_account(a) for a in session.scalars(select(Account))}
    parsed = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(parsed) == rows
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for row in parsed:
        sums[(names[row["account"]], row["currency"])] += Decimal(row["debit"] or 0) - Decimal(
            row["credit"] or 0
        )
    assert dict(sums) == _tb(pg_engine)
    assert {r["status"] for r in parsed} == {"posted", "voided"}
    assert any(r["created_by"] == "U111" and r["team_id"] == "T1" for r in parsed)
    billed = {int(r["transaction_id"]) for r in parsed if r["bill_id"] == str(ids["laptops"])}
    assert billed == {ids["laptops"], ids["payment"]}


def test_export_period_filters_by_date(pg_engine: Engine) -> None:
    ids = _books(pg_engine)
    out = io.StringIO()
    with make_session_factory(pg_engine).begin() as session:
        count = export_beancount(session, out, date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 10, 31))
    assert count == 1
    assert f"txid: {ids['laptops']}" in out.getvalue()
    assert '"Laptops \\"Pro\\" \\\\ 14"' in out.getvalue()


def test_cli_export_writes_a_file_bean_check_accepts(pg_engine: Engine, tmp_path: Path) -> None:
    _books(pg_engine)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DATABASE_URL": pg_engine.url.render_as_string(hide_password=False),
    }
    target = tmp_path / "out.beancount"
    result = subprocess.run(
        [str(BIN / "purchase-bot"), "export", "--format", "beancount", "--output", str(target)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Exported 8 transactions" in result.stderr
    check = subprocess.run(
        [str(BIN / "bean-check"), str(target)], capture_output=True, timeout=60, check=False
    )
    assert check.returncode == 0

    csv_out = subprocess.run(
        [
            str(BIN / "purchase-bot"),
            "export",
            "--format",
            "csv",
            "--from",
            "2026-11-02",
            "--to",
            "2026-11-02",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert csv_out.returncode == 0, csv_out.stderr
    lines = csv_out.stdout.strip().splitlines()
    assert lines[0].startswith("transaction_id,date,status")
    assert len(lines) == 3
    assert all(",JPY," in line for line in lines[1:])

    bad = subprocess.run(
        [str(BIN / "purchase-bot"), "export", "--format", "xml"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: --format must be one of csv, beancount, not 'xml'"


@pytest.mark.parametrize("name", ["Owner's Equity", "Café & Co (old)", "x"])
def test_beancount_account_names_are_valid(name: str) -> None:
    from db.models import AccountType

    account = Account(code="3000", name=name, type=AccountType.EQUITY)
    converted = beancount_account(account)
    assert converted.startswith("Equity:3000")
    _, errors, _ = loader.load_string(f"2026-01-01 open {converted}\n")
    assert errors == []


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(engine: Engine) -> None:
    factory = make_session_factory(engine)
    post(
        factory,
        make_purchase(description='=HYPERLINK("http://evil","x")', vendor="@SUM(A1)"),
        Origin(source="slack", user="-2+3", team="+T1", channel="\tC1"),
    )
    out = io.StringIO()
    with factory.begin() as session:
        export_csv(session, out)
    (row, _) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["description"] == '\'=HYPERLINK("http://evil","x")'
    assert row["vendor"] == "'@SUM(A1)"
    assert (row["created_by"], row["team_id"], row["channel_id"]) == ("'-2+3", "'+T1", "'\tC1")
    assert (row["debit"], row["credit"]) == ("168.90", "")  # amounts stay plain numbers


def test_beancount_strings_stay_valid_with_line_breaks_quotes_and_backslashes(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    tricky = 'Line one\nLine "two" \\ end\r\n'
    # Typed input cannot hold a line break (the schema refuses it); rows written another way can.
    with sqlite_engine.begin() as conn:
        tx = conn.execute(
            text(
                "INSERT INTO transaction_headers (effective_date, description, currency, exponent, total, "
                "payment_account_id, status, source) VALUES ('2026-11-20', :d, 'USD', 2, 500, "
                "(SELECT id FROM accounts WHERE code = '1000'), 'posted', 'raw') RETURNING id"
            ),
            {"d": tricky},
        ).scalar_one()
        for code, debit, credit in (("6100", 500, 0), ("1000", 0, 500)):
            conn.execute(
                text(
                    "INSERT INTO journal_entries (transaction_id, account_id, debit, credit) "
                    "VALUES (:tx, (SELECT id FROM accounts WHERE code = :code), :debit, :credit)"
                ),
                {"tx": tx, "code": code, "debit": debit, "credit": credit},
            )
    ledger = tmp_path / "books.beancount"
    with make_session_factory(sqlite_engine).begin() as session, ledger.open("w", encoding="utf-8") as out:
        export_beancount(session, out)
    check = subprocess.run(
        [str(BIN / "bean-check"), str(ledger)], capture_output=True, text=True, timeout=60, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    entries, errors, _ = loader.load_file(str(ledger))
    assert errors == []
    assert [e.narration for e in entries if isinstance(e, Transaction)] == ['Line one Line "two" \\ end  ']
