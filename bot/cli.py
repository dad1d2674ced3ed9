"""`purchase-bot`: set up the database, post, show, void, report and verify from the terminal.

Every failure prints one `error:` line on stderr (one per bad setting) and exits non-zero; no
traceback reaches the user.
"""

import datetime as dt
import io
import json
import sys
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, NoReturn, TextIO

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.output import (
    AccountOutput,
    AgingRowOutput,
    AnnouncementOutput,
    AttachedDocumentOutput,
    BillsOutput,
    ChainHeadOutput,
    OpenBillOutput,
    PaymentOutput,
    PeriodOutput,
    PostedOutput,
    RateOutput,
    StatementOutput,
    TaxCodeOutput,
    TaxReportOutput,
    TransactionOutput,
    TrialBalanceOutput,
    VendorOutput,
    dump,
)
from bot.settings import Settings, SettingsError, load_settings
from bot.text import (
    accounts_view,
    announcements_view,
    bills_view,
    console,
    documents_view,
    statement_view,
    transaction_view,
    trial_balance_view,
    vendors_view,
)
from db import accounts as chart
from db import bills, chain, outbox, periods, rates, tax, vendors
from db.documents import (
    MAX_FILES,
    IncomingDocument,
    TooManyDocuments,
    attach_documents,
    check_size,
    documents_of,
    format_size,
    write_documents,
)
from db.errors import LedgerError, NotFound
from db.export import FORMATS, export_beancount, export_csv
from db.lifecycle import void
from db.migrate import is_current, upgrade
from db.payments import PaymentRequest, pay
from db.posting import Origin, post_purchase
from db.queries import header as find_header
from db.reports import TrialBalance, get_transaction, trial_balance, verify
from db.schemas import parse_purchase
from db.session import make_engine, make_session_factory

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="The chart of accounts.", no_args_is_help=True)
announcements_app = typer.Typer(help="Team-channel messages the bot has not delivered.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
documents_app = typer.Typer(help="Receipts and invoices stored with the purchases.", no_args_is_help=True)
vendors_app = typer.Typer(help="Vendors: whom purchases are bought from.", no_args_is_help=True)
app.add_typer(announcements_app, name="announcements")
app.add_typer(documents_app, name="documents")
app.add_typer(vendors_app, name="vendors")
period_app = typer.Typer(help="Accounting periods (months): close, reopen, list.", no_args_is_help=True)
chain_app = typer.Typer(help="The tamper-evident hash chain over every transaction.", no_args_is_help=True)
app.add_typer(period_app, name="period")
app.add_typer(chain_app, name="chain")
rates_app = typer.Typer(help="Exchange rates into BASE_CURRENCY.", no_args_is_help=True)
app.add_typer(rates_app, name="rates")
tax_app = typer.Typer(help="Purchase taxes (VAT, GST, PPN): codes and the tax report.", no_args_is_help=True)
app.add_typer(tax_app, name="tax")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class CliError(Exception):
    """A user-facing failure: printed as one `error:` line, exit code 1."""


class Runtime:
    """What the commands share, in `ctx.obj`. Each part is made when a command first asks for it:
    the settings (so `--help` works whatever the environment holds), then the database (so `serve`
    and `--help` never open one). The engine is disposed of when the command ends."""

    def __init__(self, ctx: typer.Context) -> None:
        self._ctx = ctx

    @cached_property
    def settings(self) -> Settings:
        return load_settings()

    @cached_property
    def engine(self) -> Engine:
        """The database as it is, migrated or not (`db upgrade` starts from here)."""
        try:
            engine = make_engine(self.settings.database_url)
        except (ArgumentError, ImportError) as exc:
            # A malformed URL, or a database kind whose driver is not installed.
            raise CliError(
                f"DATABASE_URL is not a database this bot can use: {str(exc).splitlines()[0]}"
            ) from None
        self._ctx.call_on_close(engine.dispose)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on a database at the newest migration."""
        if not is_current(self.engine):
            raise CliError(
                "The database is not set up or is out of date; run `purchase-bot db upgrade` first"
            )
        return make_session_factory(self.engine)


@app.callback()
def _runtime(ctx: typer.Context) -> None:
    ctx.obj = Runtime(ctx)


def _read_json(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}") from None
    try:
        # Decimal for every number with a fraction: money is never a float, not even for a moment.
        return json.loads(text, parse_float=Decimal, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    chart_file: Annotated[
        Path | None, typer.Option("--chart", help="A JSON chart of accounts to use instead of the default.")
    ] = None,
) -> None:
    """Create or upgrade the schema, then make sure there is a chart of accounts."""
    runtime: Runtime = ctx.obj
    specs = chart.parse_chart(_read_json(str(chart_file))) if chart_file else None
    upgrade(runtime.engine)
    with runtime.sessions.begin() as session:
        if specs is not None:
            chart.load_chart(session, specs)
            typer.echo(f"Database is up to date; chart of accounts loaded from {chart_file}.")
        elif chart.seed_default_chart(session):
            typer.echo("Database is up to date; the default chart of accounts was created.")
        else:
            typer.echo("Database is up to date.")


@accounts_app.command("list")
def accounts_list(
    ctx: typer.Context,
    show_all: Annotated[bool, typer.Option("--all", help="Include closed accounts.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the chart of accounts."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        rows = chart.list_accounts(session, include_inactive=show_all)
    if as_json:
        typer.echo(dump([AccountOutput.model_validate(a) for a in rows]))
    else:
        console().print(accounts_view(rows))


@accounts_app.command("load")
def accounts_load(ctx: typer.Context, chart_file: Path) -> None:
    """Replace the chart with a JSON file: [{"code", "name", "type"}]; unlisted accounts are closed."""
    runtime: Runtime = ctx.obj
    specs = chart.parse_chart(_read_json(str(chart_file)))
    with runtime.sessions.begin() as session:
        chart.load_chart(session, specs)
    typer.echo(f"Chart of accounts loaded: {len(specs)} accounts.")


@announcements_app.command("list")
def announcements_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Channel messages not delivered yet: waiting for another try, or given up (and why)."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        rows = outbox.undelivered(session)
    if as_json:
        typer.echo(dump([AnnouncementOutput.of(r) for r in rows]))
    else:
        console().print(announcements_view(rows))


@announcements_app.command("resend")
def announcements_resend(
    ctx: typer.Context,
    transaction_ids: Annotated[
        list[int] | None, typer.Argument(help="Transaction IDs; all when none.")
    ] = None,
) -> None:
    """Try the given-up messages again, e.g. once the bot is in the channel; a running bot sends
    them at its next sweep (those still being tried need nothing)."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        queued = outbox.resend(session, transaction_ids or None, clock=runtime.settings.clock())
    typer.echo(
        f"{len(queued)} announcement(s) queued; a running bot sends them within ANNOUNCE_SWEEP_SECONDS."
    )


@app.command()
def post(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="A purchase as JSON; - reads standard input.")],
    as_json: JsonFlag = False,
) -> None:
    """Post a purchase and print its transaction ID and journal."""
    runtime: Runtime = ctx.obj
    settings = runtime.settings
    data = _read_json(file)
    if isinstance(data, dict):
        data.setdefault("currency", settings.default_currency)
    purchase = parse_purchase(data, today=settings.clock().today())
    with runtime.sessions.begin() as session:
        posted = post_purchase(
            session,
            purchase,
            Origin(source="cli"),
            clock=settings.clock(),
            max_future_days=settings.max_future_days,
            base_currency=settings.base_currency,
        )
    if as_json:
        typer.echo(dump(PostedOutput.model_validate(posted)))
        return
    with runtime.sessions.begin() as session:
        header = get_transaction(session, posted.id)
    typer.echo("Already recorded as:" if posted.replayed else "Posted.")
    console().print(transaction_view(header))


