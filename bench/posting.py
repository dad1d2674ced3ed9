"""Posting throughput: the project's posting path beside the database's own limit and the naive ORM.

    .venv/bin/python -m bench.posting --seconds 10          # full run, about 1 minute
    .venv/bin/python -m bench.posting --smoke               # about 10 seconds, to keep it working

Every client is a worker process (forked) with one connection of its own (2 cores here: threads
would measure the GIL, not the code). All three ways write the same rows for the same purchase (one
header with an idempotency key and request hash, three line items, three journal entries) into
the same freshly migrated schema, so the deferred balance trigger and (from 0002) the maintained
balances cost every way the same:

- `database`: one SQL statement per purchase in autocommit (a CTE inserting header, items and
  entries): one round trip and one transaction. Nothing a client can do is faster.
- `project`: `db.posting.post_purchase` inside `with factory.begin()`, the engine and session
  factory from `db.session`, exactly as the bot calls it.
- `naive`: the pattern the project avoids: default `create_engine` and `Session`, the accounts
  looked up one by one, one ORM object added and flushed at a time, then commit.

Exit status is 0 whenever the benchmark ran (targets missed or not), non-zero when it could not
run or the books it wrote do not verify.
"""

import argparse
import multiprocessing as mp
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier

import psycopg
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from bench.pgdb import dsn, machine, scratch_database
from db.chain import UNCHAINED
from db.clock import system_time
from db.migrate import upgrade
from db.models import Account, JournalEntry, Status, TransactionDetail, TransactionHeader
from db.money import to_minor
from db.posting import Origin, post_purchase
from db.reports import verify
from db.schemas import Purchase, parse_purchase
from db.session import make_engine, make_session_factory
from db.vendors import find_or_create, vendor_key
from tests.clock import BOOKS_DAY

MODES = ("database", "project", "naive")
TARGETS = {1: 0.7, 8: 0.6}
WARMUP_SECONDS = 0.5

PURCHASE = parse_purchase(
    {
        "description": "Printer supplies",
        "vendor": "Office Depot",
        "date": "2026-11-20",
        "currency": "USD",
        "payment_account": "1000",
        "items": [
            {"name": "Paper", "quantity": 2, "unit_price": "12.50", "account": "6100"},
            {"name": "Toner", "quantity": 1, "unit_price": "80.00", "account": "6100"},
            {"name": "USB cable", "quantity": 3, "unit_price": "4.99", "account": "1100"},
        ],
    },
    today=BOOKS_DAY,
)
ORIGIN = Origin(source="slack", user="U0BENCH", team="T0BENCH", channel="C0BENCH")


def keyed(prefix: str, n: int) -> Purchase:
    """The purchase with an idempotency key of its own, as the bot derives one per submission."""
    return PURCHASE.model_copy(update={"idempotency_key": f"{prefix}-{n}"})


# --- the three ways of writing a purchase; each returns "post one purchase numbered n" ---------

_SQL_ONE_ROUND_TRIP = """
WITH h AS (
    INSERT INTO transaction_headers (effective_date, description, vendor_id, currency, exponent, total,
        payment_account_id, status, idempotency_key, request_hash, source, created_by, team_id, channel_id)
    VALUES (%(date)s, %(description)s, %(vendor_id)s, %(currency)s, %(exponent)s, %(total)s, %(payment)s,
        'posted', %(key)s, %(hash)s, %(source)s, %(user)s, %(team)s, %(channel)s)
    RETURNING id
), d AS (
    INSERT INTO transaction_details (transaction_id, line, item, quantity, unit_price, subtotal, account_id)
    SELECT h.id, v.line, v.item, v.quantity, v.price, v.quantity * v.price, v.account
    FROM h, unnest(%(lines)s::smallint[], %(items)s::text[], %(quantities)s::bigint[],
                   %(prices)s::bigint[], %(item_accounts)s::bigint[])
         AS v(line, item, quantity, price, account)
)
INSERT INTO journal_entries (transaction_id, account_id, debit, credit)
SELECT h.id, e.account, e.debit, e.credit
FROM h, unnest(%(entry_accounts)s::bigint[], %(debits)s::bigint[], %(credits)s::bigint[])
     AS e(account, debit, credit)
"""


