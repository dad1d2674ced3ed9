"""Databases for the tests.

PostgreSQL (127.0.0.1:5432 unless PURCHASE_BOT_TEST_PG says otherwise) is migrated once per run
into a template database. Most tests get a session factory joined to an outer transaction that
is rolled back (`join_transaction_mode="create_savepoint"`); tests that need real commits (the
deferred balance trigger, concurrency, end to end) get a database of their own, cloned from the
template. With CI=true a missing PostgreSQL fails those tests instead of skipping them.

The Slack tests share one `bot` fixture: the real Bolt app behind a real HTTP server, wired to a
fake Slack Web API, on a committing database (`bot_engine`, PostgreSQL unless a module overrides
it) and the test's `clock`. A test or module changes the bot's settings with
`@pytest.mark.bot_settings(name=value, ...)` (module-wide through `pytestmark`); a marker nearer
the test wins, name by name. `fake_slack` is a fake Slack Web API on its own, for tests that
wire the app themselves.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from db.accounts import seed_default_chart
from db.migrate import upgrade
from db.session import make_engine, make_session_factory
from tests.clock import SetClock
from tests.slack.fake_api import FakeSlackApi

if TYPE_CHECKING:  # imported when used, so that only the Slack tests load the app
    from tests.slack.harness import Bot

PG_ADMIN = os.environ.get("PURCHASE_BOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bot_settings(**overrides): settings for the `bot` fixture's app, as for "
        'tests.slack.harness.bot_settings (e.g. approvers="U201 U202")',
    )


def _admin_dsn() -> str:
    return make_url(PG_ADMIN).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(database: str) -> URL:
    return make_url(PG_ADMIN).set(drivername="postgresql+psycopg", database=database)


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_dsn(), autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _drop(database: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _cloned_engine(prefix: str, template: str) -> Iterator[Engine]:
    """An engine on a new copy of `template`, dropped when the generator ends."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = make_engine(_pg_url(name))
    yield engine
    engine.dispose()
    _drop(name)


def migrate_and_seed(engine: Engine) -> None:
    upgrade(engine)
    with make_session_factory(engine).begin() as session:
        seed_default_chart(session)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A migrated, seeded PostgreSQL database to clone; its name."""
    try:
        _admin("SELECT 1")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"pb_tmpl_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(_pg_url(name))
    migrate_and_seed(engine)
    engine.dispose()
    yield name
    _drop(name)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[URL]:
    """A database of this test's own, for tests that commit."""
    name = f"pb_test_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    yield _pg_url(name)
    _drop(name)


@pytest.fixture
def pg_engine(pg_url: URL) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=25, max_overflow=5)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> URL:
    url = make_url(f"sqlite:///{tmp_path / 'ledger.sqlite3'}")
    engine = make_engine(url)
    migrate_and_seed(engine)
    engine.dispose()
    return url


@pytest.fixture
def sqlite_engine(sqlite_url: URL) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """A committing engine on each database in turn."""
    fixture = "pg_engine" if request.param == "postgresql" else "sqlite_engine"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def pg_shared_engine(pg_template: str) -> Iterator[Engine]:
    """One migrated database for the whole run, used only through rolled-back transactions."""
    yield from _cloned_engine("pb_shared", pg_template)


@pytest.fixture(params=["postgresql", "sqlite"])
def factory(request: pytest.FixtureRequest) -> Iterator[sessionmaker[Session]]:
    """A session factory whose every `begin()` is a savepoint in a transaction rolled back after the test."""
    engine: Engine = request.getfixturevalue(
        "pg_shared_engine" if request.param == "postgresql" else "sqlite_engine"
    )
    with engine.connect() as connection:
        outer = connection.begin()
        yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        outer.rollback()


@pytest.fixture
def pg_empty_url(pg_template: str) -> Iterator[URL]:
    """An empty PostgreSQL database (no schema, no accounts) of this test's own."""
    name = f"pb_empty_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _drop(name)


@pytest.fixture(scope="module")
def pg_module_engine(pg_template: str) -> Iterator[Engine]:
    """A committing PostgreSQL database shared by one test module (for tests whose writes are refused)."""
    yield from _cloned_engine("pb_mod", pg_template)


@pytest.fixture(scope="module")
def sqlite_module_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A committing, migrated and seeded SQLite database shared by one test module."""
    engine = make_engine(make_url(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.sqlite3'}"))
    migrate_and_seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> SetClock:
    """The books' clock at noon UTC on BOOKS_DAY, running on from there; `clock.set(...)` moves it."""
    return SetClock()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlackApi]:
    """A fake Slack Web API, started; it records every call made to it."""
    api = FakeSlackApi().start()
    yield api
    api.stop()


@pytest.fixture
def bot_engine(pg_engine: Engine) -> Engine:
    """The database the `bot` fixture runs on; a module overrides this fixture to change it."""
    return pg_engine


@pytest.fixture
def bot(request: pytest.FixtureRequest, bot_engine: Engine, clock: SetClock) -> Iterator["Bot"]:
    """The bot, serving HTTP, with the settings of any `bot_settings` markers (the nearest wins)."""
    from tests.slack.harness import running_bot

    overrides: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers("bot_settings"))):
        overrides.update(marker.kwargs)
    with running_bot(bot_engine, clock=clock, **overrides) as running:
        yield running
