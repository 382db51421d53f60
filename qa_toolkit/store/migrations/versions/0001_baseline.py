"""Baseline: the schema as of the first release (what ``create_all`` made before migrations).

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25

Frozen: later schema changes go in new revisions, never here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('call_reviews',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id', 'revision', name='uq_call_reviews_call_revision')
    )
    with op.batch_alter_table('call_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_reviews_call_id'), ['call_id'], unique=False)

    op.create_table('calls',
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('agent_id', sa.String(length=64), nullable=True),
    sa.Column('team', sa.String(length=64), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('audio', sa.Text(), nullable=True),
    sa.Column('duration', sa.Float(), nullable=True),
    sa.Column('source', sa.Text(), nullable=True),
    sa.Column('asr', sa.JSON(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.Column('transcript_hash', sa.String(length=64), nullable=False),
    sa.Column('lexicon_hash', sa.String(length=64), nullable=True),
    sa.Column('risk', sa.Float(), nullable=True),
    sa.Column('critical', sa.Boolean(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('call_id')
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_lexicon_hash'), ['lexicon_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_risk'), ['risk'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_team'), ['team'], unique=False)

    op.create_table('lexicons',
    sa.Column('lexicon_hash', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('rules', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('lexicon_hash')
    )
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('finding_id', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('finding_id', 'revision', name='uq_reviews_finding_revision')
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_finding_id'), ['finding_id'], unique=False)

    op.create_table('runs',
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('calls_done', sa.Integer(), nullable=False),
    sa.Column('calls_skipped', sa.Integer(), nullable=False),
    sa.Column('calls_failed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_table('samples',
    sa.Column('sample_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('sample_id')
    )
    op.create_table('training_examples',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('finding_id', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('rewrite', sa.Text(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('finding_id')
    )
    op.create_table('findings',
    sa.Column('finding_id', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('lexicon_hash', sa.String(length=64), nullable=False),
    sa.Column('lexicon_version', sa.String(length=64), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=True),
    sa.Column('speaker', sa.String(length=16), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('rule_id', sa.String(length=128), nullable=False),
    sa.Column('rule_version', sa.Integer(), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('start_char', sa.Integer(), nullable=True),
    sa.Column('end_char', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('start', sa.Float(), nullable=True),
    sa.Column('end', sa.Float(), nullable=True),
    sa.Column('regulation', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('matcher', sa.String(length=32), nullable=False),
    sa.Column('pattern', sa.Text(), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('finding_id')
    )
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.create_index('ix_findings_call_lexicon', ['call_id', 'lexicon_hash'], unique=False)
        batch_op.create_index('ix_findings_category', ['category', 'severity'], unique=False)
        batch_op.create_index('ix_findings_dash', ['call_id', 'lexicon_hash', 'category', 'severity', 'rule_id'], unique=False)
        batch_op.create_index('ix_findings_rule', ['rule_id'], unique=False)

    op.create_table('run_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('item', sa.Text(), nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['runs.run_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('run_items', schema=None) as batch_op:
        batch_op.create_index('ix_run_items_run', ['run_id'], unique=False)

    op.create_table('sample_calls',
    sa.Column('sample_id', sa.String(length=64), nullable=False),
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('stratum', sa.Text(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['sample_id'], ['samples.sample_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('sample_id', 'call_id')
    )
    op.create_table('scores',
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('lexicon_hash', sa.String(length=64), nullable=False),
    sa.Column('risk', sa.Float(), nullable=False),
    sa.Column('critical', sa.Boolean(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('policy', sa.String(length=128), nullable=False),
    sa.Column('toolkit_version', sa.String(length=32), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('scanned_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'lexicon_hash')
    )
    op.create_table('segments',
    sa.Column('call_id', sa.String(length=128), nullable=False),
    sa.Column('idx', sa.Integer(), nullable=False),
    sa.Column('start', sa.Float(), nullable=False),
    sa.Column('end', sa.Float(), nullable=False),
    sa.Column('speaker', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('original_text', sa.Text(), nullable=True),
    sa.Column('avg_logprob', sa.Float(), nullable=True),
    sa.Column('no_speech_prob', sa.Float(), nullable=True),
    sa.Column('channel', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['call_id'], ['calls.call_id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('call_id', 'idx')
    )


def downgrade() -> None:
    op.drop_table('segments')
    op.drop_table('scores')
    op.drop_table('sample_calls')
    with op.batch_alter_table('run_items', schema=None) as batch_op:
        batch_op.drop_index('ix_run_items_run')

    op.drop_table('run_items')
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_rule')
        batch_op.drop_index('ix_findings_dash')
        batch_op.drop_index('ix_findings_category')
        batch_op.drop_index('ix_findings_call_lexicon')

    op.drop_table('findings')
    op.drop_table('training_examples')
    op.drop_table('samples')
    op.drop_table('runs')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_finding_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_call_id'))

    op.drop_table('reviews')
    op.drop_table('lexicons')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_team'))
        batch_op.drop_index(batch_op.f('ix_calls_started_at'))
        batch_op.drop_index(batch_op.f('ix_calls_risk'))
        batch_op.drop_index(batch_op.f('ix_calls_phone'))
        batch_op.drop_index(batch_op.f('ix_calls_lexicon_hash'))
        batch_op.drop_index(batch_op.f('ix_calls_agent_id'))

    op.drop_table('calls')
    with op.batch_alter_table('call_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_reviews_call_id'))

    op.drop_table('call_reviews')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
