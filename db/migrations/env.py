"""Alembic environment: uses the connection handed over by db.migrate, or DATABASE_URL."""

import os

from alembic import context
from sqlalchemy import Connection

import db.models  # noqa: F401  (registers the tables on Base.metadata)
from db.base import Base
from db.session import make_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    with make_engine(os.environ.get("DATABASE_URL")).begin() as conn:
        _run(conn)