@app.command()
def show(ctx: typer.Context, transaction_id: int, as_json: JsonFlag = False) -> None:
    """Show one transaction: header, items and journal entries."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        header = get_transaction(session, transaction_id)
        documents = documents_of(session, transaction_id)
    if as_json:
        typer.echo(dump(TransactionOutput.of(header, documents)))
    else:
        console().print(transaction_view(header, documents))


def _require_transaction(session: Session, transaction_id: int) -> None:
    if find_header(session, transaction_id) is None:
        raise NotFound(f"There is no transaction {transaction_id}")


@documents_app.command("list")
def documents_list(ctx: typer.Context, transaction_id: int, as_json: JsonFlag = False) -> None:
    """The documents of one transaction: name, type, size, who attached them and when."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        _require_transaction(session, transaction_id)
        documents = documents_of(session, transaction_id)
    if as_json:
        typer.echo(dump([AttachedDocumentOutput.of(d) for d in documents]))
    else:
        console().print(documents_view(transaction_id, documents))


@documents_app.command("get")
def documents_get(
    ctx: typer.Context,
    transaction_id: int,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The directory to write them to (made if need be).")
    ] = Path(),
) -> None:
    """Write one transaction's documents to a directory, each under its own name (a suffix when
    two share one); prints the paths written."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        _require_transaction(session, transaction_id)
        documents = documents_of(session, transaction_id)
        try:
            paths = write_documents(session, documents, output)
        except OSError as exc:
            raise CliError(f"Cannot write to {exc.filename or output}: {exc.strerror}") from None
    if not documents:
        typer.echo(f"Transaction {transaction_id} has no documents.", err=True)
    for path in paths:
        typer.echo(str(path))


def _read_document(path: Path, max_bytes: int) -> IncomingDocument:
    """The file's bytes, refused before reading if it is larger than `max_bytes` or empty."""
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise CliError(f"Cannot read {path}: it is a directory")
        check_size(path.name, size, max_bytes=max_bytes)
        with path.open("rb") as f:
            content = f.read(max_bytes + 1)
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}") from None
    return IncomingDocument(name=path.name, content=content)


