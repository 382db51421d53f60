"""The database tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are stored as naive UTC datetimes. A call's findings and score are keyed by the lexicon
hash that produced them, so a new lexicon version keeps the old results for comparison;
``calls.lexicon_hash`` points at the results of the latest scan.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

calls = Table(
    "calls",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("started_at", DateTime, index=True),
    Column("agent_id", String(64), index=True),
    Column("team", String(64), index=True),
    Column("phone", String(32), index=True),
    Column("audio", Text),
    Column("duration", Float),
    Column("source", Text),
    Column("asr", JSON),
    Column("extra", JSON),
    Column("transcript_hash", String(64), nullable=False),
    Column("lexicon_hash", String(64), index=True),
    Column("risk", Float, index=True),
    Column("critical", Boolean),
    Column("updated_at", DateTime, nullable=False),
)

segments = Table(
    "segments",
    metadata,
    Column("call_id", String(128), ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True),
    Column("idx", Integer, primary_key=True),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("original_text", Text),  # set when a reviewer corrected the text
    Column("avg_logprob", Float),
    Column("no_speech_prob", Float),
    Column("channel", Integer),
)

lexicons = Table(
    "lexicons",
    metadata,
    Column("lexicon_hash", String(64), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("name", String(128), nullable=False),
    Column("rules", Integer, nullable=False),
    Column("content", JSON, nullable=False),
    Column("loaded_at", DateTime, nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("finding_id", String(32), primary_key=True),
    Column("call_id", String(128), ForeignKey("calls.call_id", ondelete="CASCADE"), nullable=False),
    Column("lexicon_hash", String(64), nullable=False),
    Column("lexicon_version", String(64), nullable=False),
    Column("segment", Integer),
    Column("speaker", String(16)),
    Column("category", String(32), nullable=False),
    Column("rule_id", String(128), nullable=False),
    Column("rule_version", Integer, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("start_char", Integer),
    Column("end_char", Integer),
    Column("text", Text, nullable=False),
    Column("start", Float),
    Column("end", Float),
    Column("regulation", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("matcher", String(32), nullable=False),
    Column("pattern", Text, nullable=False),
    Column("context", JSON, nullable=False),
    Column("score", Float, nullable=False),
    Column("explanation", Text, nullable=False),
    Index("ix_findings_call_lexicon", "call_id", "lexicon_hash"),
    Index("ix_findings_rule", "rule_id"),
    Index("ix_findings_category", "category", "severity"),
)

scores = Table(
    "scores",
    metadata,
    Column("call_id", String(128), ForeignKey("calls.call_id", ondelete="CASCADE"), primary_key=True),
    Column("lexicon_hash", String(64), primary_key=True),
    Column("risk", Float, nullable=False),
    Column("critical", Boolean, nullable=False),
    Column("counts", JSON, nullable=False),
    Column("policy", String(128), nullable=False),
    Column("toolkit_version", String(32), nullable=False),
    Column("run_id", String(64)),
    Column("scanned_at", DateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),  # scan | run
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("status", String(16), nullable=False),  # running | done | failed | interrupted
    Column("args", JSON, nullable=False),
    Column("calls_done", Integer, nullable=False, default=0),
    Column("calls_skipped", Integer, nullable=False, default=0),
    Column("calls_failed", Integer, nullable=False, default=0),
)

run_items = Table(
    "run_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), ForeignKey("runs.run_id", ondelete="CASCADE"), nullable=False),
    Column("item", Text, nullable=False),  # file path or call id
    Column("call_id", String(128)),
    Column("status", String(16), nullable=False),  # done | skipped | failed
    Column("error", Text),
    Column("at", DateTime, nullable=False),
    Index("ix_run_items_run", "run_id"),
    Index("ix_run_items_call", "call_id"),  # which runs touched a call (migration 0002)
)

# --- written by reviewers through the dashboard (every change also goes to audit_log) ---

reviews = Table(
    "reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", String(32), nullable=False, index=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("reviewer", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),  # confirmed | false_alarm | discuss
    Column("note", Text, nullable=False, default=""),
    Column("revision", Integer, nullable=False),  # 1, 2, ... per finding: optimistic locking
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("finding_id", "revision", name="uq_reviews_finding_revision"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False, index=True),
    Column("user", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("details", JSON, nullable=False),
)

samples = Table(
    "samples",
    metadata,
    Column("sample_id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("params", JSON, nullable=False),
)

sample_calls = Table(
    "sample_calls",
    metadata,
    Column("sample_id", String(64), ForeignKey("samples.sample_id", ondelete="CASCADE"), primary_key=True),
    Column("call_id", String(128), primary_key=True),
    Column("stratum", Text, nullable=False),
    Column("flagged", Boolean, nullable=False),
)

training_examples = Table(
    "training_examples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("finding_id", String(32), nullable=False, unique=True),
    Column("call_id", String(128), nullable=False),
    Column("category", String(32), nullable=False),
    Column("kind", String(8), nullable=False),  # bad | good
    Column("added_by", String(64), nullable=False),
    Column("added_at", DateTime, nullable=False),
    Column("note", Text, nullable=False, default=""),
    # added for the dashboard: the trainer's compliant rewrite, and a copy of the finding, its
    # segment text and the audio path at the time it was added (a later re-scan may replace the
    # finding row; the example must stay readable)
    Column("rewrite", Text, nullable=False, default=""),
    Column("snapshot", JSON),
)

# --- added for the dashboard ---

call_reviews = Table(
    "call_reviews",
    metadata,
    # A reviewer's verdict on a whole call (the audit sample needs one for unflagged calls, where
    # there is no finding to review). Append-only like ``reviews``: revision 1, 2, ... per call.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("reviewer", String(64), nullable=False),
    Column("verdict", String(16), nullable=False),  # violation | clean | discuss
    Column("categories", JSON, nullable=False),  # categories the reviewer found (missed ones included)
    Column("note", Text, nullable=False, default=""),
    Column("revision", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("call_id", "revision", name="uq_call_reviews_call_revision"),
)

# Covering index for the dashboard: per-call filters and counts by category, severity and rule
# of the current scan read it without touching the findings rows.
Index(
    "ix_findings_dash",
    findings.c.call_id,
    findings.c.lexicon_hash,
    findings.c.category,
    findings.c.severity,
    findings.c.rule_id,
)
