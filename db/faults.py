"""What a database error means for the person waiting: the database is gone, busy, or said no."""

import enum

from psycopg.errors import LockNotAvailable, QueryCanceled
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class Fault(enum.Enum):
    UNREACHABLE = "unreachable"  # connection refused, cut or lost: try again when it is back
    BUSY = "busy"  # a statement or lock timeout, or SQLite's write lock: try again now
    REFUSED = "refused"  # integrity, data or programming error: a bug, not worth retrying


def classify(exc: DBAPIError) -> Fault:
    if isinstance(exc.orig, QueryCanceled | LockNotAvailable) or "database is locked" in str(exc.orig):
        return Fault.BUSY
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return Fault.UNREACHABLE
    return Fault.REFUSED