def database_way(url: URL, prefix: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    conn = psycopg.connect(dsn(url), autocommit=True)
    ids: dict[str, int] = dict(conn.execute("SELECT code, id FROM accounts").fetchall())
    p = PURCHASE
    assert p.vendor is not None
    vendor_row = conn.execute(
        "INSERT INTO vendors (name, key) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET name = vendors.name "
        "RETURNING id",
        (p.vendor, vendor_key(p.vendor)),
    ).fetchone()
    assert vendor_row is not None
    exp = p.exponent
    prices = [to_minor(i.unit_price, exp) for i in p.items]
    debits: dict[int, int] = {}
    for item, price in zip(p.items, prices, strict=True):
        debits[ids[item.account]] = debits.get(ids[item.account], 0) + item.quantity * price
    total = sum(debits.values())
    fixed = {
        "date": p.date,
        "description": p.description,
        "vendor_id": vendor_row[0],
        "currency": p.currency,
        "exponent": exp,
        "total": total,
        "payment": ids[p.payment_account],
        "hash": p.request_hash(),
        "source": ORIGIN.source,
        "user": ORIGIN.user,
        "team": ORIGIN.team,
        "channel": ORIGIN.channel,
        "lines": list(range(1, len(p.items) + 1)),
        "items": [i.name for i in p.items],
        "quantities": [i.quantity for i in p.items],
        "prices": prices,
        "item_accounts": [ids[i.account] for i in p.items],
        "entry_accounts": [*debits, ids[p.payment_account]],
        "debits": [*debits.values(), 0],
        "credits": [0] * len(debits) + [total],
    }

    def post(n: int) -> None:
        conn.execute(_SQL_ONE_ROUND_TRIP, {**fixed, "key": f"{prefix}-{n}"}, prepare=True)

    return post, conn.close


def project_way(url: URL, prefix: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    engine = make_engine(url)
    factory = make_session_factory(engine)

    def post(n: int) -> None:
        with factory.begin() as session:
            post_purchase(session, keyed(prefix, n), ORIGIN)

    return post, engine.dispose


def naive_way(url: URL, prefix: str) -> tuple[Callable[[int], None], Callable[[], None]]:
    engine = create_engine(url)

    def post(n: int) -> None:
        p = keyed(prefix, n)
        exp = p.exponent
        with Session(engine) as session:

            def account(code: str) -> Account:
                return session.scalars(select(Account).where(Account.code == code)).one()

            header = TransactionHeader(
                effective_date=p.date,
                description=p.description,
                vendor_record=find_or_create(session, p.vendor) if p.vendor else None,
                currency=p.currency,
                exponent=exp,
                total=to_minor(p.items_total, exp),
                payment_account_id=account(p.payment_account).id,
                status=Status.POSTED,
                idempotency_key=p.idempotency_key,
                request_hash=p.request_hash(),
                source=ORIGIN.source,
                created_by=ORIGIN.user,
                team_id=ORIGIN.team,
                channel_id=ORIGIN.channel,
            )
            session.add(header)
            session.flush()
            debits: dict[int, int] = {}
            for line, item in enumerate(p.items, start=1):
                price = to_minor(item.unit_price, exp)
                detail = TransactionDetail(
                    transaction_id=header.id,
                    line=line,
                    item=item.name,
                    quantity=item.quantity,
                    unit_price=price,
                    subtotal=item.quantity * price,
                    account_id=account(item.account).id,
                )
                session.add(detail)
                session.flush()
                debits[detail.account_id] = debits.get(detail.account_id, 0) + detail.subtotal
            for account_id, debit in debits.items():
                session.add(
                    JournalEntry(transaction_id=header.id, account_id=account_id, debit=debit, credit=0)
                )
                session.flush()
            session.add(
                JournalEntry(
                    transaction_id=header.id,
                    account_id=header.payment_account_id,
                    debit=0,
                    credit=header.total,
                )
            )
            session.flush()
            session.commit()

    return post, engine.dispose


WAYS = {"database": database_way, "project": project_way, "naive": naive_way}


# --- workers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    mode: str
    url: str
    prefix: str
    seconds: float
    warmup: float


def _worker(job: Job, barrier: Barrier, results: "mp.Queue[tuple[int, float] | str]") -> None:
    try:
        post, close = WAYS[job.mode](make_url(job.url), job.prefix)
        n = 0
        warm_until = time.perf_counter() + job.warmup
        while time.perf_counter() < warm_until:
            post(n)
            n += 1
        barrier.wait(timeout=60)
        start = time.perf_counter()
        end = start + job.seconds
        done = 0
        now = start
        while now < end:
            post(n)
            n += 1
            done += 1
            now = time.perf_counter()
        close()
        results.put((done, now - start))
    except Exception as exc:
        try:
            barrier.abort()
        finally:
            results.put(f"{job.mode} worker failed: {type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class Result:
    mode: str
    clients: int
    purchases: int
    per_second: float
    mean_ms: float


def measure(mode: str, clients: int, url: URL, seconds: float, warmup: float = WARMUP_SECONDS) -> Result:
    ctx = mp.get_context("fork")  # nothing is connected in the parent yet
    barrier = ctx.Barrier(clients)
    results: mp.Queue[tuple[int, float] | str] = ctx.Queue()
    run = uuid.uuid4().hex[:8]
    url_text = url.render_as_string(hide_password=False)
    procs = [
        ctx.Process(
            target=_worker, args=(Job(mode, url_text, f"b-{run}-{i}", seconds, warmup), barrier, results)
        )
        for i in range(clients)
    ]
    for proc in procs:
        proc.start()
    outcomes = [results.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join()
    failures = [o for o in outcomes if isinstance(o, str)]
    if failures:
        raise RuntimeError(failures[0])
    counts = [o for o in outcomes if not isinstance(o, str)]
    purchases = sum(c for c, _ in counts)
    elapsed = max(e for _, e in counts)
    mean_ms = sum(e for _, e in counts) / max(purchases, 1) * 1000
    return Result(mode, clients, purchases, purchases / elapsed, mean_ms)


def median(same: list[Result]) -> Result:
    """The round with the median throughput (other machine load makes single rounds noisy)."""
    return sorted(same, key=lambda r: r.per_second)[len(same) // 2]


# --- the run ---------------------------------------------------------------------------------------


def table(results: list[Result]) -> str:
    limit = {r.clients: r.per_second for r in results if r.mode == "database"}
    lines = [
        f"{'way':<10}{'clients':>8}{'purchases':>11}{'purchases/s':>13}{'mean ms':>9}{'x database':>12}"
        f"{'target':>8}",
    ]
    for r in results:
        ratio = r.per_second / limit[r.clients] if r.clients in limit else float("nan")
        target = TARGETS.get(r.clients) if r.mode == "project" else None
        mark = "" if target is None else (f">={target}" + (" ok" if ratio >= target else " MISS"))
        lines.append(
            f"{r.mode:<10}{r.clients:>8}{r.purchases:>11}{r.per_second:>13.0f}{r.mean_ms:>9.2f}"
            f"{ratio:>12.2f}{mark:>8}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="measured seconds per way and client count"
    )
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts (worker processes)")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated subset of {MODES}")
    parser.add_argument(
        "--revision",
        default="head",
        help="migrate the scratch database only this far (the project way needs 0002 or later)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the table shows each row's median round"
    )
    parser.add_argument("--smoke", action="store_true", help="about 10 seconds in all, to keep it working")
    args = parser.parse_args(argv)
    seconds = 1.0 if args.smoke else args.seconds
    rounds = 1 if args.smoke else args.rounds
    clients = [int(c) for c in args.clients.split(",")]
    modes = [m for m in args.modes.split(",") if m]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown mode(s): {', '.join(sorted(unknown))}")
    try:
        with scratch_database("bench_posting", args.revision) as url:
            runs = [
                [measure(mode, n, url, seconds) for n in clients for mode in modes] for _ in range(rounds)
            ]
            results = [median(list(same)) for same in zip(*runs, strict=True)]
            engine = make_engine(url)
            upgrade(engine)  # from an older --revision: verify needs (and checks the backfill of) 0002
            with make_session_factory(engine).begin() as session:
                # The "database" and "naive" ways are baselines that write rows around the application,
                # so their transactions have no link in the hash chain (db/chain.py): that alone is
                # expected; every other check (balances, maintained balances) still applies to them.
                problems = [p for p in verify(session) if p.message != UNCHAINED]
                headers = session.scalar(select(func.count()).select_from(TransactionHeader)) or 0
            engine.dispose()
    except Exception as exc:
        print(f"bench.posting could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    print(
        f"Posting throughput, median of {rounds} interleaved rounds of {seconds:g} s, schema at {args.revision}, "
        f"{machine()} at the end, {system_time():%Y-%m-%d %H:%M} UTC"
    )
    print(table(results))
    print(
        f"{headers} transactions written; verify: {'sound' if not problems else f'{len(problems)} problems'}"
    )
    if problems:
        for p in problems[:5]:
            print(f"  {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
