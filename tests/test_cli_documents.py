"""The CLI for documents and vendors, run as a user runs it: `attach`, `documents list/get`,
`show --json`, `vendors list/rename/merge`, and the exports with documents."""

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL

from db.models import Document, TransactionDocument
from db.session import make_engine, make_session_factory
from tests.samples import EXE, HTML, pdf, png
from tests.test_cli import as_json, fails, ok, run
from tests.test_export import BIN


def write(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    return str(path)


def purchase(tmp_path: Path, url: URL, vendor: str | None = "Dell", description: str = "Monitors") -> int:
    data = {
        "description": description,
        "vendor": vendor,
        "items": [{"name": "Monitor", "quantity": 2, "unit_price": "450.00", "account": "1500"}],
    }
    (tmp_path / "p.json").write_text(json.dumps(data), encoding="utf-8")
    posted = as_json(run(tmp_path, "post", "p.json", "--json", url=url))
    return int(posted["id"])


def stored(url: URL) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            return (
                session.scalar(select(func.count()).select_from(Document)) or 0,
                session.scalar(select(func.count()).select_from(TransactionDocument)) or 0,
            )
    finally:
        engine.dispose()


def test_attach_list_show_and_get(tmp_path: Path, sqlite_url: URL) -> None:
    tx = purchase(tmp_path, sqlite_url)
    receipt = write(tmp_path / "receipt.pdf", pdf("cli"))
    scan = write(tmp_path / "scan.pdf", png(1))  # a PNG named .pdf: stored as the PNG it is
    out = ok(run(tmp_path, "attach", str(tx), receipt, scan, receipt, "--by", "alice", url=sqlite_url))
    assert out.splitlines() == [
        f"Transaction {tx} has these documents attached:",
        f"  receipt.pdf (application/pdf, {len(pdf('cli'))} bytes)",
        f"  scan.pdf (image/png, {len(png(1))} bytes)",
    ]
    assert stored(sqlite_url) == (2, 2)

    listed = as_json(run(tmp_path, "documents", "list", str(tx), "--json", url=sqlite_url))
    assert [(d["name"], d["content_type"], d["size"], d["attached_by"]) for d in listed] == [
        ("receipt.pdf", "application/pdf", len(pdf("cli")), "alice"),
        ("scan.pdf", "image/png", len(png(1)), "alice"),
    ]
    assert all(d["attached_at"].endswith("Z") for d in listed)
    text = ok(run(tmp_path, "documents", "list", str(tx), url=sqlite_url))
    assert "receipt.pdf" in text
    assert "image/png" in text

    shown = as_json(run(tmp_path, "show", str(tx), "--json", url=sqlite_url))
    assert shown["documents"] == [
        {"name": d["name"], "content_type": d["content_type"], "size": d["size"], "sha256": d["sha256"]}
        for d in listed
    ]
    assert "receipt.pdf" in ok(run(tmp_path, "show", str(tx), url=sqlite_url))

    # Another purchase with two documents of one name: the second gets a suffix.
    other = purchase(tmp_path, sqlite_url, description="Second")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ok(
        run(
            tmp_path,
            "attach",
            str(other),
            write(tmp_path / "a" / "invoice.pdf", pdf("a")),
            write(tmp_path / "b" / "invoice.pdf", pdf("b")),
            url=sqlite_url,
        )
    )
    written = ok(run(tmp_path, "documents", "get", str(other), "--output", "got", url=sqlite_url))
    paths = [Path(line) for line in written.splitlines()]
    assert [p.name for p in paths] == ["invoice.pdf", "invoice-2.pdf"]
    assert [p.read_bytes() for p in paths] == [pdf("a"), pdf("b")]
    assert all(p.parent == (tmp_path / "got").resolve() for p in paths)

    ok(run(tmp_path, "documents", "get", str(tx), url=sqlite_url))  # into the working directory
    assert (tmp_path / "scan.pdf").read_bytes() == png(1)  # the same bytes: kept, not duplicated
    assert not (tmp_path / "scan-2.pdf").exists()


def test_documents_of_a_purchase_without_any(tmp_path: Path, sqlite_url: URL) -> None:
    tx = purchase(tmp_path, sqlite_url)
    assert as_json(run(tmp_path, "documents", "list", str(tx), "--json", url=sqlite_url)) == []
    assert "has no documents" in ok(run(tmp_path, "documents", "list", str(tx), url=sqlite_url))
    got = run(tmp_path, "documents", "get", str(tx), "-o", "none", url=sqlite_url)
    assert ok(got) == ""
    assert "has no documents" in got.stderr
    assert (
        fails(run(tmp_path, "documents", "list", "999", url=sqlite_url))
        == "error: There is no transaction 999"
    )
    assert (
        fails(run(tmp_path, "documents", "get", "999", url=sqlite_url))
        == "error: There is no transaction 999"
    )


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"empty.pdf": b""}, "error: empty.pdf: is empty (0 bytes)"),
        (
            {"receipt.pdf": EXE},
            "error: receipt.pdf: is not a PDF or an image (it is a Windows program)",
        ),
        ({"signin.pdf": HTML}, "error: signin.pdf: is not a PDF or an image (it is a web page)"),
        ({"big.png": png(2) + b"\x00" * 1_100_000}, "error: big.png: is too large (1.1 MB; at most 1.0 MB)"),
        (
            {f"r{i}.pdf": pdf(str(i)) for i in range(11)},
            "error: at most 10 documents can be attached at once, not 11",
        ),
    ],
    ids=["empty", "exe-renamed-pdf", "html", "over-the-limit", "eleven"],
)
def test_attach_refuses_a_bad_file_and_saves_nothing(
    tmp_path: Path, sqlite_url: URL, files: dict[str, bytes], message: str
) -> None:
    tx = purchase(tmp_path, sqlite_url)
    good = write(tmp_path / "good.pdf", pdf("good"))
    paths = [good] + [write(tmp_path / name, content) for name, content in files.items()]
    if len(paths) > 11:
        paths = paths[1:]
    result = run(tmp_path, "attach", str(tx), *paths, url=sqlite_url, env={"MAX_DOCUMENT_MB": "1"})
    assert fails(result) == message
    assert stored(sqlite_url) == (0, 0)


