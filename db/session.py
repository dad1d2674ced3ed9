"""Engines and sessions. Callers own the transaction: `with session_factory.begin() as session:`."""

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_FILE = "purchase-bot.sqlite3"

# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out.
# Pinging every checkout (pool_pre_ping) costs a round trip per transaction (bench/RESULTS.md); a
# connection used a moment ago needs no proof of life. If the server did go away in that moment,
# that one transaction fails with a disconnect error, which invalidates the whole pool, and the
# next checkout connects afresh.
PING_AFTER_IDLE_SECONDS = 1.0


def database_url(url: str | None) -> URL:
    """`postgresql://` and `postgres://` use psycopg 3; no URL means a SQLite file here."""
    if not url:
        return make_url(f"sqlite:///{Path.cwd() / DEFAULT_SQLITE_FILE}")
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL | None, **kwargs: Any) -> Engine:
    parsed = url if isinstance(url, URL) else database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        connect_args = {"connect_timeout": 5, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        _ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
        return engine
    return create_engine(parsed, pool_pre_ping=True, **kwargs)


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """pool_pre_ping, but only for connections that sat in the pool longer than `idle_seconds`."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection and checks out (or opens) another.
                raise exc.DisconnectionError(str(error)) from error
            raise


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if url.database and url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: two deferred transactions that both later write would
        # otherwise fail with "database is locked" instead of waiting their turn.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
