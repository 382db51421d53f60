"""What the pipeline writes: calls with their segments, findings and score, runs, lexicons.

A call's results are written in one transaction. Re-scanning a call with the same lexicon
replaces its findings (their ids are stable, so reviews stay attached); a scan with another
lexicon adds a second set beside the first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from qa_toolkit.errors import StoreError
from qa_toolkit.store.database import retrying
from qa_toolkit.store.schema import calls, findings, lexicons, run_items, runs, scores, segments
from qa_toolkit.types import CallReport, Segment, Transcript


def utcnow() -> datetime:
    """Now, as the naive UTC datetime the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_utc(value: datetime | None) -> datetime | None:
    """A timezone-aware datetime as naive UTC (naive input is taken as UTC already)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(value: str) -> str:
    """``value`` with the characters no database stores (NUL for PostgreSQL, lone surrogates for
    UTF-8) replaced by U+FFFD, one for one, so character offsets still line up."""
    return _UNSTORABLE.sub("\ufffd", value) if value else value


def transcript_hash(transcript: Transcript) -> str:
    """A hash of what the scan reads from a transcript: its segments and start time."""
    payload = {
        "started_at": transcript.started_at.isoformat() if transcript.started_at else None,
        "segments": [[s.start, s.end, s.speaker, s.text] for s in transcript.segments],
    }
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def _call_row(report: CallReport) -> dict[str, Any]:
    t = report.transcript
    return {
        "call_id": t.call_id,
        "started_at": to_utc(t.started_at),
        "agent_id": t.agent_id,
        "team": t.team,
        "phone": t.phone,
        "audio": t.audio,
        "duration": t.duration if t.duration is not None else (t.segments[-1].end if t.segments else 0.0),
        "source": t.source,
        "asr": t.asr,
        "extra": t.extra,
        "transcript_hash": transcript_hash(t),
        "lexicon_hash": report.lexicon_hash,
        "risk": report.score.risk,
        "critical": report.score.critical,
        "updated_at": utcnow(),
    }


def _finding_rows(report: CallReport) -> list[dict[str, Any]]:
    return [
        {
            "finding_id": f.finding_id,
            "call_id": f.call_id,
            "lexicon_hash": f.lexicon_hash,
            "lexicon_version": f.lexicon_version,
            "segment": f.segment,
            "speaker": f.speaker,
            "category": f.category,
            "rule_id": f.rule_id,
            "rule_version": f.rule_version,
            "severity": f.severity,
            "start_char": f.start_char,
            "end_char": f.end_char,
            "text": storable_text(f.text),
            "start": f.start,
            "end": f.end,
            "regulation": f.regulation,
            "description": f.description,
            "matcher": f.evidence.matcher,
            "pattern": f.evidence.pattern,
            "context": list(f.evidence.context),
            "score": f.evidence.score,
            "explanation": storable_text(f.explanation),
        }
        for f in report.findings
    ]


def write_report(conn: Connection, report: CallReport, run_id: str | None) -> None:
    """Write one call's results inside the caller's transaction (see :func:`save_report`)."""
    t = report.transcript
    row = _call_row(report)
    existing = conn.execute(
        select(calls.c.transcript_hash).where(calls.c.call_id == t.call_id)
    ).scalar_one_or_none()
    if existing is None:
        conn.execute(insert(calls).values(**row))
    else:
        conn.execute(update(calls).where(calls.c.call_id == t.call_id).values(**row))
    if existing != row["transcript_hash"]:
        conn.execute(delete(segments).where(segments.c.call_id == t.call_id))
        if t.segments:
            conn.execute(
                insert(segments),
                [
                    {
                        "call_id": t.call_id,
                        "idx": i,
                        "start": s.start,
                        "end": s.end,
                        "speaker": s.speaker,
                        "text": storable_text(s.text),
                        "avg_logprob": s.avg_logprob,
                        "no_speech_prob": s.no_speech_prob,
                        "channel": s.channel,
                    }
                    for i, s in enumerate(t.segments)
                ],
            )
    conn.execute(
        delete(findings).where(
            (findings.c.call_id == t.call_id) & (findings.c.lexicon_hash == report.lexicon_hash)
        )
    )
    rows = _finding_rows(report)
    if rows:
        conn.execute(insert(findings), rows)
    conn.execute(
        delete(scores).where((scores.c.call_id == t.call_id) & (scores.c.lexicon_hash == report.lexicon_hash))
    )
    conn.execute(
        insert(scores).values(
            call_id=t.call_id,
            lexicon_hash=report.lexicon_hash,
            risk=report.score.risk,
            critical=report.score.critical,
            counts=report.score.counts,
            policy=report.score.policy,
            toolkit_version=report.toolkit_version,
            run_id=run_id,
            scanned_at=to_utc(report.scanned_at),
        )
    )


def _in_transaction(engine: Engine, fn, *args, **kwargs):
    with engine.begin() as conn:
        return fn(conn, *args, **kwargs)


def save_reports(engine: Engine, reports: Iterable[CallReport], run_id: str | None = None) -> int:
    """Store reports, each call in its own transaction. Returns how many were written.

    A database that is away for a while (locked, restarting) is waited for: the transaction is
    retried with backoff (:func:`qa_toolkit.store.database.retrying`); it is idempotent.

    Raises:
        StoreError: The database refused a write; calls written before stay written, the
            failing call is rolled back whole.
    """
    n = 0
    for report in reports:
        save_report(engine, report, run_id)
        n += 1
    return n


def save_report(engine: Engine, report: CallReport, run_id: str | None = None, *, item: str | None = None) -> None:
    """Store one call's transcript, findings and score in one transaction (see :func:`save_reports`).

    With ``run_id`` and ``item`` (the input the call came from), the run's record of the item
    as done is written in the same transaction: a stored call always has its run record.
    """
    def write(conn: Connection) -> None:
        write_report(conn, report, run_id)
        if run_id is not None and item is not None:
            _write_item(conn, run_id, item, "done", report.transcript.call_id, None)

    call_id = report.transcript.call_id
    try:
        retrying(lambda: _in_transaction(engine, write), f"store call {call_id}")
    except SQLAlchemyError as err:
        msg = f"cannot store call {call_id}: {err.__class__.__name__}: {err}"
        raise StoreError(msg.splitlines()[0], path=engine.url.render_as_string()) from err


def apply_corrections(engine: Engine, transcript: Transcript) -> Transcript:
    """The transcript with the reviewers' stored corrections applied.

    A segment whose incoming text is the text a reviewer corrected gets the correction, so
    re-running a job on the original file never undoes a recorded correction.
    """
    def read() -> list:
        with engine.connect() as conn:
            return conn.execute(
                select(segments.c.idx, segments.c.text, segments.c.original_text).where(
                    (segments.c.call_id == transcript.call_id) & segments.c.original_text.is_not(None)
                )
            ).all()

    rows = retrying(read, f"read corrections of {transcript.call_id}")
    if not rows:
        return transcript
    segs = list(transcript.segments)
    for idx, text, original in rows:
        if idx < len(segs) and segs[idx].text == original:
            segs[idx] = dataclasses.replace(segs[idx], text=text)
    return transcript.replace(segments=tuple(segs))


def register_lexicon(engine: Engine, *, lexicon_hash: str, version: str, name: str, content: Any, rules: int) -> None:
    """Record a lexicon version (once per hash) so findings can cite it."""

    def write(conn: Connection) -> None:
        if conn.execute(select(lexicons.c.lexicon_hash).where(lexicons.c.lexicon_hash == lexicon_hash)).first():
            return
        conn.execute(
            insert(lexicons).values(
                lexicon_hash=lexicon_hash, version=version, name=name, rules=rules, content=content, loaded_at=utcnow()
            )
        )

    retrying(lambda: _in_transaction(engine, write), f"register lexicon {version}")


def scanned_hashes(engine: Engine, lexicon_hash: str) -> dict[str, str]:
    """``call_id -> transcript_hash`` of the calls already scanned with this lexicon."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(calls.c.call_id, calls.c.transcript_hash)
            .join(scores, (scores.c.call_id == calls.c.call_id))
            .where(scores.c.lexicon_hash == lexicon_hash)
        )
        return {r.call_id: r.transcript_hash for r in rows}