def test_attach_errors_are_one_line(tmp_path: Path, sqlite_url: URL) -> None:
    tx = purchase(tmp_path, sqlite_url)
    good = write(tmp_path / "good.pdf", pdf())
    assert fails(run(tmp_path, "attach", "999", good, url=sqlite_url)) == "error: There is no transaction 999"
    assert fails(run(tmp_path, "attach", str(tx), "missing.pdf", url=sqlite_url)) == (
        "error: Cannot read missing.pdf: No such file or directory"
    )
    assert fails(run(tmp_path, "attach", str(tx), str(tmp_path), url=sqlite_url)).endswith(
        "it is a directory"
    )
    ok(run(tmp_path, "void", str(tx), "--reason", "typo", url=sqlite_url))
    reversal = tx + 1
    assert fails(run(tmp_path, "attach", str(reversal), good, url=sqlite_url)) == (
        f"error: Transaction {reversal} is the void of transaction {tx}; attach documents to {tx} instead"
    )
    ok(run(tmp_path, "attach", str(tx), good, url=sqlite_url))  # a voided purchase still takes them
    assert stored(sqlite_url) == (1, 1)


def test_vendors_list_rename_merge(tmp_path: Path, sqlite_url: URL) -> None:
    first = purchase(tmp_path, sqlite_url, vendor="Dell")
    purchase(tmp_path, sqlite_url, vendor="DELL  ")
    inc = purchase(tmp_path, sqlite_url, vendor="Dell Inc.")
    purchase(tmp_path, sqlite_url, vendor=None)
    assert as_json(run(tmp_path, "vendors", "list", "--json", url=sqlite_url)) == [
        {"name": "Dell", "purchases": 2},
        {"name": "Dell Inc.", "purchases": 1},
    ]
    assert ok(run(tmp_path, "vendors", "merge", "dell inc.", "DELL", url=sqlite_url)).strip() == (
        "Vendor 'Dell Inc.' is merged into 'Dell'."
    )
    assert ok(run(tmp_path, "vendors", "rename", "dell", "Dell Technologies", url=sqlite_url)).strip() == (
        "Vendor 'Dell' is now 'Dell Technologies'."
    )
    assert as_json(run(tmp_path, "vendors", "list", "--json", url=sqlite_url)) == [
        {"name": "Dell Technologies", "purchases": 3}
    ]
    assert "Dell Technologies" in ok(run(tmp_path, "vendors", "list", url=sqlite_url))
    for tx in (first, inc):
        assert (
            as_json(run(tmp_path, "show", str(tx), "--json", url=sqlite_url))["vendor"] == "Dell Technologies"
        )
        assert "(Dell Technologies)" in ok(run(tmp_path, "show", str(tx), url=sqlite_url))
    exported = ok(run(tmp_path, "export", url=sqlite_url))
    assert {r["vendor"] for r in csv.DictReader(io.StringIO(exported)) if r["vendor"]} == {
        "Dell Technologies"
    }

    purchase(tmp_path, sqlite_url, vendor="HP")
    assert fails(run(tmp_path, "vendors", "rename", "hp", "dell technologies", url=sqlite_url)) == (
        "error: There is already a vendor 'Dell Technologies'; merge the two instead (vendors merge)"
    )
    assert fails(run(tmp_path, "vendors", "merge", "Lenovo", "HP", url=sqlite_url)) == (
        "error: There is no vendor 'Lenovo'"
    )
    assert fails(run(tmp_path, "vendors", "rename", "hp", "x" * 201, url=sqlite_url)) == (
        "error: A vendor name is too long; at most 200 characters"
    )
    assert fails(run(tmp_path, "vendors", "merge", "hp", "HP ", url=sqlite_url)).startswith(
        "error: 'hp' and 'HP '"
    )


