"""`purchase-bot`: set up the database, post, show, void, report and verify from the terminal.

Every failure prints one line on stderr and exits non-zero; no traceback reaches the user.
"""

import datetime as dt
import io
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from bot.settings import Settings, SettingsError, load_settings
from bot.text import transaction_text, trial_balance_text
from db import accounts as chart
from db import outbox
from db.errors import LedgerError
from db.export import FORMATS, export_beancount, export_csv
from db.lifecycle import void
from db.migrate import is_current, upgrade
from db.posting import Origin, post_purchase
from db.reports import get_transaction, trial_balance, verify
from db.schemas import parse_purchase
from db.session import make_engine, make_session_factory

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Create or upgrade the database schema.", no_args_is_help=True)
accounts_app = typer.Typer(help="The chart of accounts.", no_args_is_help=True)
announcements_app = typer.Typer(help="Team-channel messages the bot has not delivered.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(announcements_app, name="announcements")

JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def _settings() -> Settings:
    return load_settings()


def _engine(settings: Settings, *, migrated: bool = True) -> Engine:
    try:
        engine = make_engine(settings.database_url)
    except (ArgumentError, ImportError) as exc:
        # A malformed URL, or a database kind whose driver is not installed.
        raise CliError(
            f"DATABASE_URL is not a database this bot can use: {str(exc).splitlines()[0]}"
        ) from None
    if migrated and not is_current(engine):
        raise CliError("The database is not set up or is out of date; run `purchase-bot db upgrade` first")
    return engine


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


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


@db_app.command("upgrade")
def db_upgrade(
    chart_file: Annotated[
        Path | None, typer.Option("--chart", help="A JSON chart of accounts to use instead of the default.")
    ] = None,
) -> None:
    """Create or upgrade the schema, then make sure there is a chart of accounts."""
    settings = _settings()
    specs = chart.parse_chart(_read_json(str(chart_file))) if chart_file else None
    engine = _engine(settings, migrated=False)
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        if specs is not None:
            chart.load_chart(session, specs)
            typer.echo(f"Database is up to date; chart of accounts loaded from {chart_file}.")
        elif chart.seed_default_chart(session):
            typer.echo("Database is up to date; the default chart of accounts was created.")
        else:
            typer.echo("Database is up to date.")


@accounts_app.command("list")
def accounts_list(
    show_all: Annotated[bool, typer.Option("--all", help="Include closed accounts.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List the chart of accounts."""
    with make_session_factory(_engine(_settings())).begin() as session:
        rows = chart.list_accounts(session, include_inactive=show_all)
        if as_json:
            _print_json(
                [{"code": a.code, "name": a.name, "type": a.type.value, "active": a.active} for a in rows]
            )
            return
        for a in rows:
            typer.echo(f"{a.code:<8}{a.name:<32}{a.type.value:<10}{'' if a.active else 'closed'}")


@accounts_app.command("load")
def accounts_load(chart_file: Path) -> None:
    """Replace the chart with a JSON file: [{"code", "name", "type"}]; unlisted accounts are closed."""
    specs = chart.parse_chart(_read_json(str(chart_file)))
    with make_session_factory(_engine(_settings())).begin() as session:
        chart.load_chart(session, specs)
    typer.echo(f"Chart of accounts loaded: {len(specs)} accounts.")


@announcements_app.command("list")
def announcements_list(as_json: JsonFlag = False) -> None:
    """Channel messages not delivered yet: waiting for another try, or given up (and why)."""
    with make_session_factory(_engine(_settings())).begin() as session:
        rows = outbox.undelivered(session)
        if as_json:
            _print_json(
                [
                    {
                        "transaction_id": r.transaction_id,
                        "state": "given up" if r.given_up_at else "waiting",
                        "attempts": r.attempts,
                        "next_try": None if r.given_up_at else r.due_at,
                        "last_error": r.last_error,
                    }
                    for r in rows
                ]
            )
            return
        if not rows:
            typer.echo("Every announcement has been delivered.")
        for r in rows:
            state = "given up" if r.given_up_at else f"next try {r.due_at:%Y-%m-%d %H:%M:%S} UTC"
            typer.echo(f"#{r.transaction_id:<8}{state:<32}attempts {r.attempts:<4}{r.last_error or ''}")


@announcements_app.command("resend")
def announcements_resend(
    transaction_ids: Annotated[
        list[int] | None, typer.Argument(help="Transaction IDs; all when none.")
    ] = None,
) -> None:
    """Try the given-up messages again, e.g. once the bot is in the channel; a running bot sends
    them at its next sweep (those still being tried need nothing)."""
    settings = _settings()
    with make_session_factory(_engine(settings)).begin() as session:
        queued = outbox.resend(session, transaction_ids or None, clock=settings.clock())
    typer.echo(
        f"{len(queued)} announcement(s) queued; a running bot sends them within ANNOUNCE_SWEEP_SECONDS."
    )


@app.command()
def post(
    file: Annotated[str, typer.Argument(help="A purchase as JSON; - reads standard input.")],
    as_json: JsonFlag = False,
) -> None:
    """Post a purchase and print its transaction ID and journal."""
    settings = _settings()
    data = _read_json(file)
    if isinstance(data, dict):
        data.setdefault("currency", settings.default_currency)
    purchase = parse_purchase(data, today=settings.clock().today())
    factory = make_session_factory(_engine(settings))
    with factory.begin() as session:
        posted = post_purchase(session, purchase, Origin(source="cli"))
    if as_json:
        _print_json({"id": posted.id, "status": posted.status.value, "replayed": posted.replayed})
        return
    with factory.begin() as session:
        typer.echo(
            ("Already recorded as:\n" if posted.replayed else "Posted.\n")
            + transaction_text(get_transaction(session, posted.id))
        )


@app.command()
def show(transaction_id: int, as_json: JsonFlag = False) -> None:
    """Show one transaction: header, items and journal entries."""
    with make_session_factory(_engine(_settings())).begin() as session:
        header = get_transaction(session, transaction_id)
        if not as_json:
            typer.echo(transaction_text(header))
            return
        _print_json(
            {
                "id": header.id,
                "status": header.status.value,
                "date": header.effective_date.isoformat(),
                "description": header.description,
                "vendor": header.vendor,
                "currency": header.currency,
                "total": str(header.total),
                "exponent": header.exponent,
                "reverses_id": header.reverses_id,
                "items": [
                    {
                        "line": d.line,
                        "name": d.item,
                        "quantity": d.quantity,
                        "unit_price": d.unit_price,
                        "subtotal": d.subtotal,
                        "account": d.account.code,
                    }
                    for d in header.details
                ],
                "entries": [
                    {"account": e.account.code, "debit": e.debit, "credit": e.credit} for e in header.entries
                ],
            }
        )


@app.command("trial-balance")
def trial_balance_cmd(
    account: Annotated[str | None, typer.Option(help="Only this account code.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Debits, credits and balance per account; the totals must be equal."""
    with make_session_factory(_engine(_settings())).begin() as session:
        tb = trial_balance(session, account)
    if as_json:
        _print_json(
            {
                "rows": [
                    {
                        "account": r.code,
                        "name": r.name,
                        "currency": r.currency,
                        "debit": r.debit,
                        "credit": r.credit,
                        "balance": r.balance,
                    }
                    for r in tb.rows
                ],
                "totals": {c: {"debit": d, "credit": cr} for c, (d, cr) in tb.totals().items()},
                "balanced": tb.balanced,
            }
        )
    else:
        typer.echo(trial_balance_text(tb))
    if not tb.balanced:
        raise typer.Exit(1)


@app.command("void")
def void_cmd(
    transaction_id: int,
    reason: Annotated[str, typer.Option("--reason", help="Why it is voided (kept in the books).")],
    by: Annotated[str | None, typer.Option(help="Who voids it.")] = None,
) -> None:
    """Void a posted transaction by posting its reversing entries."""
    settings = _settings()
    with make_session_factory(_engine(settings)).begin() as session:
        origin = Origin(source="cli", user=by)
        reversal = void(session, transaction_id, reason=reason, origin=origin, clock=settings.clock())
    typer.echo(f"Transaction {transaction_id} is void; reversing transaction {reversal.id} posted.")


@app.command("export")
def export_cmd(
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
) -> None:
    """Export the journal as CSV (one row per entry) or as a Beancount ledger."""
    if fmt not in FORMATS:
        raise CliError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    start = date_from.date() if date_from else None
    end = date_to.date() if date_to else None
    if start and end and start > end:
        raise CliError("--from must not be after --to")
    writer = export_beancount if fmt == "beancount" else export_csv
    with make_session_factory(_engine(_settings())).begin() as session:
        if output is None:
            writer(session, sys.stdout, date_from=start, date_to=end)
            return
        buffer = io.StringIO()
        count = writer(session, buffer, date_from=start, date_to=end)
    try:
        output.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"Cannot write {output}: {exc.strerror}") from None
    what = "transactions" if fmt == "beancount" else "journal entries"
    typer.echo(f"Exported {count} {what} to {output}.", err=True)


@app.command("verify")
def verify_cmd() -> None:
    """Re-check every transaction and maintained balance; exits 1 naming any that is wrong."""
    with make_session_factory(_engine(_settings())).begin() as session:
        problems = verify(session)
    if not problems:
        typer.echo("All transactions balance, and every account balance matches its entries.")
        return
    for p in problems:
        typer.echo(str(p), err=True)
    raise typer.Exit(1)


@app.command()
def serve() -> None:
    """Run the Slack bot: Socket Mode with SLACK_APP_TOKEN, otherwise HTTP on PORT."""
    from bot.serve import serve as run_server  # the server stack loads only for this command

    run_server(_settings())


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
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
