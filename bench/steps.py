"""What each posting optimisation bought: the steps side by side in one process, one client.

    .venv/bin/python -m bench.steps                 # about 1 minute
    .venv/bin/python -m bench.steps --smoke         # a few seconds

Each step is today's `db.posting.post_purchase` with the later optimisations switched off (one
function swapped for what it replaced, or the engine as it was), so the steps need no old code:

- `v0 original`: every optimisation off: pool_pre_ping (a ping per transaction), the idempotency
  key protected by a SAVEPOINT around the header INSERT, items and entries written by the unit of
  work: 9 round trips per purchase.
- `v1 idle ping`: + a pooled connection is pinged only after 1 s idle (db.session): 8.
- `v2 key claim`: + on PostgreSQL the key is claimed by an advisory lock inside the accounts query
  (migration 0002), so no SAVEPOINT / RELEASE: 6.
- `v3 bulk rows`: + items and entries as one multi-row INSERT each through the ORM's bulk path
  (`session.execute(insert(Model), rows)`), no unit of work.
- `v4 core rows`: + the same INSERTs as Core statements built once, on the session's connection:
  today's code.

Through all of them the header is added to the session and flushed for its ID. Beside them
`database` (one round trip, bench.posting's limit) and `naive`. The ways take turns in small
blocks, so a load spike on a shared machine hits them all alike; the table shows per purchase the
median wall time and the client's own CPU time (user + system, which machine load barely moves).
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from sqlalchemy import insert
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

import db.posting
from bench import posting as bp
from bench.pgdb import machine, scratch_database
from db.session import make_engine, make_session_factory


def _unit_of_work_rows(session: Session, _model: type[Any], rows: list[Any]) -> None:
    session.add_all(rows)
    session.flush()


def _orm_bulk_rows(session: Session, model: type[Any], rows: list[Any]) -> None:
    columns = [c.key for c in model.__table__.columns if c.key != "id"]
    session.execute(insert(model), [{c: getattr(row, c) for c in columns} for row in rows])


def _savepoint_key(_session: Session) -> bool:
    return False


# What each step replaced: (attribute of db.posting, the function it had before).
UNDO_CORE_ROWS = ("_insert_rows", _orm_bulk_rows)
UNDO_BULK_ROWS = ("_insert_rows", _unit_of_work_rows)
UNDO_KEY_CLAIM = ("_claims_keys_in_query", _savepoint_key)


@dataclass
class Step:
    undo: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    pre_ping: bool = False

    @contextmanager
    def active(self) -> Iterator[None]:
        with ExitStack() as stack:
            for name, replaced in self.undo:
                stack.enter_context(mock.patch.object(db.posting, name, replaced))
            yield


STEPS = {
    "v0 original": Step([UNDO_BULK_ROWS, UNDO_KEY_CLAIM], pre_ping=True),
    "v1 idle ping": Step([UNDO_BULK_ROWS, UNDO_KEY_CLAIM]),
    "v2 key claim": Step([UNDO_BULK_ROWS]),
    "v3 bulk rows": Step([UNDO_CORE_ROWS]),
    "v4 core rows": Step(),
}


def project(url: URL, step: Step, tag: str) -> Callable[[int], None]:
    factory = make_session_factory(make_engine(url, pool_pre_ping=step.pre_ping))

    def post(n: int) -> None:
        with factory.begin() as session:
            db.posting.post_purchase(session, bp.keyed(tag, n), bp.ORIGIN)

    return post


@contextmanager
def _as_is() -> Iterator[None]:
    yield


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=25, help="turns each way takes")
    parser.add_argument("--block", type=int, default=40, help="purchases per turn")
    parser.add_argument("--smoke", action="store_true", help="a few seconds, to keep it working")
    args = parser.parse_args(argv)
    blocks, block = (3, 10) if args.smoke else (args.blocks, args.block)
    try:
        with scratch_database("bench_steps") as url:
            ways: dict[str, tuple[Callable[[int], None], Callable[[], AbstractContextManager[None]]]] = {
                "database": (bp.database_way(url, "db")[0], _as_is),
                **{
                    name: (project(url, step, f"s{i}"), step.active)
                    for i, (name, step) in enumerate(STEPS.items())
                },
                "naive": (bp.naive_way(url, "nv")[0], _as_is),
            }
            wall: dict[str, list[float]] = {k: [] for k in ways}
            cpu: dict[str, list[float]] = {k: [] for k in ways}
            n = 0
            for post, active in ways.values():  # warm up: caches, prepared statements
                with active():
                    for _ in range(20):
                        post(n)
                        n += 1
            for _ in range(blocks):
                for name, (post, active) in ways.items():
                    with active():
                        t, c = time.perf_counter(), time.process_time()
                        for _ in range(block):
                            post(n)
                            n += 1
                        wall[name].append((time.perf_counter() - t) / block * 1000)
                        cpu[name].append((time.process_time() - c) / block * 1000)
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