def test_post_refuses_a_bad_vendor_name(tmp_path: Path, sqlite_url: URL) -> None:
    for vendor, message in (
        ("v" * 201, "is too long; at most 200 characters"),
        ("   ", "must not be only spaces"),
    ):
        data = {
            "description": "X",
            "vendor": vendor,
            "items": [{"name": "A", "quantity": 1, "unit_price": "1"}],
        }
        (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
        assert fails(run(tmp_path, "post", "bad.json", url=sqlite_url)).startswith(
            f"error: Vendor: {message}"
        )


def test_export_with_documents_is_bean_check_clean(tmp_path: Path, pg_url: URL) -> None:
    ok(run(tmp_path, "db", "upgrade", url=pg_url))
    tx = purchase(tmp_path, pg_url, vendor='Store "B"')
    ok(
        run(
            tmp_path,
            "attach",
            str(tx),
            write(tmp_path / "receipt.pdf", pdf("export")),
            write(tmp_path / "..photo.png", png(4)),
            url=pg_url,
        )
    )
    plain = purchase(tmp_path, pg_url, vendor=None, description="No documents")
    target = tmp_path / "out" / "books.beancount"
    target.parent.mkdir()
    result = run(
        tmp_path,
        "export",
        "--format",
        "beancount",
        "--output",
        str(target),
        "--documents",
        "docs",
        url=pg_url,
    )
    assert "Exported 2 transactions" in ok(result) + result.stderr
    check = subprocess.run(
        [str(BIN / "bean-check"), str(target)], capture_output=True, text=True, timeout=60, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    ledger = target.read_text(encoding="utf-8")
    assert ledger.count(" document ") == 2
    assert f'"../docs/{tx}/receipt.pdf" ^tx-{tx}' in ledger
    assert f'"../docs/{tx}/photo.png" ^tx-{tx}' in ledger
    assert (tmp_path / "docs" / str(tx) / "photo.png").read_bytes() == png(4)
    assert not (tmp_path / "docs" / str(plain)).exists()

    # To standard output: absolute paths, still valid.
    printed = ok(run(tmp_path, "export", "--format", "beancount", "--documents", "docs2", url=pg_url))
    assert f'"{(tmp_path / "docs2" / str(tx) / "receipt.pdf").resolve()}"' in printed

    rows = list(csv.DictReader(io.StringIO(ok(run(tmp_path, "export", url=pg_url)))))
    assert {r["documents"] for r in rows if r["transaction_id"] == str(tx)} == {"receipt.pdf; ..photo.png"}
    assert fails(run(tmp_path, "export", "--documents", "d", url=pg_url)) == (
        "error: --documents needs --format beancount"
    )
