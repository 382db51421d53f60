"""Alembic environment: runs on the connection :mod:`qa_toolkit.store.migrate` hands over.

With the ``alembic`` command line instead, set ``sqlalchemy.url`` (``-x url=...`` or an ini file).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from qa_toolkit.store.schema import metadata

config = context.config


def _configure(**kwargs) -> None:
    # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
    context.configure(target_metadata=metadata, render_as_batch=True, compare_type=True, **kwargs)


def run_offline() -> None:
    """``alembic upgrade --sql``: print the SQL instead of running it."""
    _configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).begin() as conn:
        _configure(connection=conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
