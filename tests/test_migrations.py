"""Migrations: up, down and up again on fresh databases; and the models match what they create."""

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

import db.models  # noqa: F401  (registers every table)
from db.base import Base
from db.migrate import alembic_config, is_current, upgrade
from db.reports import verify
from db.session import make_engine, make_session_factory
from tests.conftest import migrate_and_seed
from tests.helpers import make_purchase, post

LEDGER_TABLES = {"accounts", "transaction_headers", "transaction_details", "journal_entries"}


def downgrade(engine: Engine, revision: str = "base") -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def leftovers(engine: Engine) -> dict[str, Any]:
    """Anything of ours still in the database besides alembic's own table."""
    found: dict[str, Any] = {"tables": tables(engine)}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found["functions"] = set(
                conn.scalars(
                    text(
                        "SELECT proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE n.nspname = 'public'"
                    )
                )
            )
            found["triggers"] = set(
                conn.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
            )
        else:
            found["triggers"] = set(
                conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            )
    return found


def empty(engine: Engine) -> dict[str, Any]:
    return {k: set() for k in leftovers(engine)}


def _round_trip(engine: Engine) -> None:
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    assert tables(engine) >= LEDGER_TABLES
    assert leftovers(engine)["triggers"]

    downgrade(engine)
    assert leftovers(engine) == empty(engine)
    assert not is_current(engine)

    migrate_and_seed(engine)
    assert is_current(engine)
    factory = make_session_factory(engine)
    post(factory, make_purchase())
    with factory.begin() as session:
        assert verify(session) == []


def test_upgrade_downgrade_upgrade_on_postgresql(pg_empty_url: URL) -> None:
    engine = make_engine(pg_empty_url)
    try:
        _round_trip(engine)
        # The triggers are back after the second upgrade.
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM journal_entries"))
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'fresh.sqlite3'}"))
    try:
        _round_trip(engine)
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("DELETE FROM journal_entries"))
    finally:
        engine.dispose()


def _diffs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        diffs: list[Any] = compare_metadata(context, Base.metadata)
        return diffs


def test_models_match_migrations_on_postgresql(pg_empty_url: URL) -> None:
    engine = make_engine(pg_empty_url)
    try:
        upgrade(engine)
        assert _diffs(engine) == []
    finally:
        engine.dispose()


def test_models_match_migrations_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'fresh.sqlite3'}"))
    try:
        upgrade(engine)
        assert _diffs(engine) == []
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(sqlite_engine: Engine) -> None:
    upgrade(sqlite_engine)
    upgrade(sqlite_engine)
    assert is_current(sqlite_engine)
