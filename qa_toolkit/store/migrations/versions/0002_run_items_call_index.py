"""Index ``run_items.call_id``: which runs touched a call (fault reports, audit of re-runs).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Idempotent: a database made by ``create_all`` after this change already has the index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_run_items_call"


def _has_index() -> bool:
    return any(ix["name"] == INDEX for ix in sa.inspect(op.get_bind()).get_indexes("run_items"))


def upgrade() -> None:
    if not _has_index():
        op.create_index(INDEX, "run_items", ["call_id"], unique=False)


def downgrade() -> None:
    if _has_index():
        op.drop_index(INDEX, table_name="run_items")
