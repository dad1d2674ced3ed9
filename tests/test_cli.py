"""The `purchase-bot` command, run as a user runs it: a separate process, configured by DATABASE_URL."""

import datetime as dt
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import URL
from typer.testing import CliRunner

from bot.cli import app as cli
from db.accounts import DEFAULT_CHART, list_accounts
from db.reports import count_rows
from db.session import make_engine, make_session_factory
from tests.helpers import ZERO_ROWS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "office-equipment.json"
CLI = Path(sys.executable).with_name("purchase-bot")
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/x"
VERIFIED = (
    "All transactions balance, every account balance matches its entries, "
    "and every transaction matches the hash chain."
)


def run(
    cwd: Path, *args: str, url: str | URL | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`purchase-bot args...` in `cwd`, with a bare environment plus DATABASE_URL and `env`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
        **(env or {}),
    }
    if url is not None:
        env["DATABASE_URL"] = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
    return subprocess.run(
        [str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(ok(result))


def fails(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The process failed with `code` and said why in exactly one `error: ...` line, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def row(out: str, *cells: str) -> str:
    """The one line of a table in `out` whose cells are `cells` (however the columns are padded)."""
    pattern = r"\s*" + r"\s+".join(map(re.escape, cells)) + r"\s*"
    (line,) = [line for line in out.splitlines() if re.fullmatch(pattern, line)]
    return line


def under(out: str, column: str, line: str, value: str) -> bool:
    """`value` is right-aligned under the header `column` (the last line above `line` naming it)."""
    lines = out.splitlines()
    header = next(h for h in reversed(lines[: lines.index(line)]) if column in h)
    return line.index(value) + len(value) == header.index(column) + len(column)


def write(path: Path, data: Any) -> str:
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path.name


def test_sqlite_default_end_to_end(tmp_path: Path) -> None:
    """No DATABASE_URL: a SQLite file in the working directory; the article's example as shipped."""
    assert "the default chart of accounts was created" in ok(run(tmp_path, "db", "upgrade"))
    assert (tmp_path / "purchase-bot.sqlite3").is_file()

    out = ok(run(tmp_path, "post", str(EXAMPLE)))
    assert out.startswith("Posted.\nTransaction 1  [posted]\n")
    assert "Purchase Office Equipment" in out
    row(out, "1", "Laptop", "2", "4,000,000.00", "8,000,000.00", "1100")
    row(out, "2", "Monitor", "4", "500,000.00", "2,000,000.00", "1100")
    inventory = row(out, "1100", "Inventory", "10,000,000.00")
    cash = row(out, "1000", "Cash", "10,000,000.00")
    assert under(out, "Debit", inventory, "10,000,000.00")
    assert under(out, "Credit", cash, "10,000,000.00")
    assert "Total: USD 10,000,000.00" in out
    assert "\x1b[" not in out  # piped: plain text, no colour codes

    second = as_json(run(tmp_path, "post", str(EXAMPLE), "--json"))
    assert second == {"id": 2, "status": "posted", "replayed": False}

    # Money in --json: exact decimal strings in major units, beside the currency code.
    shown = as_json(run(tmp_path, "show", "1", "--json"))
    # The date is the books' today, which runs on the real clock here; test_clock.py sets the clock
    # and checks the day in several zones.
    assert dt.date.fromisoformat(shown.pop("date"))
    assert shown == {
        "id": 1,
        "status": "posted",
        "description": "Purchase Office Equipment",
        "vendor": None,
        "currency": "USD",
        "total": "10000000.00",
        "exponent": 2,
        "reverses_id": None,
        "source_link": None,
        "bill": None,
        "pays_id": None,
        "items": [
            {
                "line": 1,
                "name": "Laptop",
                "quantity": 2,
                "unit_price": "4000000.00",
                "subtotal": "8000000.00",
                "account": "1100",
            },
            {
                "line": 2,
                "name": "Monitor",
                "quantity": 4,
                "unit_price": "500000.00",
                "subtotal": "2000000.00",
                "account": "1100",
            },
        ],
        "entries": [
            {"account": "1100", "debit": "10000000.00", "credit": "0.00"},
            {"account": "1000", "debit": "0.00", "credit": "10000000.00"},
        ],
        "documents": [],
    }

    assert ok(run(tmp_path, "void", "1", "--reason", "Entered twice", "--by", "alice")).strip() == (
        "Transaction 1 is void; reversing transaction 3 posted."
    )
    again = fails(run(tmp_path, "void", "1", "--reason", "again"))
    assert again.startswith("error: Transaction 1 was already voided by alice on ")
    assert again.endswith(" UTC: Entered twice")

    tb = as_json(run(tmp_path, "trial-balance", "--json"))
    assert tb["balanced"] is True
    assert tb["totals"] == {"USD": {"debit": "30000000.00", "credit": "30000000.00"}}
    assert tb["rows"] == [
        {
            "account": "1000",
            "name": "Cash",
            "currency": "USD",
            "debit": "10000000.00",
            "credit": "20000000.00",
            "balance": "-10000000.00",
        },
        {
            "account": "1100",
            "name": "Inventory",
            "currency": "USD",
            "debit": "20000000.00",
            "credit": "10000000.00",
            "balance": "10000000.00",
        },
    ]
    assert ok(run(tmp_path, "verify")).strip() == VERIFIED

    # A tampered maintained balance is named by account.
    engine = make_engine(f"sqlite:///{tmp_path / 'purchase-bot.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE account_balances SET debit = debit + 1 WHERE account_id = (SELECT id FROM accounts WHERE code = '1100') AND debit > 0"
            )
        )
    engine.dispose()
    broken = run(tmp_path, "verify")
    assert broken.returncode == 1
    assert broken.stderr.startswith("Account 1100")
    with make_engine(f"sqlite:///{tmp_path / 'purchase-bot.sqlite3'}").begin() as conn:
        conn.execute(
            text(
                "UPDATE account_balances SET debit = debit - 1 WHERE account_id = (SELECT id FROM accounts WHERE code = '1100') AND debit > 0"
            )
        )

    # The same submission twice (an idempotency key) is recorded once.
    name = write(tmp_path / "p.json", {**json.loads(EXAMPLE.read_text()), "idempotency_key": "cli-1"})
    assert as_json(run(tmp_path, "post", name, "--json"))["id"] == 4
    assert ok(run(tmp_path, "post", name)).startswith("Already recorded as:\nTransaction 4  [posted]")

    table = ok(run(tmp_path, "trial-balance"))
    assert table.startswith("Trial balance (USD)")
    row(table, "1000", "Cash", "10,000,000.00", "30,000,000.00", "-20,000,000.00")
    row(table, "Total", "40,000,000.00", "40,000,000.00", "balanced")
    assert "NOT BALANCED" not in table


def test_accounts_list_and_load(tmp_path: Path, sqlite_url: URL) -> None:
    listed = ok(run(tmp_path, "accounts", "list", url=sqlite_url))
    assert listed.splitlines()[0].split() == ["Code", "Name", "Type", "Status"]
    assert listed.splitlines()[2].split() == ["1000", "Cash", "asset"]
    row(listed, "6100", "Office Supplies", "expense")

    chart = [
        {"code": "1000", "name": "Petty Cash", "type": "asset"},
        {"code": "1100", "name": "Inventory", "type": "asset"},
        {"code": "7000", "name": "Postage", "type": "expense"},
    ]
    out = ok(run(tmp_path, "accounts", "load", write(tmp_path / "chart.json", chart), url=sqlite_url))
    assert out.strip() == "Chart of accounts loaded: 3 accounts."
    accounts = as_json(run(tmp_path, "accounts", "list", "--all", "--json", url=sqlite_url))
    by_code = {a["code"]: a for a in accounts}
    assert by_code["1000"] == {"code": "1000", "name": "Petty Cash", "type": "asset", "active": True}
    assert by_code["7000"]["active"] is True
    assert by_code["6100"]["active"] is False  # no longer listed: closed, never deleted
    row(
        ok(run(tmp_path, "accounts", "list", "--all", url=sqlite_url)),
        "6100",
        "Office Supplies",
        "expense",
        "closed",
    )

    # A closed account can no longer be booked to.
    name = write(tmp_path / "p.json", {**json.loads(EXAMPLE.read_text()), "payment_account": "6100"})
    assert fails(run(tmp_path, "post", name, url=sqlite_url)) == (
        "error: Payment account: account 6100 (Office Supplies) is closed"
    )


def test_postgresql_end_to_end_from_an_empty_database(tmp_path: Path, pg_empty_url: URL) -> None:
    chart = [
        {"code": "1000", "name": "Cash", "type": "asset"},
        {"code": "1500", "name": "Equipment", "type": "asset"},
        {"code": "1100", "name": "Inventory", "type": "asset"},
    ]
    name = write(tmp_path / "chart.json", chart)
    out = ok(run(tmp_path, "db", "upgrade", "--chart", name, url=pg_empty_url))
    assert out.strip() == "Database is up to date; chart of accounts loaded from chart.json."
    posted = as_json(run(tmp_path, "post", str(EXAMPLE), "--json", url=pg_empty_url))
    assert posted == {"id": 1, "status": "posted", "replayed": False}
    out = ok(run(tmp_path, "db", "upgrade", url=pg_empty_url))
    assert out.strip() == "Database is up to date."  # the chart is kept, not re-seeded
    assert ok(run(tmp_path, "verify", url=pg_empty_url)).strip() == VERIFIED


NOT_SET_UP = "error: The database is not set up or is out of date; run `purchase-bot db upgrade` first"
REACH = r"error: cannot reach the database: .+"
BAD_URL = "error: DATABASE_URL is not a database this bot can use: "


def case(
    case_id: str, args: list[str], message: str, *, content: Any = None, db: str = "ledger", code: int = 1
) -> Any:
    """`db`: "ledger" (migrated and seeded), "none" (default SQLite file, never set up), or a URL."""
    return pytest.param(case_id, args, content, db, message, code, id=case_id)


ERRORS = [
    case("no-file", ["post", "missing.json"], "error: Cannot read missing.json: No such file or directory"),
    case(
        "bad-json",
        ["post", "bad.json"],
        "error: bad.json is not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2",
        content="{not json",
    ),
    case(
        "nan-and-extra-field",
        ["post", "bad.json"],
        "error: Item 1 unit price: must be a plain amount like 1250 or 1250.50 (digits only); X: is not a field a purchase has",
        content='{"description": "Pens", "items": [{"name": "Pen", "quantity": 1, "price": NaN}], "x": 1}',
    ),
    case(
        "not-an-object",
        ["post", "bad.json"],
        "error: Purchase: must be an object with a description and line items",
        content=["not", "a", "purchase"],
    ),
    case(
        "unknown-account",
        ["post", "bad.json"],
        "error: Item 1 account: account 9999 does not exist in the chart of accounts",
        content={
            "description": "Pens",
            "items": [{"name": "Pen", "quantity": 1, "price": 5, "account": "9999"}],
        },
    ),
    case("show-unknown", ["show", "999"], "error: There is no transaction 999"),
    case("void-blank-reason", ["void", "1", "--reason", "  "], "error: Say why the transaction is voided"),
    case(
        "duplicate-chart",
        ["accounts", "load", "bad.json"],
        "error: The chart lists account 1000 more than once",
        content=[
            {"code": "1000", "name": "Cash", "type": "asset"},
            {"code": "1000", "name": "Bank", "type": "asset"},
        ],
    ),
    case("not-set-up-verify", ["verify"], NOT_SET_UP, db="none"),
    case("unreachable-verify", ["verify"], REACH, db=UNREACHABLE, code=2),
    case(
        "unopenable-sqlite",
        ["verify"],
        "error: cannot reach the database: unable to open database file",
        db="sqlite:////nonexistent/dir/ledger.db",
        code=2,
    ),
    case(
        "malformed-url",
        ["verify"],
        BAD_URL + "Could not parse SQLAlchemy URL from given URL string",
        db="nonsense",
    ),
]


@pytest.fixture(scope="module")
def error_runs(
    tmp_path_factory: pytest.TempPathFactory, sqlite_module_engine: Engine
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every error case, run at once (they are independent) to keep the suite quick."""

    def one(params: Any) -> tuple[str, subprocess.CompletedProcess[str]]:
        case_id, args, content, db, _message, _code = params.values
        cwd = tmp_path_factory.mktemp(case_id)
        if content is not None:
            write(cwd / "bad.json", content)
        url = {"ledger": sqlite_module_engine.url, "none": None}.get(db, db)
        return case_id, run(cwd, *args, url=url)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(one, ERRORS))


@pytest.mark.parametrize(("case_id", "args", "content", "db", "message", "code"), ERRORS)
def test_errors_are_one_line_without_traceback(
    error_runs: dict[str, subprocess.CompletedProcess[str]],
    sqlite_module_engine: Engine,
    case_id: str,
    args: list[str],
    content: Any,
    db: str,
    message: str,
    code: int,
) -> None:
    line = fails(error_runs[case_id], code)
    if message == REACH:
        assert re.fullmatch(REACH, line), line
    else:
        assert line == message
    with make_session_factory(sqlite_module_engine).begin() as session:
        # Nothing was written, and the chart is as it was.
        assert count_rows(session) == ZERO_ROWS
        assert len(list_accounts(session)) == len(DEFAULT_CHART)


def test_verify_exits_non_zero_naming_the_broken_transaction(tmp_path: Path, sqlite_url: URL) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transaction_headers "
                "(effective_date, description, currency, exponent, total, payment_account_id, status, source) "
                "VALUES ('2026-11-20', 'bad', 'USD', 2, 500, 1, 'posted', 'raw')"
            )
        )
    engine.dispose()
    result = run(tmp_path, "verify", url=sqlite_url)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Transaction 1: is posted but its journal entries do not add up to its total" in result.stderr


def test_json_money_is_exact_in_each_currencys_own_decimals(tmp_path: Path, sqlite_url: URL) -> None:
    yen = {
        "description": "Cables",
        "currency": "JPY",
        "items": [{"name": "Cable", "quantity": 3, "price": 1250}],
    }
    dinar = {
        "description": "Tea",
        "currency": "KWD",
        "items": [{"name": "Tea", "quantity": 3, "price": 1.125}],
    }
    # Valued in the base currency (USD) too, so each needs a rate.
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate\n2000-01-01,JPY,0.0067\n2000-01-01,KWD,3.25\n")
    ok(run(tmp_path, "rates", "load", str(rates), url=sqlite_url))
    for purchase in (yen, dinar):
        ok(run(tmp_path, "post", write(tmp_path / "p.json", purchase), url=sqlite_url))

    shown = as_json(run(tmp_path, "show", "2", "--json", url=sqlite_url))
    assert (shown["currency"], shown["exponent"], shown["total"]) == ("KWD", 3, "3.375")
    assert (shown["items"][0]["unit_price"], shown["items"][0]["subtotal"]) == ("1.125", "3.375")
    tb = as_json(run(tmp_path, "trial-balance", "--json", url=sqlite_url))
    assert tb["totals"] == {
        "JPY": {"debit": "3750", "credit": "3750"},
        "KWD": {"debit": "3.375", "credit": "3.375"},
    }
    assert [(r["account"], r["currency"], r["balance"]) for r in tb["rows"]] == [
        ("1000", "JPY", "-3750"),
        ("1100", "JPY", "3750"),
        ("1000", "KWD", "-3.375"),
        ("1100", "KWD", "3.375"),
    ]

    table = ok(run(tmp_path, "trial-balance", url=sqlite_url))
    assert "Trial balance (JPY)" in table
    assert "Trial balance (KWD)" in table
    row(table, "Total", "3,750", "3,750", "balanced")
    row(table, "Total", "3.375", "3.375", "balanced")


def test_every_bad_setting_is_one_error_line(tmp_path: Path) -> None:
    result = run(tmp_path, "verify", env={"PORT": "eighty", "APPROVERS": "alice"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: PORT: Input should be a valid integer, unable to parse string as an integer",
        "error: APPROVERS: 'alice' is not a Slack user ID (U...) or user group ID (S...)",
    ]
    assert not (tmp_path / "purchase-bot.sqlite3").exists()


def test_help_needs_neither_good_settings_nor_a_database(tmp_path: Path) -> None:
    for args in (["show", "--help"], ["db", "upgrade", "--help"], ["serve", "--help"]):
        assert "Usage:" in ok(run(tmp_path, *args, url=UNREACHABLE, env={"PORT": "eighty"}))
    assert not list(tmp_path.glob("*.sqlite3"))


def test_serve_checks_slack_settings_before_any_database(tmp_path: Path) -> None:
    assert fails(run(tmp_path, "serve", url=UNREACHABLE)).startswith("error: SLACK_BOT_TOKEN is not set")


def test_the_engine_is_disposed_when_the_command_ends(
    sqlite_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    disposed: list[URL] = []
    dispose = Engine.dispose

    def spy(engine: Engine, close: bool = True) -> None:
        disposed.append(engine.url)
        dispose(engine, close)

    monkeypatch.setattr(Engine, "dispose", spy)
    env = {"DATABASE_URL": sqlite_url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(cli, ["verify"], env=env)
    assert result.exit_code == 0, result.output
    assert disposed == [sqlite_url]
