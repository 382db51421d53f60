"""Schema migrations (Alembic): bring any database to the newest schema without losing data.

The revisions live in ``qa_toolkit/store/migrations/versions``; :mod:`qa_toolkit.store.schema`
always describes the newest one (a test checks that they agree). A database made before
migrations existed (by ``create_all``, no ``alembic_version`` table) is taken to be at the
baseline revision ``0001`` and upgraded from there; every later revision is written so that it
is a no-op on tables that already have its change.

    qa-toolkit db upgrade --db postgresql+psycopg://qa@127.0.0.1/qa

Needs Alembic (``pip install qa-toolkit[postgres]``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from qa_toolkit.errors import ConfigError

__all__ = ["BASELINE", "current", "head", "stamp", "upgrade"]

BASELINE = "0001"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_PG_LOCK = 0x51A700  # advisory lock id: one migrator at a time on PostgreSQL


def _config(connection: Connection | None = None):
    try:
        from alembic.config import Config
    except ImportError:
        raise ConfigError("schema migrations need Alembic: pip install 'qa-toolkit[postgres]'") from None
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _engine(url_or_engine: str | Engine | None) -> Engine:
    if isinstance(url_or_engine, Engine):
        return url_or_engine
    from qa_toolkit.store.database import connect

    return connect(url_or_engine, create=False)


def head() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current(url_or_engine: str | Engine | None = None) -> str | None:
    """The revision a database is at (None: not under migrations, or empty)."""
    from alembic.migration import MigrationContext

    with _engine(url_or_engine).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url_or_engine: str | Engine | None = None, revision: str = "head") -> str:
    """Migrate a database to ``revision`` (default: the newest), keeping its data.

    An empty database gets every table; a database made by ``create_all`` before migrations
    existed is stamped at :data:`BASELINE` first. Safe to call from several processes at once
    on PostgreSQL (an advisory lock serializes them).

    Returns:
        The revision the database is at afterwards.
    """
    from alembic import command
    from alembic.migration import MigrationContext

    engine = _engine(url_or_engine)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        cfg = _config(conn)
        if MigrationContext.configure(conn).get_current_revision() is None and inspect(conn).has_table("calls"):
            command.stamp(cfg, BASELINE)
        command.upgrade(cfg, revision)
        return MigrationContext.configure(conn).get_current_revision()


def stamp(url_or_engine: str | Engine | None, revision: str) -> None:
    """Record that a database is at ``revision`` without running anything."""
    from alembic import command

    with _engine(url_or_engine).begin() as conn:
        command.stamp(_config(conn), revision)
