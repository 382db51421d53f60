"""The database: tables, connection, writes of the pipeline, queries for the dashboard."""

from qa_toolkit.store.database import DEFAULT_URL, connect, database_url

__all__ = ["DEFAULT_URL", "connect", "database_url"]
