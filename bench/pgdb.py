"""Throwaway PostgreSQL databases for the benchmarks: created, migrated, seeded, dropped."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import URL, make_url

from db.accounts import seed_default_chart
from db.migrate import upgrade
from db.session import make_engine, make_session_factory

DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def admin_url() -> str:
    """The server to benchmark, as any database on it (BENCH_PG, else PURCHASE_BOT_TEST_PG)."""
    return os.environ.get("BENCH_PG") or os.environ.get("PURCHASE_BOT_TEST_PG") or DEFAULT_ADMIN


def machine() -> str:
    """CPUs and load average, printed with every result: other work on the machine moves them."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.1f} (1 min) {five:.1f} (5 min)"


def dsn(url: URL) -> str:
    """A libpq connection string for raw psycopg and pgbench."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    with psycopg.connect(dsn(make_url(admin_url())), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.encode())


@contextmanager
def scratch_database(prefix: str, revision: str = "head") -> Iterator[URL]:
    """A new database migrated to `revision` with the default chart; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url()).set(drivername="postgresql+psycopg", database=name)
    try:
        engine = make_engine(url)
        upgrade(engine, revision)
        with make_session_factory(engine).begin() as session:
            seed_default_chart(session)
        engine.dispose()
        yield url
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