@app.command()
def attach(
    ctx: typer.Context,
    transaction_id: int,
    files: Annotated[list[Path], typer.Argument(help=f"PDF or image files, at most {MAX_FILES}.")],
    by: Annotated[str | None, typer.Option(help="Who attaches them.")] = None,
) -> None:
    """Attach receipts or invoices to a purchase; all are checked first, and if one cannot be
    stored none is."""
    runtime: Runtime = ctx.obj
    max_bytes = runtime.settings.max_document_bytes
    if len(files) > MAX_FILES:
        raise TooManyDocuments(len(files))
    documents = [_read_document(path, max_bytes) for path in files]
    with runtime.sessions.begin() as session:
        attached = attach_documents(
            session, transaction_id, documents, by=by, clock=runtime.settings.clock(), max_bytes=max_bytes
        )
    typer.echo(f"Transaction {transaction_id} has these documents attached:")
    for d in attached:
        typer.echo(f"  {d.name} ({d.content_type}, {format_size(d.size)})")


@vendors_app.command("list")
def vendors_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every vendor with its number of purchases."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        rows = vendors.list_vendors(session)
    if as_json:
        typer.echo(dump([VendorOutput.of(r) for r in rows]))
    else:
        console().print(vendors_view(rows))


@vendors_app.command("rename")
def vendors_rename(ctx: typer.Context, old: str, new: str) -> None:
    """Rename a vendor; every purchase from it shows the new name."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        before = vendors.find_vendor(session, old)
        was = before.name if before is not None else old
        name = vendors.rename_vendor(session, old, new).name
    typer.echo(f"Vendor {was!r} is now {name!r}.")


@vendors_app.command("merge")
def vendors_merge(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FROM", help="The vendor to merge away.")],
    into: Annotated[str, typer.Argument(metavar="INTO", help="The vendor it becomes.")],
) -> None:
    """Merge one vendor into another: its purchases show the other's name from now on (nothing
    posted changes), and its name finds the other."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        src = vendors.find_vendor(session, source)
        src_name = src.name if src else source
        vendor = vendors.merge_vendors(session, source, into)
        name = vendor.name
    typer.echo(f"Vendor {src_name!r} is merged into {name!r}.")


