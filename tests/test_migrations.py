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


def _down_to_0005_keeps_the_bill_rules(engine: Engine) -> None:
    """0006's downgrade puts back the header guard 0005 left (not 0004's), and 0005's bill rules
    stay in force; upgrading again links the bill and its payment, and the books verify."""
    from db.payments import PaymentRequest, pay
    from db.posting import Origin
    from tests.clock import SetClock

    migrate_and_seed(engine)
    factory = make_session_factory(engine)
    bill = post(factory, make_purchase(payment_account="2000", vendor="Dell")).id
    with factory.begin() as session:
        pay(session, PaymentRequest(bill, "1010", "1.00"), Origin(user="U1"), clock=SetClock())
    downgrade(engine, "0005")
    assert "chain_links" not in tables(engine)
    assert "base_currency" not in {c["name"] for c in inspect(engine).get_columns("transaction_headers")}
    for statement in (
        f"UPDATE transaction_headers SET due_date = '2027-01-01' WHERE id = {bill}",
        f"UPDATE transaction_headers SET status = 'voided' WHERE id = {bill}",
        f"UPDATE transaction_headers SET description = 'edited' WHERE id = {bill}",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="kept by its payments"), engine.begin() as conn:
            conn.execute(text(f"UPDATE transaction_headers SET paid = 0 WHERE id = {bill}"))
        with engine.connect() as conn:
            guard = conn.scalar(text("SELECT pg_get_functiondef('ledger_guard_header'::regproc)"))
        assert "source_link" in guard
        assert "base_currency" not in guard
    upgrade(engine)
    with factory.begin() as session:
        assert verify(session) == []


def test_0006_down_to_0005_and_up_again_on_postgresql(pg_empty_url: URL) -> None:
    engine = make_engine(pg_empty_url)
    try:
        _down_to_0005_keeps_the_bill_rules(engine)
    finally:
        engine.dispose()


def test_0006_down_to_0005_and_up_again_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(make_url(f"sqlite:///{tmp_path / 'fresh.sqlite3'}"))
    try:
        _down_to_0005_keeps_the_bill_rules(engine)
    finally:
        engine.dispose()
