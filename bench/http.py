"""End to end: signed view_submission requests over HTTP to `purchase-bot serve`, beside the database.

    .venv/bin/python -m bench.http                  # 2,000 requests at 1 and at 20 clients: about 2 minutes
    .venv/bin/python -m bench.http --smoke          # about 10 seconds, to keep it working

It creates a scratch database (migrated, default chart; dropped afterwards), starts the fake Slack
Web API (`tests.slack.fake_api`, in a process of its own) and `purchase-bot serve` as deployed
(HTTP mode under gunicorn, `WEB_CONCURRENCY` workers of 32 threads; the README's default of 2
unless `--workers` says otherwise), then sends signed `view_submission` requests, each a distinct
purchase with a distinct view ID built with `handlers.blocks.purchase_form.build_purchase_modal`, from 1 and then
20 concurrent clients (threads, a new connection per request, as from a load balancer). For every
request it times the acknowledgement (request sent to HTTP reply read), and samples the RSS of the
server's processes from /proc while the load runs.

Beside each load, in the same run, it measures the database baseline at the same concurrency: the
`database` way of `bench.posting` (one SQL statement, one transaction per purchase, one process
per client), before and after the HTTP load; its mean commit latency is the yardstick of the
target: p99 acknowledgement at 20 clients within 10x of it.

Exit status: 0 when it ran (targets missed or not), 1 when the books it wrote do not verify, 2 when
it could not run.
"""

import argparse
import http.client
import logging
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import URL

from bench.pgdb import machine, scratch_database
from bench.posting import measure
from db.chain import UNCHAINED
from db.clock import system_time
from db.models import TransactionHeader
from db.reports import verify
from db.session import make_engine, make_session_factory
from handlers.blocks.purchase_form import FormValues, ItemValues, ModalMeta, build_purchase_modal
from handlers.caches import AccountOption
from tests.clock import BOOKS_DAY
from tests.serving import bot_env, free_port, serve
from tests.slack import requests as slack
from tests.slack.fake_api import FakeSlackApi

CLIENTS = (1, 20)
SLACK_LIMIT = 3.0  # seconds Slack waits for the acknowledgement
MEMORY_TARGET_MB = 200.0
RATIO_TARGET = 10.0  # p99 at 20 clients within 10x the database's mean commit latency
ACCOUNTS = [AccountOption("1000", "Cash", "asset"), AccountOption("1100", "Inventory", "asset")]
SAMPLE_EVERY = 0.1  # seconds between RSS samples


# --- the fake Slack Web API, in a process of its own so that it does not share the clients' GIL ---


def _fake_slack(conn: Connection) -> None:
    fake = FakeSlackApi().start()
    conn.send(fake.base_url)
    while (command := conn.recv()) != "stop":
        if command == "counts":
            with fake._lock:
                counts = Counter(c.method for c in fake.calls)
            conn.send(dict(counts))
    fake.stop()
    conn.send("stopped")


@contextmanager
def fake_slack() -> Iterator[tuple[str, Connection]]:
    parent, child = mp.get_context("fork").Pipe()
    process = mp.get_context("fork").Process(target=_fake_slack, args=(child,), daemon=True)
    process.start()
    try:
        if not parent.poll(10):
            raise RuntimeError("the fake Slack Web API did not start")
        yield str(parent.recv()), parent
    finally:
        if process.is_alive():
            parent.send("stop")
            parent.poll(5)
        process.join(5)
        if process.is_alive():
            process.kill()


def slack_counts(conn: Connection) -> dict[str, int]:
    conn.send("counts")
    counts: dict[str, int] = conn.recv()
    return counts


# --- memory of the server's processes --------------------------------------------------------------