@vendors_app.command("terms")
def vendors_terms(
    ctx: typer.Context,
    name: str,
    days: Annotated[int, typer.Argument(help="Its bills are due this many days after their date.")],
) -> None:
    """Set a vendor's payment terms (net DAYS; net 30 unless set)."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        vendor = bills.set_terms(session, name, days).name
    typer.echo(f"Bills from {vendor!r} are due {days} days after their date unless given a due date.")


@vendors_app.command("show")
def vendors_show(ctx: typer.Context, name: str, as_json: JsonFlag = False) -> None:
    """A vendor's statement: its bills and payments, and what is owed."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        statement = bills.vendor_statement(session, name)
    if as_json:
        typer.echo(dump(StatementOutput.of(statement)))
    else:
        console().print(statement_view(statement))


@app.command("pay")
def pay_cmd(
    ctx: typer.Context,
    bill_id: Annotated[int, typer.Argument(metavar="ID", help="The bill to pay.")],
    from_account: Annotated[
        str, typer.Option("--from", help="The asset account paid from (a code, e.g. 1010 Bank).")
    ],
    amount: Annotated[str | None, typer.Option(help="How much; default what is still open.")] = None,
    date: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today in BOOKS_TIMEZONE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Pay a bill, in full or in part, from an asset account."""
    runtime: Runtime = ctx.obj
    request = PaymentRequest(bill_id, from_account, amount, _date_option("--date", date))
    with runtime.sessions.begin() as session:
        posted = pay(session, request, Origin(source="cli"), clock=runtime.settings.clock())
    with runtime.sessions.begin() as session:
        payment = get_transaction(session, posted.id)
        bill = get_transaction(session, bill_id)
    if as_json:
        typer.echo(dump(PaymentOutput.of(payment, bill, replayed=posted.replayed)))
        return
    typer.echo(f"Payment {payment.id} recorded.")
    console().print(transaction_view(payment))
    console().print(transaction_view(bill))


@app.command("bills")
def bills_cmd(
    ctx: typer.Context,
    vendor: Annotated[str | None, typer.Option(help="Only this vendor's bills.")] = None,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD; default today in BOOKS_TIMEZONE.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """What is owed: open bills with their aging (not yet due, 1-30, 31-60, 61-90, over 90 days overdue)."""
    runtime: Runtime = ctx.obj
    day = _date_option("--as-of", as_of) or runtime.settings.clock().today()
    with runtime.sessions.begin() as session:
        open_bills = bills.open_bills(session, as_of=day, vendor=vendor)
    rows = bills.aging(open_bills)
    if as_json:
        typer.echo(
            dump(
                BillsOutput(
                    as_of=day,
                    bills=[OpenBillOutput.of(b) for b in open_bills],
                    aging=[AgingRowOutput.of(r) for r in rows],
                )
            )
        )
    else:
        console().print(bills_view(day, open_bills, rows))


def _date_option(option: str, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CliError(f"{option} must be a date like 2026-11-23, not {value!r}") from None


@app.command("trial-balance")
def trial_balance_cmd(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Option(help="Only this account code.")] = None,
    base: Annotated[bool, typer.Option("--base", help="Every currency valued in BASE_CURRENCY.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Debits, credits and balance per account; the totals must be equal."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        if base:
            tb = rates.base_trial_balance(session, runtime.settings.base_currency)
            if account is not None:
                tb = TrialBalance([r for r in tb.rows if r.code == account.upper()])
        else:
            tb = trial_balance(session, account)
    if as_json:
        typer.echo(dump(TrialBalanceOutput.of(tb)))
    else:
        console().print(trial_balance_view(tb))
    if not tb.balanced:
        raise typer.Exit(1)


@app.command("void")
def void_cmd(
    ctx: typer.Context,
    transaction_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why it is voided (kept in the books).")],
    by: Annotated[str | None, typer.Option(help="Who voids it.")] = None,
) -> None:
    """Void a posted transaction by posting its reversing entries."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        origin = Origin(source="cli", user=by)
        reversal = void(session, transaction_id, reason=reason, origin=origin, clock=runtime.settings.clock())
    typer.echo(f"Transaction {transaction_id} is void; reversing transaction {reversal.id} posted.")
    if reversal.note:
        typer.echo(reversal.note)


@app.command("export")
def export_cmd(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv or beancount.")] = "csv",
    date_from: Annotated[
        dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First date (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last date (YYYY-MM-DD).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    documents_dir: Annotated[
        Path | None,
        typer.Option(
            "--documents",
            help="Beancount: write the documents under this directory, with a document directive each.",
        ),
    ] = None,
) -> None:
    """Export the journal as CSV (one row per entry) or as a Beancount ledger."""
    if fmt not in FORMATS:
        raise CliError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if documents_dir is not None and fmt != "beancount":
        raise CliError("--documents needs --format beancount")
    start = date_from.date() if date_from else None
    end = date_to.date() if date_to else None
    if start and end and start > end:
        raise CliError("--from must not be after --to")
    runtime: Runtime = ctx.obj

    def writer(session: Session, out: TextIO) -> int:
        if fmt == "csv":
            return export_csv(session, out, date_from=start, date_to=end)
        try:
            return export_beancount(
                session,
                out,
                date_from=start,
                date_to=end,
                documents_dir=documents_dir,
                documents_relative_to=output.absolute().parent if output is not None else None,
            )
        except OSError as exc:
            raise CliError(f"Cannot write to {exc.filename or documents_dir}: {exc.strerror}") from None

    with runtime.sessions.begin() as session:
        if output is None:
            writer(session, sys.stdout)
            return
        buffer = io.StringIO()
        count = writer(session, buffer)
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot write {output}: {exc.strerror}") from None
    what = "transactions" if fmt == "beancount" else "journal entries"
    typer.echo(f"Exported {count} {what} to {output}.", err=True)


@app.command("verify")
def verify_cmd(
    ctx: typer.Context,
    since: Annotated[int | None, typer.Option(help="Check the hash chain from this transaction on.")] = None,
    head: Annotated[
        str | None,
        typer.Option(help="A hash from `chain head`, kept elsewhere: it must still be in the chain."),
    ] = None,
) -> None:
    """Re-check every transaction, maintained balance and the hash chain; exits 1 naming any that is wrong."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        problems = verify(session, since=since, head=head)
    if not problems:
        typer.echo(
            "All transactions balance, every account balance matches its entries, "
            "and every transaction matches the hash chain."
        )
        return
    for p in problems:
        typer.echo(str(p), err=True)
    raise typer.Exit(1)


By = Annotated[str | None, typer.Option("--by", help="Who does it (kept in the books).")]


@period_app.command("close")
def period_close(ctx: typer.Context, month: str, by: By = None) -> None:
    """Close a month (YYYY-MM): the database refuses anything dated in it from now on."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        periods.close(session, month, by=by, clock=runtime.settings.clock())
    typer.echo(f"Period {month} is closed.")


@period_app.command("reopen")
def period_reopen(
    ctx: typer.Context,
    month: str,
    reason: Annotated[str, typer.Option("--reason", help="Why it is reopened (kept in the books).")] = "",
    by: By = None,
) -> None:
    """Reopen a closed month, saying why."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        periods.reopen(session, month, reason=reason, by=by, clock=runtime.settings.clock())
    typer.echo(f"Period {month} is open again.")


@period_app.command("start")
def period_start(ctx: typer.Context, month: str, by: By = None) -> None:
    """Make a month (YYYY-MM) the books' first period: nothing may be dated before it."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        periods.start(session, month, by=by, clock=runtime.settings.clock())
    typer.echo(f"The books start at {month}.")


@period_app.command("list")
def period_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The periods started, closed or reopened, oldest first, with who did it last, when and why."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        states = periods.list_periods(session)
    if as_json:
        typer.echo(dump([PeriodOutput.model_validate(s) for s in states]))
        return
    if not states:
        typer.echo("No period has been started or closed; every date is open.")
    for s in states:
        why = f": {s.reason}" if s.reason else ""
        who = f" by {s.by}" if s.by else ""
        state = "closed" if s.closed else "open"
        typer.echo(f"{s.month}  {state:6}  {s.action}{who} on {s.at:%Y-%m-%d %H:%M} UTC{why}")


@chain_app.command("head")
def chain_head(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The latest hash of the chain: keep it outside the database and check it later with `verify --head`."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        latest = chain.head(session)
    if latest is None:
        raise CliError("Nothing is recorded yet; the chain has no head")
    if as_json:
        typer.echo(dump(ChainHeadOutput.model_validate(latest)))
        return
    typer.echo(f"{latest.hash}  (link {latest.seq}, transaction {latest.transaction_id})")


@rates_app.command("load")
def rates_load(ctx: typer.Context, file: Path) -> None:
    """Load exchange rates from a CSV file with the header date,currency,rate (BASE_CURRENCY units for one unit)."""
    runtime: Runtime = ctx.obj
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot read {file}: {exc.strerror}") from None
    parsed = rates.parse_rates(text)
    with runtime.sessions.begin() as session:
        count = rates.load_rates(session, parsed)
    typer.echo(f"{count} rate{'s' if count != 1 else ''} loaded (into {runtime.settings.base_currency}).")


@rates_app.command("list")
def rates_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The exchange rates, by currency and date."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        listed = rates.list_rates(session)
    if as_json:
        typer.echo(dump([RateOutput.model_validate(r) for r in listed]))
        return
    if not listed:
        typer.echo("No exchange rates; load some with `purchase-bot rates load FILE.csv`.")
    base = runtime.settings.base_currency
    for r in listed:
        typer.echo(f"{r.date.isoformat()}  1 {r.currency} = {r.rate} {base}")


@tax_app.command("load")
def tax_load(ctx: typer.Context, file: Path) -> None:
    """Add or update tax codes from a JSON list of {"code", "name", "rate", "account", "inclusive"}."""
    runtime: Runtime = ctx.obj
    specs = tax.parse_tax_codes(_read_json(str(file)))
    with runtime.sessions.begin() as session:
        count = tax.load_tax_codes(session, specs)
    typer.echo(f"{count} tax code{'s' if count != 1 else ''} loaded.")


@tax_app.command("list")
def tax_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """The tax codes: rate, account, and whether prices include the tax."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        codes = list(tax.tax_codes(session).values())
    if as_json:
        typer.echo(dump([TaxCodeOutput.model_validate(c) for c in codes]))
        return
    if not codes:
        typer.echo("No tax codes; load some with `purchase-bot tax load FILE.json`.")
    for c in codes:
        kind = "included in prices" if c.inclusive else "on top of prices"
        typer.echo(f"{c.code}  {c.rate}%  {c.name}  account {c.account}  ({kind})")


@tax_app.command("report")
def tax_report_cmd(
    ctx: typer.Context,
    date_from: Annotated[
        dt.datetime | None, typer.Option("--from", formats=["%Y-%m-%d"], help="First date (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        dt.datetime | None, typer.Option("--to", formats=["%Y-%m-%d"], help="Last date (YYYY-MM-DD).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Per tax code and currency: the net amounts and the tax of the posted purchases."""
    runtime: Runtime = ctx.obj
    with runtime.sessions.begin() as session:
        rows = tax.tax_report(
            session, date_from.date() if date_from else None, date_to.date() if date_to else None
        )
    out = [TaxReportOutput.of(r) for r in rows]
    if as_json:
        typer.echo(dump(out))
        return
    if not out:
        typer.echo("No taxed purchases in that range.")
    for r in out:
        typer.echo(f"{r.code}  {r.currency}  net {r.net:,}  tax {r.tax:,}")


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on PORT."""
    from bot.serve import serve as run_server  # the server stack loads only for this command

    runtime: Runtime = ctx.obj
    run_server(runtime.settings)


def _fail(message: str, code: int = 1) -> NoReturn:
    """One `error:` line per problem: several bad settings are reported together, a line each."""
    for line in message.splitlines():
        typer.echo(f"error: {line}", err=True)
    raise SystemExit(code)


def main() -> None:
    try:
        app()
    except (LedgerError, SettingsError, CliError) as exc:
        _fail(str(exc))
    except OperationalError as exc:
        _fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0]}", 2)
    except DBAPIError as exc:
        _fail(f"the database refused the change: {str(exc.orig).strip().splitlines()[0]}", 2)
