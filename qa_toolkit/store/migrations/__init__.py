"""Alembic environment and revisions of the store schema (see :mod:`qa_toolkit.store.migrate`)."""
