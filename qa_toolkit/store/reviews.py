"""What reviewers write through the dashboard, each action recorded in the audit log.

Verdicts are append-only: every change to a finding's verdict or note inserts a new row in
``reviews`` with the next ``revision``. A writer states the revision it saw; when someone else
wrote in between, :class:`ReviewConflict` is raised instead of overwriting (optimistic locking;
the unique ``(finding_id, revision)`` constraint settles a race the check did not see).

Nothing here changes what the pipeline stored except :func:`correct_segment`, which keeps the
original text beside the correction and re-scans the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from qa_toolkit.errors import ConfigError, StoreError
from qa_toolkit.store import repository
from qa_toolkit.store.repository import utcnow
from qa_toolkit.store.schema import (
    audit_log,
    call_reviews,
    calls,
    findings,
    reviews,
    sample_calls,
    samples,
    segments,
    training_examples,
)
from qa_toolkit.types import CallReport, Transcript

__all__ = [
    "CALL_VERDICTS",
    "VERDICTS",
    "ReviewConflict",
    "add_training_example",
    "correct_segment",
    "count_revisions",
    "log_action",
    "log_export",
    "remove_training_example",
    "save_sample",
    "set_call_verdict",
    "set_rewrite",
    "set_verdict",
]

VERDICTS = ("confirmed", "false_alarm", "discuss")
CALL_VERDICTS = ("violation", "clean", "discuss")


class ReviewConflict(StoreError):
    """Someone else changed the record since the reviewer loaded it; reload and decide again."""

    code = "E610"

    def __init__(self, message: str, *, current: dict[str, Any] | None = None):
        self.current = current or {}
        super().__init__(message)


def log_action(conn: Connection, user: str, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Append one line to the audit log inside the caller's transaction."""
    conn.execute(
        insert(audit_log).values(at=utcnow(), user=user, action=action, target=target, details=details or {})
    )


def _check_choice(value: str, valid: tuple[str, ...], what: str) -> None:
    if value not in valid:
        raise ConfigError(f"unknown {what} {value!r}; choose one of: {', '.join(valid)}")


def _write(engine: Engine, fn: Callable[[Connection], Any], what: str) -> Any:
    try:
        with engine.begin() as conn:
            return fn(conn)
    except ReviewConflict:
        raise
    except SQLAlchemyError as err:
        raise StoreError(f"cannot {what}: {err.__class__.__name__}: {err}".splitlines()[0]) from err


def set_verdict(
    engine: Engine,
    finding_id: str,
    *,
    verdict: str,
    note: str = "",
    user: str,
    expected_revision: int,
) -> int:
    """Record a reviewer's verdict (and note) on one finding.

    Args:
        finding_id: The finding.
        verdict: ``confirmed``, ``false_alarm`` or ``discuss``.
        note: Free text, stored and shown as text.
        user: Who decides.
        expected_revision: The revision the reviewer saw (0 when the finding had no verdict).

    Returns:
        The new revision.

    Raises:
        ReviewConflict: Another verdict was stored since ``expected_revision``.
        StoreError: The finding does not exist or the database refused the write.
    """
    _check_choice(verdict, VERDICTS, "verdict")

    def run(conn: Connection) -> int:
        call_id = conn.execute(select(findings.c.call_id).where(findings.c.finding_id == finding_id)).scalar()
        if call_id is None:
            raise StoreError(f"no finding {finding_id!r}")
        latest = conn.execute(
            select(reviews).where(reviews.c.finding_id == finding_id).order_by(reviews.c.revision.desc()).limit(1)
        ).mappings().first()
        current = latest["revision"] if latest else 0
        if current != expected_revision:
            raise ReviewConflict(
                f"finding {finding_id} was reviewed by {latest['reviewer']} ({latest['verdict']}) "
                f"since you loaded it (revision {current}, you saw {expected_revision}); reload and decide again",
                current=dict(latest),
            )
        revision = current + 1
        conn.execute(
            insert(reviews).values(
                finding_id=finding_id, call_id=call_id, reviewer=user, verdict=verdict,
                note=note, revision=revision, created_at=utcnow(),
            )
        )
        action = "verdict"
        if latest is not None and latest["verdict"] == verdict and latest["note"] != note:
            action = "note"
        details = {"call_id": call_id, "verdict": verdict, "note": note, "revision": revision}
        if latest is not None:
            details["previous"] = {"verdict": latest["verdict"], "note": latest["note"], "by": latest["reviewer"]}
        log_action(conn, user, action, f"finding:{finding_id}", details)
        return revision

    try:
        return _write(engine, run, f"store verdict on {finding_id}")
    except StoreError as err:
        if isinstance(err.__cause__, IntegrityError):
            raise ReviewConflict(f"finding {finding_id} was reviewed by someone else at the same moment; reload") from err
        raise


