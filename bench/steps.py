"""What each posting optimisation bought: the steps side by side in one process, one client.

    .venv/bin/python -m bench.steps                 # about 1 minute
    .venv/bin/python -m bench.steps --smoke         # a few seconds

The steps, each cumulative:

- `v0 original`: db/posting.py as of the ledger-core commit (git show BASE:db/posting.py) on an
  engine with pool_pre_ping, as db.session made it then: 9 round trips per purchase.
- `v1 idle ping`: the same code on today's engine (ping only after 1 s idle): 8 round trips.
- `v2 key claim`: db/posting.py as of KEY_CLAIM (advisory-lock key claim inside the accounts
  query instead of SAVEPOINT / RELEASE around the header, statement built once): 6 round trips.
- `v3 core rows`: today's db.posting: the header is still added and flushed through the ORM for
  its ID, but the details and entries go in as plain multi-row INSERTs without the unit of work.

plus `database` (one round trip, bench.posting's limit) and `naive`. The ways take turns in small
blocks, so a load spike on a shared machine hits them all alike; the table shows per purchase the
median wall time and the client's own CPU time (user + system, which machine load barely moves).
"""

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.engine import URL

from bench import posting as bp
from bench.pgdb import machine, scratch_database
from db.posting import post_purchase
from db.session import make_engine, make_session_factory

BASE = "03bb1e3"  # "Ledger core: models, migrations ..., posting, ..."
KEY_CLAIM = "02a32da"  # "Benchmarks and maintained balances: ... claims the idempotency key ..."


def original_posting(commit: str) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{commit}:db/posting.py"], capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "original_posting.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("original_posting", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def project(url: URL, fn: Callable[..., Any], tag: str, **engine_args: Any) -> Callable[[int], None]:
    factory = make_session_factory(make_engine(url, **engine_args))

    def post(n: int) -> None:
        with factory.begin() as session:
            fn(session, bp.keyed(tag, n), bp.ORIGIN)

    return post


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=25, help="turns each way takes")
    parser.add_argument("--block", type=int, default=40, help="purchases per turn")
    parser.add_argument("--base", default=BASE, help="git commit whose db/posting.py is v0")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, to keep it working")
    args = parser.parse_args(argv)
    blocks, block = (3, 10) if args.smoke else (args.blocks, args.block)
    try:
        original = original_posting(args.base)
        key_claim = original_posting(KEY_CLAIM)
        with scratch_database("bench_steps") as url:
            ways: dict[str, Callable[[int], None]] = {
                "database": bp.database_way(url, "db")[0],
                "v0 original": project(url, original.post_purchase, "v0", pool_pre_ping=True),
                "v1 idle ping": project(url, original.post_purchase, "v1"),
                "v2 key claim": project(url, key_claim.post_purchase, "v2"),
                "v3 core rows": project(url, post_purchase, "v3"),
                "naive": bp.naive_way(url, "nv")[0],
            }
            wall: dict[str, list[float]] = {k: [] for k in ways}
            cpu: dict[str, list[float]] = {k: [] for k in ways}
            n = 0
            for post in ways.values():  # warm up: caches, prepared statements
                for _ in range(20):
                    post(n)
                    n += 1
            for _ in range(blocks):
                for name, post in ways.items():
                    t, c = time.perf_counter(), time.process_time()
                    for _ in range(block):
                        post(n)
                        n += 1
                    c2 = time.process_time()
                    wall[name].append((time.perf_counter() - t) / block * 1000)
                    cpu[name].append((c2 - c) / block * 1000)
    except Exception as exc:
        print(f"bench.steps could not run: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    limit = statistics.median(wall["database"])
    print(f"Posting steps, 1 client, {blocks} turns of {block} purchases each, medians; {machine()}")
    print(f"{'way':<14}{'wall ms':>9}{'purchases/s':>13}{'x database':>12}{'client cpu ms':>15}")
    for name in ways:
        w = statistics.median(wall[name])
        print(f"{name:<14}{w:>9.2f}{1000 / w:>13.0f}{limit / w:>12.2f}{statistics.median(cpu[name]):>15.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