def _status_kb(pid: int, key: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (utime and stime of /proc/PID/stat)."""
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after its closing parenthesis.
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


@dataclass
class MemorySampler:
    """Samples VmRSS of the gunicorn master and its workers every SAMPLE_EVERY s; keeps each peak."""

    master: int
    peak_kb: dict[int, int] = field(default_factory=dict)
    hwm_kb: dict[int, int] = field(default_factory=dict)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def pids(self) -> list[int]:
        return [self.master, *sorted(_children(self.master))]

    def _run(self) -> None:
        pids = self.pids()
        last_scan = time.monotonic()
        while not self._stop.wait(SAMPLE_EVERY):
            if time.monotonic() - last_scan > 1.0:  # a worker restarted by gunicorn gets a new pid
                pids, last_scan = self.pids(), time.monotonic()
            for pid in pids:
                if (kb := _status_kb(pid, "VmRSS")) is not None:
                    self.peak_kb[pid] = max(self.peak_kb.get(pid, 0), kb)
            self.samples += 1

    def __enter__(self) -> "MemorySampler":
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for pid in self.pids():  # the kernel's own high-water mark, as a check on the sampling
            if (kb := _status_kb(pid, "VmHWM")) is not None:
                self.hwm_kb[pid] = max(self.hwm_kb.get(pid, 0), kb)


# --- the server ------------------------------------------------------------------------------------


def _serve_with_threads(threads: int) -> None:
    """`purchase-bot serve` (HTTP) with another gunicorn thread count: to try a setting from bench/ only."""
    from bot.serve import LOG_FORMAT, HttpServer
    from bot.settings import load_settings

    class Tuned(HttpServer):
        def load_config(self) -> None:
            super().load_config()
            self.cfg.set("threads", threads)

    settings = load_settings()
    settings.require_slack()
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    Tuned(settings).run()


def server(env: dict[str, str], log: Path, threads: int | None) -> AbstractContextManager[Any]:
    """The bot as deployed (`purchase-bot serve`), or with `threads` per worker; stopped afterwards."""
    command = (
        None if threads is None else [sys.executable, "-m", "bench.http", "--serve-threads", str(threads)]
    )
    return serve(env, log, command=command)


# --- the load ----------------------------------------------------------------------------------------


def _body(n: int, view_id: str) -> str:
    """A distinct purchase in a form as the bot draws it, submitted as Slack would send it."""
    values = FormValues(
        description=f"Bench purchase {n}",
        items=[ItemValues(f"Item {n}", str(1 + n % 5), f"{1 + n % 997}.{n % 100:02d}", "1100")],
    )
    view = build_purchase_modal(
        ACCOUNTS, values=values, meta=ModalMeta([0], 1), default_currency="USD", today=BOOKS_DAY
    )
    return slack.interaction_body(slack.view_submission(view, view_id))


@dataclass(frozen=True)
class Reply:
    seconds: float
    status: int
    outcome: str  # posted | posting (acknowledged with "Posting...") | other | error


def _send(port: int, body: str) -> Reply:
    """One signed request on a new connection; times the acknowledgement from send to reply read."""
    data = body.encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": slack.signature(body, ts),
        "Connection": "close",
    }
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/slack/events", body=data, headers=headers)
        response = conn.getresponse()
        reply = response.read()
        seconds = time.perf_counter() - started
    except (OSError, http.client.HTTPException):
        return Reply(time.perf_counter() - started, 0, "error")
    finally:
        conn.close()
    if response.status != 200:
        outcome = "error"
    elif b"Posted as transaction" in reply:
        outcome = "posted"
    elif b"Posting" in reply:
        outcome = "posting"
    else:
        outcome = "other"
    return Reply(seconds, response.status, outcome)


def load(port: int, bodies: list[str], clients: int) -> tuple[list[Reply], float]:
    """Send every body once from `clients` concurrent clients; the replies and the wall seconds."""
    with ThreadPoolExecutor(clients, thread_name_prefix="client") as pool:
        started = time.perf_counter()
        replies = list(pool.map(lambda body: _send(port, body), bodies))
        elapsed = time.perf_counter() - started
    return replies, elapsed


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, min(len(sorted_values), round(p / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


@dataclass
class Phase:
    clients: int
    replies: list[Reply]
    elapsed: float
    db_ms: list[float]  # the baseline's mean commit latency, before and after the load
    peak_mb: dict[int, float]
    hwm_mb: dict[int, float]
    master: int
    load_after: float
    server_cpu_s: float  # CPU the bot's processes used during the measured load

    @property
    def latencies_ms(self) -> list[float]:
        return sorted(r.seconds * 1000 for r in self.replies)

    @property
    def db_mean_ms(self) -> float:
        return statistics.fmean(self.db_ms)

    def row(self) -> str:
        ms = self.latencies_ms
        p99 = percentile(ms, 99)
        outcomes = Counter(r.outcome for r in self.replies)
        over = sum(1 for r in self.replies if r.seconds > SLACK_LIMIT)
        ratio = p99 / self.db_mean_ms
        target = ""
        if self.clients == 20:
            target = f"<={RATIO_TARGET:g} " + ("ok" if ratio <= RATIO_TARGET else "MISS")
        return (
            f"{self.clients:>7}{len(ms):>9}{len(ms) / self.elapsed:>8.1f}{percentile(ms, 50):>8.1f}"
            f"{percentile(ms, 95):>8.1f}{p99:>8.1f}{ms[-1]:>8.1f}{over:>6}{outcomes['posting']:>9}"
            f"{len(ms) - outcomes['posted'] - outcomes['posting']:>7}"
            f"{self.db_mean_ms:>9.2f} ({'/'.join(f'{m:.2f}' for m in self.db_ms)})"
            f"{ratio:>8.1f}  {target}"
        )


HEADER = (
    f"{'clients':>7}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
    f"{'>3 s':>6}{'Posting':>9}{'failed':>7}{'DB mean ms (before/after)':>27}{'p99/DB':>8}  target"
)


def run_phase(
    clients: int,
    port: int,
    master: int,
    url: URL,
    bodies: list[str],
    warmup: list[str],
    db_seconds: float,
    db_rounds: int,
) -> Phase:
    db_ms: list[float] = []
    if db_rounds > 1:
        db_ms.append(measure("database", clients, url, db_seconds).mean_ms)
    load(port, warmup, clients)
    with MemorySampler(master) as sampler:
        cpu_before = _cpu_seconds(sampler.pids())
        replies, elapsed = load(port, bodies, clients)
        cpu = _cpu_seconds(sampler.pids()) - cpu_before
    db_ms.append(measure("database", clients, url, db_seconds).mean_ms)
    pids = sorted(set(sampler.peak_kb) | set(sampler.hwm_kb))
    return Phase(
        clients,
        replies,
        elapsed,
        db_ms,
        {pid: sampler.peak_kb.get(pid, 0) / 1024 for pid in pids},
        {pid: sampler.hwm_kb.get(pid, 0) / 1024 for pid in pids},
        master,
        os.getloadavg()[0],
        cpu,
    )


def memory_table(phases: list[Phase]) -> str:
    lines = [f"{'process':<18}{'pid':>8}" + "".join(f"{f'{p.clients} cl. MB':>12}" for p in phases)]
    lines[0] += f"{'VmHWM MB':>10}  target <{MEMORY_TARGET_MB:g} MB"
    pids = sorted({pid for p in phases for pid in p.peak_mb}, key=lambda pid: (pid != phases[0].master, pid))
    for pid in pids:
        role = "gunicorn master" if pid == phases[0].master else "worker"
        peaks = [p.peak_mb.get(pid, 0.0) for p in phases]
        hwm = max(p.hwm_mb.get(pid, 0.0) for p in phases)
        worst = max(*peaks, hwm)
        mark = "ok" if worst < MEMORY_TARGET_MB else "MISS"
        lines.append(f"{role:<18}{pid:>8}" + "".join(f"{m:>12.1f}" for m in peaks) + f"{hwm:>10.1f}  {mark}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per client count")
    parser.add_argument(
        "--clients", default=",".join(map(str, CLIENTS)), help="comma-separated client counts"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="WEB_CONCURRENCY for the server (default: the bot's own, 2)"
    )
    parser.add_argument(
        "--db-seconds", type=float, default=3.0, help="seconds of each database baseline measurement"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="gunicorn threads per worker (default: the bot's own, 32)"
    )
    parser.add_argument("--serve-threads", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="about 10 seconds in all, to keep it working")
    args = parser.parse_args(argv)
    if args.serve_threads is not None:  # the server process of --threads
        _serve_with_threads(args.serve_threads)
        return 0
    clients = [int(c) for c in args.clients.split(",")]
    requests = 60 if args.smoke else args.requests
    warmup_count = 20 if args.smoke else 200
    db_seconds = 0.5 if args.smoke else args.db_seconds
    db_rounds = 1 if args.smoke else 2
    started = time.monotonic()
    try:
        # Every purchase is distinct, with a view ID of its own (the idempotency key is slack:T1:<view id>).
        plan: list[tuple[int, list[str], list[str]]] = []
        n = 0
        for c in clients:
            warmup = [_body(n + i, f"VBENCHW{c:02d}{i:06d}") for i in range(warmup_count)]
            n += warmup_count
            bodies = [_body(n + i, f"VBENCH{c:02d}{i:06d}") for i in range(requests)]
            n += requests
            plan.append((c, warmup, bodies))
        with (
            scratch_database("bench_http") as url,
            tempfile.TemporaryDirectory(prefix="bench_http_") as tmp,
            ExitStack() as stack,
        ):
            base_url, slack_conn = stack.enter_context(fake_slack())
            port = free_port()
            values = {
                "DATABASE_URL": url.render_as_string(hide_password=False),
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_SIGNING_SECRET": slack.SECRET,
                "SLACK_API_URL": base_url,
                "PURCHASE_CHANNEL": "CBENCH",
                "PORT": str(port),
                "HOST": "127.0.0.1",
            }
            if args.workers is not None:
                values["WEB_CONCURRENCY"] = str(args.workers)
            process = stack.enter_context(server(bot_env(**values), Path(tmp) / "serve.log", args.threads))
            phases = [
                run_phase(c, port, process.pid, url, bodies, warmup, db_seconds, db_rounds)
                for c, warmup, bodies in plan
            ]
            time.sleep(1.0)  # outcomes acknowledged with "Posting..." arrive by views.update
            calls = slack_counts(slack_conn)
            stack.close()  # stop the server before verifying: nothing may still be writing
            engine = make_engine(url)
            with make_session_factory(engine).begin() as session:
                # Each row's database baseline (bench.posting's raw "database" way) writes around the
                # application, so those transactions have no link in the hash chain; that alone is
                # expected, every other check applies.
                problems = [p for p in verify(session) if p.message != UNCHAINED]
                stored = (
                    session.scalar(
                        select(func.count())
                        .select_from(TransactionHeader)
                        .where(TransactionHeader.idempotency_key.like("slack:%"))
                    )
                    or 0
                )
            engine.dispose()
    except Exception as exc:
        print(f"bench.http could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    sent = sum(len(w) + len(b) for _, w, b in plan)
    workers = args.workers if args.workers is not None else 2
    threads = args.threads if args.threads is not None else 32
    print(
        f"End to end over HTTP: purchase-bot serve, gunicorn gthread, WEB_CONCURRENCY={workers} x {threads} threads, "
        f"{requests} distinct view_submissions per row (after {warmup_count} warm-up), "
        f"{machine()} at the end, {system_time():%Y-%m-%d %H:%M} UTC"
    )
    print(HEADER)
    for phase in phases:
        print(phase.row())
    print(
        "load average (1 min) after each row: "
        + ", ".join(f"{p.clients} cl. {p.load_after:.1f}" for p in phases)
    )
    print(
        "bot CPU per request (all its processes, user + system, acknowledgement and channel message): "
        + ", ".join(f"{p.clients} cl. {p.server_cpu_s / len(p.replies) * 1000:.1f} ms" for p in phases)
    )
    print("Peak RSS per server process, sampled every 0.1 s during each row's load (MB):")
    print(memory_table(phases))
    print(
        f"{sent} submissions sent (warm-up included), {stored} recorded from Slack; Slack Web API calls: "
        + ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
    )
    print(
        f"verify: {'sound' if not problems else f'{len(problems)} problems'}; "
        f"{time.monotonic() - started:.0f} s in all"
    )
    if problems:
        for p in problems[:5]:
            print(f"  {p}", file=sys.stderr)
        return 1
    if stored != sent:
        print(f"note: {sent - stored} submissions were not recorded (see the failed column)", file=sys.stderr)
    if any(all(r.outcome == "error" for r in p.replies) for p in phases):
        print("bench.http could not run: every request of a row failed", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
