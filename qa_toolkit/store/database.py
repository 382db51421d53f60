"""Opening the database: embedded SQLite by default (WAL), any SQLAlchemy URL otherwise."""

from __future__ import annotations

import os

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from qa_toolkit.errors import StoreError
from qa_toolkit.store.schema import metadata

DEFAULT_URL = "sqlite:///qa_toolkit.db"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``$QA_TOOLKIT_DB``, else ``./qa_toolkit.db``."""
    return url or os.environ.get("QA_TOOLKIT_DB") or DEFAULT_URL


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def connect(url: str | None = None, *, create: bool = True) -> Engine:
    """Open the database at ``url`` and create missing tables.

    Args:
        url: A SQLAlchemy URL (``sqlite:///qa.db``, ``postgresql+psycopg://user@host/db``).
        create: Create the tables that do not exist yet.

    Raises:
        StoreError: The database cannot be opened or its tables created.
    """
    url = database_url(url)
    try:
        engine = create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if create:
            metadata.create_all(engine)
    except (SQLAlchemyError, ImportError) as err:
        raise StoreError(f"cannot open database: {err.__class__.__name__}: {err}".splitlines()[0], path=url) from err
    return engine