def set_call_verdict(
    engine: Engine,
    call_id: str,
    *,
    verdict: str,
    categories: list[str] | tuple[str, ...] = (),
    note: str = "",
    user: str,
    expected_revision: int,
) -> int:
    """Record a verdict on a whole call (does it hold a violation, flagged or not?).

    Same optimistic locking as :func:`set_verdict`; returns the new revision.
    """
    _check_choice(verdict, CALL_VERDICTS, "call verdict")

    def run(conn: Connection) -> int:
        if conn.execute(select(calls.c.call_id).where(calls.c.call_id == call_id)).first() is None:
            raise StoreError(f"no call {call_id!r}")
        latest = conn.execute(
            select(call_reviews).where(call_reviews.c.call_id == call_id)
            .order_by(call_reviews.c.revision.desc()).limit(1)
        ).mappings().first()
        current = latest["revision"] if latest else 0
        if current != expected_revision:
            raise ReviewConflict(
                f"call {call_id} was judged by {latest['reviewer']} ({latest['verdict']}) since you loaded it; "
                "reload and decide again",
                current=dict(latest),
            )
        revision = current + 1
        conn.execute(
            insert(call_reviews).values(
                call_id=call_id, reviewer=user, verdict=verdict, categories=list(categories),
                note=note, revision=revision, created_at=utcnow(),
            )
        )
        log_action(conn, user, "call_verdict", f"call:{call_id}",
                   {"verdict": verdict, "categories": list(categories), "note": note, "revision": revision})
        return revision

    try:
        return _write(engine, run, f"store verdict on call {call_id}")
    except StoreError as err:
        if isinstance(err.__cause__, IntegrityError):
            raise ReviewConflict(f"call {call_id} was judged by someone else at the same moment; reload") from err
        raise


def correct_segment(
    engine: Engine,
    call_id: str,
    idx: int,
    *,
    text: str,
    expected_text: str,
    user: str,
    rescan: Callable[[Transcript], CallReport],
) -> CallReport:
    """Replace one segment's text, keep the original beside it, and re-scan the call.

    Everything happens in one transaction: the correction, the new findings and score, and the
    audit-log line. Findings of the corrected segment may get new ids (their offsets moved);
    verdicts on the old ids stay in ``reviews``.

    Args:
        idx: 0-based segment index.
        text: The corrected text.
        expected_text: The text the reviewer saw; a different stored text means someone else
            corrected it first (:class:`ReviewConflict`).
        rescan: ``transcript -> CallReport``, usually ``scan_transcript(t, lexicon)``.
    """

    text = text.strip()
    if not text:
        raise ConfigError("a corrected segment cannot be empty")

    def run(conn: Connection) -> CallReport:
        rows = conn.execute(
            select(segments.c.idx, segments.c.text, segments.c.original_text).where(segments.c.call_id == call_id)
        ).all()
        originals = {r.idx: r.original_text for r in rows if r.original_text is not None}
        current = {r.idx: r.text for r in rows}
        if idx not in current:
            raise StoreError(f"call {call_id!r} has no segment {idx}")
        if current[idx] != expected_text:
            raise ReviewConflict(
                f"segment {idx} of call {call_id} was changed since you loaded it; reload and correct again",
                current={"text": current[idx]},
            )
        if text == current[idx]:
            return rescan(repository.load_transcript(conn, call_id))
        transcript = repository.load_transcript(conn, call_id)
        segs = list(transcript.segments)
        import dataclasses

        segs[idx] = dataclasses.replace(segs[idx], text=text)
        report = rescan(transcript.replace(segments=tuple(segs)))
        repository.write_report(conn, report, None)
        originals.setdefault(idx, current[idx])
        for i, original in originals.items():
            conn.execute(
                update(segments).where((segments.c.call_id == call_id) & (segments.c.idx == i))
                .values(original_text=original)
            )
        log_action(conn, user, "correction", f"call:{call_id}#{idx}", {
            "segment": idx, "before": current[idx], "after": text, "original": originals[idx],
            "lexicon_hash": report.lexicon_hash, "findings": len(report.findings), "risk": report.score.risk,
        })
        return report

    return _write(engine, run, f"correct segment {idx} of call {call_id}")


