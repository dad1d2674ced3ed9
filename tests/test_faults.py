"""db.faults.classify tells the user's three cases apart, from real database errors."""

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from db.faults import Fault, classify


def _run(engine: Engine, statements: tuple[str, ...]) -> None:
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _error(engine: Engine, *statements: str) -> DBAPIError:
    with pytest.raises(DBAPIError) as caught:
        _run(engine, statements)
    return caught.value


def test_postgresql_faults(pg_engine: Engine) -> None:
    timeout = _error(pg_engine, "SET statement_timeout = 50", "SELECT pg_sleep(1)")
    assert classify(timeout) is Fault.BUSY
    refused = _error(pg_engine, "INSERT INTO accounts (code, name, type) VALUES ('1000', 'Again', 'asset')")
    assert classify(refused) is Fault.REFUSED
    gone = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/x", connect_args={"connect_timeout": 1})
    assert classify(_error(gone, "SELECT 1")) is Fault.UNREACHABLE


def test_sqlite_write_lock_is_busy(sqlite_engine: Engine) -> None:
    other = create_engine(sqlite_engine.url, connect_args={"timeout": 0})
    with sqlite_engine.connect() as holder:
        holder.execute(text("UPDATE accounts SET name = name WHERE code = '1000'"))
        assert classify(_error(other, "BEGIN IMMEDIATE")) is Fault.BUSY
        holder.rollback()
    other.dispose()