def transcribed_calls(engine: Engine, asr_options: dict[str, Any]) -> dict[str, str | None]:
    """``call_id -> lexicon hash of its latest scan`` for calls transcribed with these options."""
    with engine.connect() as conn:
        rows = conn.execute(select(calls.c.call_id, calls.c.asr, calls.c.lexicon_hash))
        return {r.call_id: r.lexicon_hash for r in rows if (r.asr or {}).get("options") == asr_options}


def load_transcript(conn_or_engine: Engine | Connection, call_id: str) -> Transcript:
    """A stored call as a :class:`Transcript` (segments with their current text).

    Raises:
        StoreError: No such call.
    """
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.connect() as conn:
            return load_transcript(conn, call_id)
    conn = conn_or_engine
    row = conn.execute(select(calls).where(calls.c.call_id == call_id)).mappings().first()
    if row is None:
        raise StoreError(f"no call {call_id!r} in the store")
    segs = conn.execute(select(segments).where(segments.c.call_id == call_id).order_by(segments.c.idx)).mappings()
    started = row["started_at"].replace(tzinfo=UTC) if row["started_at"] else None
    return Transcript(
        call_id=call_id,
        segments=tuple(
            Segment(s["start"], s["end"], s["speaker"], s["text"], s["avg_logprob"], s["no_speech_prob"], s["channel"])
            for s in segs
        ),
        started_at=started, agent_id=row["agent_id"], team=row["team"], phone=row["phone"], audio=row["audio"],
        duration=row["duration"], source=row["source"], asr=row["asr"] or {}, extra=row["extra"] or {},
    )


