"""`purchase-bot period ...`, `chain head`, `verify --since/--head` and date checks, run as a user runs them."""

import json
from pathlib import Path

from sqlalchemy.engine import URL

from tests.helpers import purchase_data
from tests.test_cli import fails, ok, run


def _post(tmp_path: Path, url: URL, date: str) -> str:
    file = tmp_path / f"p-{date}.json"
    file.write_text(json.dumps(purchase_data(date=date)))
    return str(file)


def test_close_reopen_and_list(tmp_path: Path, sqlite_url: URL) -> None:
    assert (
        ok(run(tmp_path, "period", "close", "2026-11", "--by", "ana", url=sqlite_url))
        == "Period 2026-11 is closed.\n"
    )
    assert fails(run(tmp_path, "period", "close", "2026-11", url=sqlite_url)).startswith(
        "error: period 2026-11 is already closed by ana on "
    )
    refused = fails(run(tmp_path, "post", _post(tmp_path, sqlite_url, "2026-11-20"), url=sqlite_url))
    assert refused.startswith(
        "error: Date: period 2026-11 is closed, so nothing dated 2026-11-20 can be recorded"
    )
    assert fails(run(tmp_path, "period", "reopen", "2026-11", url=sqlite_url)) == (
        "error: say why period 2026-11 is reopened (--reason TEXT); it is kept in the books"
    )
    ok(
        run(
            tmp_path, "period", "reopen", "2026-11", "--reason", "late invoice", "--by", "cfo", url=sqlite_url
        )
    )
    (listed,) = json.loads(ok(run(tmp_path, "period", "list", "--json", url=sqlite_url)))
    assert {k: listed[k] for k in ("month", "closed", "action", "by", "reason")} == {
        "month": "2026-11",
        "closed": False,
        "action": "reopen",
        "by": "cfo",
        "reason": "late invoice",
    }
    ok(run(tmp_path, "post", _post(tmp_path, sqlite_url, "2026-11-20"), url=sqlite_url))
    assert fails(run(tmp_path, "period", "close", "2026-13", url=sqlite_url)) == (
        "error: '2026-13' is not a period; give a month as YYYY-MM, e.g. 2026-11"
    )


def test_dates_far_ahead_or_before_the_books_are_refused(tmp_path: Path, sqlite_url: URL) -> None:
    assert fails(run(tmp_path, "post", _post(tmp_path, sqlite_url, "9999-12-31"), url=sqlite_url)).startswith(
        "error: Date: 9999-12-31 is more than 31 days ahead of today"
    )
    ok(run(tmp_path, "period", "start", "2020-01", url=sqlite_url))
    assert fails(run(tmp_path, "post", _post(tmp_path, sqlite_url, "0001-01-01"), url=sqlite_url)) == (
        "error: Date: 0001-01-01 is before the books' first period; date it within the books (purchase-bot "
        "period list shows where they start), or start them earlier (purchase-bot period start YYYY-MM)"
    )


def test_chain_head_and_verify_against_it(tmp_path: Path, sqlite_url: URL) -> None:
    assert (
        fails(run(tmp_path, "chain", "head", url=sqlite_url))
        == "error: Nothing is recorded yet; the chain has no head"
    )
    ok(run(tmp_path, "post", _post(tmp_path, sqlite_url, "2026-11-20"), url=sqlite_url))
    head = json.loads(ok(run(tmp_path, "chain", "head", "--json", url=sqlite_url)))
    assert len(head["hash"]) == 64
    ok(run(tmp_path, "verify", "--head", head["hash"], url=sqlite_url))
    ok(run(tmp_path, "verify", "--since", str(head["transaction_id"]), url=sqlite_url))
    assert fails(run(tmp_path, "verify", "--head", "ab" * 32, url=sqlite_url)) == (
        f"error: the hash {'ab' * 32} is not in the chain: the chain was rewritten since it was taken, "
        "or it belongs to another ledger"
    )