def add_training_example(
    engine: Engine,
    finding_id: str,
    *,
    user: str,
    kind: str = "bad",
    note: str = "",
    rewrite: str = "",
) -> int:
    """Add a finding to the training library (once per finding); returns the example id.

    The finding, its segment text and the audio path are copied into ``snapshot`` so the
    example stays readable after a re-scan.
    """
    _check_choice(kind, ("bad", "good"), "example kind")

    def run(conn: Connection) -> int:
        f = conn.execute(select(findings).where(findings.c.finding_id == finding_id)).mappings().first()
        if f is None:
            raise StoreError(f"no finding {finding_id!r}")
        existing = conn.execute(
            select(training_examples.c.id).where(training_examples.c.finding_id == finding_id)
        ).scalar()
        if existing is not None:
            return existing
        seg_text = None
        if f["segment"] is not None:
            seg_text = conn.execute(
                select(segments.c.text).where((segments.c.call_id == f["call_id"]) & (segments.c.idx == f["segment"]))
            ).scalar()
        audio = conn.execute(select(calls.c.audio).where(calls.c.call_id == f["call_id"])).scalar()
        snapshot = {k: f[k] for k in (
            "call_id", "segment", "speaker", "category", "rule_id", "rule_version", "severity", "start_char",
            "end_char", "text", "start", "end", "regulation", "description", "explanation", "lexicon_version",
        )}
        snapshot.update(segment_text=seg_text, audio=audio)
        result = conn.execute(
            insert(training_examples).values(
                finding_id=finding_id, call_id=f["call_id"], category=f["category"], kind=kind,
                added_by=user, added_at=utcnow(), note=note, rewrite=rewrite, snapshot=snapshot,
            )
        )
        new_id = result.inserted_primary_key[0]
        log_action(conn, user, "training_add", f"finding:{finding_id}",
                   {"example": new_id, "kind": kind, "category": f["category"], "note": note})
        return new_id

    return _write(engine, run, f"add {finding_id} to the training library")


def set_rewrite(engine: Engine, example_id: int, *, rewrite: str, note: str | None = None, user: str) -> None:
    """Store the compliant rewrite (and optionally the note) of a training example."""

    def run(conn: Connection) -> None:
        row = conn.execute(select(training_examples).where(training_examples.c.id == example_id)).mappings().first()
        if row is None:
            raise StoreError(f"no training example {example_id}")
        values: dict[str, Any] = {"rewrite": rewrite}
        if note is not None:
            values["note"] = note
        conn.execute(update(training_examples).where(training_examples.c.id == example_id).values(**values))
        log_action(conn, user, "training_edit", f"example:{example_id}",
                   {"before": {"rewrite": row["rewrite"], "note": row["note"]}, "after": values})

    _write(engine, run, f"edit training example {example_id}")


def remove_training_example(engine: Engine, example_id: int, *, user: str) -> None:
    """Remove an example from the training library (the audit log keeps what it was)."""
    from sqlalchemy import delete

    def run(conn: Connection) -> None:
        row = conn.execute(select(training_examples).where(training_examples.c.id == example_id)).mappings().first()
        if row is None:
            return
        conn.execute(delete(training_examples).where(training_examples.c.id == example_id))
        log_action(conn, user, "training_remove", f"example:{example_id}",
                   {k: row[k] for k in ("finding_id", "call_id", "category", "kind", "note", "rewrite")})

    _write(engine, run, f"remove training example {example_id}")


def save_sample(
    engine: Engine,
    *,
    sample_id: str,
    name: str,
    seed: int,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    user: str,
) -> str:
    """Store a drawn audit sample (``rows``: call_id, stratum, flagged) so it can be reopened."""

    def run(conn: Connection) -> str:
        conn.execute(insert(samples).values(
            sample_id=sample_id, name=name, created_by=user, created_at=utcnow(), seed=seed, params=params,
        ))
        if rows:
            conn.execute(insert(sample_calls), [
                {"sample_id": sample_id, "call_id": r["call_id"], "stratum": r["stratum"], "flagged": bool(r["flagged"])}
                for r in rows
            ])
        log_action(conn, user, "sample_save", f"sample:{sample_id}",
                   {"name": name, "seed": seed, "params": params, "calls": len(rows)})
        return sample_id

    return _write(engine, run, f"save sample {sample_id}")


def log_export(engine: Engine, *, user: str, what: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Record an export (CSV, XLSX, training pack) in the audit log."""
    _write(engine, lambda conn: log_action(conn, user, f"export_{what}", target, details), "log export")


def count_revisions(conn: Connection, finding_id: str) -> int:
    """The latest revision of a finding's verdict (0 when never reviewed)."""
    return conn.execute(select(func.coalesce(func.max(reviews.c.revision), 0)).where(
        reviews.c.finding_id == finding_id)).scalar_one()