def start_run(engine: Engine, kind: str, args: dict[str, Any]) -> str:
    """Open a run record and return its id."""
    run_id = f"{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"

    def write(conn: Connection) -> None:
        conn.execute(
            insert(runs).values(
                run_id=run_id, kind=kind, started_at=utcnow(), status="running", args=args,
                calls_done=0, calls_skipped=0, calls_failed=0,
            )
        )

    retrying(lambda: _in_transaction(engine, write), f"start {kind} run")
    return run_id


def _write_item(conn: Connection, run_id: str, item: str, status: str, call_id: str | None, error: str | None) -> None:
    counter = {"done": runs.c.calls_done, "skipped": runs.c.calls_skipped, "failed": runs.c.calls_failed}[status]
    conn.execute(insert(run_items).values(run_id=run_id, item=item, call_id=call_id, status=status, error=error, at=utcnow()))
    conn.execute(update(runs).where(runs.c.run_id == run_id).values({counter.key: counter + 1}))


def record_item(engine: Engine, run_id: str, item: str, status: str, *, call_id: str | None = None, error: str | None = None) -> None:
    """Record what happened to one input of a run (done, skipped or failed, with the error)."""
    retrying(lambda: _in_transaction(engine, _write_item, run_id, item, status, call_id, error), f"record {status} {item}")


def finish_run(engine: Engine, run_id: str, status: str) -> dict[str, Any]:
    """Close a run record; returns its counters."""

    def write(conn: Connection) -> dict[str, Any]:
        conn.execute(update(runs).where(runs.c.run_id == run_id).values(status=status, finished_at=utcnow()))
        return dict(conn.execute(select(runs).where(runs.c.run_id == run_id)).mappings().one())

    return retrying(lambda: _in_transaction(engine, write), f"finish run {run_id}")


def count_calls(engine: Engine) -> int:
    """How many calls the store holds."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(calls)).scalar_one()
