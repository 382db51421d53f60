"""Opening the database: embedded SQLite by default (WAL), any SQLAlchemy URL otherwise.

Writers that must survive a database that is away for a while (locked by another writer,
restarting, failing over) go through :func:`retrying`: transient errors are retried with
exponential backoff and logged, anything else is raised at once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

from qa_toolkit.errors import StoreError
from qa_toolkit.store.schema import metadata

DEFAULT_URL = "sqlite:///qa_toolkit.db"
SQLITE_BUSY_TIMEOUT_MS = 30000  # how long SQLite waits for another writer's lock before "database is locked"
RETRY_SECONDS = float(os.environ.get("QA_TOOLKIT_DB_RETRY_SECONDS", "300"))  # give up after this long
RETRY_FIRST_DELAY = 0.25  # then doubled, at most RETRY_MAX_DELAY
RETRY_MAX_DELAY = 15.0

log = logging.getLogger("qa_toolkit.store")
T = TypeVar("T")


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``$QA_TOOLKIT_DB``, else ``./qa_toolkit.db``."""
    return url or os.environ.get("QA_TOOLKIT_DB") or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
    cursor.close()


def connect(url: str | None = None, *, create: bool = True, migrate: bool = False) -> Engine:
    """Open the database at ``url`` and bring its tables up to date.

    Args:
        url: A SQLAlchemy URL (``sqlite:///qa.db``, ``postgresql+psycopg://user@host/db``).
        create: Create the tables that do not exist yet (``metadata.create_all``).
        migrate: Run the Alembic migrations to the newest revision instead of ``create_all``
            (keeps existing data; needs ``pip install qa-toolkit[postgres]`` for Alembic).

    Raises:
        StoreError: The database cannot be opened, migrated or its tables created.
    """
    url = database_url(url)
    try:
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if migrate:
            from qa_toolkit.store.migrate import upgrade

            upgrade(engine)
        elif create:
            retrying(lambda: metadata.create_all(engine), "create the tables")
    except (SQLAlchemyError, ImportError) as err:
        raise StoreError(f"cannot open database: {err.__class__.__name__}: {err}".splitlines()[0], path=url) from err
    return engine


def is_transient(err: BaseException) -> bool:
    """True for errors that a later attempt may not meet: a lock, a lost or refused connection."""
    if isinstance(err, OperationalError):
        return True
    return isinstance(err, DBAPIError) and bool(err.connection_invalidated)


def retrying(fn: Callable[[], T], what: str, *, seconds: float | None = None) -> T:
    """Run ``fn`` (one whole transaction) again while the database is transiently unavailable.

    Args:
        fn: Opens, writes and commits one transaction; must be safe to run again after a failure.
        what: What it does, for the log (``store call S01``).
        seconds: Give up after this long (default ``RETRY_SECONDS``, ``$QA_TOOLKIT_DB_RETRY_SECONDS``).

    Raises:
        SQLAlchemyError: A non-transient error, or a transient one that outlasted ``seconds``.
    """
    budget = RETRY_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    delay = RETRY_FIRST_DELAY
    attempt = 0
    while True:
        try:
            result = fn()
        except SQLAlchemyError as err:
            attempt += 1
            if not is_transient(err) or time.monotonic() + delay > deadline:
                raise
            reason = " ".join(str(err.orig if getattr(err, "orig", None) else err).split())[:120]
            log.warning("database unavailable (%s: %s); retry %d of '%s' in %.2f s",
                        err.__class__.__name__, reason, attempt, what, delay)
            time.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY)
            continue
        if attempt:
            log.warning("database back after %d retries: %s", attempt, what)
        return result
