"""`purchase-bot` for bills: post one on account, pay it in parts, see what is owed and to whom."""

import json
from pathlib import Path

from sqlalchemy.engine import URL

from tests.test_cli import as_json, fails, ok, row, run, write

BILL = {
    "description": "Laptops",
    "date": "2026-10-15",
    "vendor": "Dell",
    "payment_account": "2000",
    "invoice_number": "INV-7",
    "items": [{"name": "Laptop", "quantity": 2, "price": "150.00", "account": "1500"}],
}


def test_bill_pay_in_parts_and_what_is_owed(tmp_path: Path, sqlite_url: URL) -> None:
    ok(run(tmp_path, "db", "upgrade", url=sqlite_url))
    posted = as_json(run(tmp_path, "post", write(tmp_path / "bill.json", BILL), "--json", url=sqlite_url))
    bill_id = str(posted["id"])
    shown = as_json(run(tmp_path, "show", bill_id, "--json", url=sqlite_url))
    assert shown["bill"] == {
        "due_date": "2026-11-14",  # net 30
        "invoice_number": "INV-7",
        "state": "open",
        "paid": "0.00",
        "open": "300.00",
    }
    paid = as_json(
        run(
            tmp_path,
            "pay",
            bill_id,
            "--amount",
            "100",
            "--from",
            "1010",
            "--date",
            "2026-11-01",
            "--json",
            url=sqlite_url,
        )
    )
    assert paid["bill_state"] == "partly paid"
    assert (paid["amount"], paid["bill_open"], paid["currency"]) == ("100.00", "200.00", "USD")
    out = ok(run(tmp_path, "pay", bill_id, "--from", "1000", "--date", "2026-11-02", url=sqlite_url))
    assert "Bill INV-7, due 2026-11-14: paid, USD 0.00 open" in out
    assert fails(run(tmp_path, "pay", bill_id, "--from", "1000", url=sqlite_url)) == (
        f"error: Bill {bill_id} is already paid in full"
    )
    statement = as_json(run(tmp_path, "vendors", "show", "dell", "--json", url=sqlite_url))
    assert [(x["kind"], x["amount"]) for x in statement["lines"]] == [
        ("bill", "300.00"),
        ("payment", "-100.00"),
        ("payment", "-200.00"),
    ]
    assert statement["balances"] == {"USD": "0.00"}
    # On the day of the first payment, 200.00 was still open; from the second on, nothing.
    owed = as_json(run(tmp_path, "bills", "--as-of", "2026-11-01", "--json", url=sqlite_url))
    assert [(b["id"], b["open"], b["days_overdue"], b["bucket"]) for b in owed["bills"]] == [
        (int(bill_id), "200.00", 0, "not yet due")
    ]
    assert as_json(run(tmp_path, "bills", "--as-of", "2026-11-02", "--json", url=sqlite_url))["bills"] == []
    ok(run(tmp_path, "verify", url=sqlite_url))


def test_aging_table_and_vendor_terms(tmp_path: Path, sqlite_url: URL) -> None:
    ok(run(tmp_path, "db", "upgrade", url=sqlite_url))
    assert (
        fails(run(tmp_path, "vendors", "terms", "Nobody", "45", url=sqlite_url))
        == "error: There is no vendor 'Nobody'"
    )
    ok(run(tmp_path, "post", write(tmp_path / "bill.json", {**BILL, "invoice_number": None}), url=sqlite_url))
    # Dell (created by the bill) gets terms now; the bill already posted keeps its due date.
    assert "due 45 days after their date" in ok(
        run(tmp_path, "vendors", "terms", "Dell", "45", url=sqlite_url)
    )
    later = {**BILL, "invoice_number": "INV-8", "date": "2026-11-01"}
    ok(run(tmp_path, "post", write(tmp_path / "later.json", later), url=sqlite_url))
    out = ok(run(tmp_path, "bills", "--as-of", "2026-12-20", url=sqlite_url))
    row(out, "1", "Dell", "2026-10-15", "2026-11-14", "36", "300.00", "USD")
    row(out, "2", "Dell", "INV-8", "2026-11-01", "2026-12-16", "4", "300.00", "USD")
    row(out, "Dell", "USD", "0.00", "300.00", "300.00", "0.00", "0.00", "600.00")
    owed = as_json(
        run(tmp_path, "bills", "--vendor", "DELL", "--as-of", "2026-12-20", "--json", url=sqlite_url)
    )
    assert owed["aging"] == [
        {
            "vendor": "Dell",
            "currency": "USD",
            "buckets": {
                "not yet due": "0.00",
                "1-30": "300.00",
                "31-60": "300.00",
                "61-90": "0.00",
                "over 90": "0.00",
            },
            "total": "600.00",
        }
    ]


def test_bad_payments_and_bills_are_one_error_line(tmp_path: Path, sqlite_url: URL) -> None:
    ok(run(tmp_path, "db", "upgrade", url=sqlite_url))
    bill_id = str(
        as_json(run(tmp_path, "post", write(tmp_path / "b.json", BILL), "--json", url=sqlite_url))["id"]
    )
    cash = {**BILL, "payment_account": "1000", "invoice_number": None}
    cash_id = str(
        as_json(run(tmp_path, "post", write(tmp_path / "c.json", cash), "--json", url=sqlite_url))["id"]
    )
    cases = {
        (cash_id, "--from", "1010"): f"error: Transaction {cash_id} is not a bill",
        (bill_id, "--from", "1010", "--amount", "300.01"): "error: Amount: is more than bill",
        (bill_id, "--from", "1010", "--amount", "0"): "error: Amount: must be more than zero",
        (bill_id, "--from", "2100"): "error: From account: must be an asset account",
        (
            bill_id,
            "--from",
            "1010",
            "--date",
            "2026-10-14",
        ): "error: Date: must not be before the bill's date",
        (bill_id, "--from", "1010", "--date", "14/10/2026"): "error: --date must be a date like 2026-11-23",
        ("999", "--from", "1010"): "error: There is no transaction 999",
    }
    for args, message in cases.items():
        assert fails(run(tmp_path, "pay", *args, url=sqlite_url)).startswith(message), args
    again = write(tmp_path / "again.json", {**BILL, "vendor": " dell "})
    assert fails(run(tmp_path, "post", again, url=sqlite_url)) == (
        f"error: Invoice number: INV-7 from Dell is already recorded as transaction {bill_id}"
    )
    no_vendor = write(tmp_path / "nv.json", {**BILL, "vendor": None, "invoice_number": None})
    assert fails(run(tmp_path, "post", no_vendor, url=sqlite_url)).startswith(
        "error: Vendor: is required for a bill"
    )
    early = write(tmp_path / "early.json", {**BILL, "invoice_number": None, "due_date": "2026-10-01"})
    assert fails(run(tmp_path, "post", early, url=sqlite_url)) == (
        "error: Due date: must not be before the bill's date, 2026-10-15"
    )
    assert json.loads(ok(run(tmp_path, "bills", "--json", "--as-of", "2026-10-15", url=sqlite_url)))["bills"]
