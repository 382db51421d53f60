"""Helpers of the fault and scale-out tests: a fake ASR engine that can be told to die, a
PostgreSQL database per test, the fault ledger that ``bench/faults.py`` prints, store checks.

Importable by Ray workers too (the tests put this folder on their ``PYTHONPATH``).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from qa_toolkit.store.schema import calls, findings, run_items, segments
from qa_toolkit.transcripts import read_transcripts

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_audio"
PG_ENV = "QA_TOOLKIT_TEST_PG_URL"
LEDGER_ENV = "QA_TOOLKIT_FAULT_LEDGER"


def gold() -> dict[str, Any]:
    """The sample calls' reference transcripts, by call id."""
    return {r.transcript.call_id: r.transcript for r in read_transcripts(SAMPLES / "calls.jsonl") if r.transcript}


class FakeTranscriber:
    """Returns a sample call's reference transcript after ``delay`` seconds, unless its control
    folder says otherwise for that call:

    * ``kill-once-<call_id>``: the worker process kills itself (SIGKILL) mid-call, once;
    * ``kill-always-<call_id>``: ... every time (a recording that crashes its decoder);
    * ``append-<call_id>``: the file's text is added to the call as one more agent segment.
    """

    def __init__(self, options, control: str, delay: float = 0.3):
        self.options = options
        self.control = Path(control)
        self.delay = delay
        self.gold = gold()

    def transcribe(self, audio, *, call_id: str, metadata: dict[str, Any] | None = None):
        from qa_toolkit.types import Segment

        once = self.control / f"kill-once-{call_id}"
        if once.exists():
            once.unlink()
            os.kill(os.getpid(), signal.SIGKILL)
        if (self.control / f"kill-always-{call_id}").exists():
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(self.delay)
        t = self.gold[call_id]
        extra = self.control / f"append-{call_id}"
        if extra.exists():
            end = t.segments[-1].end if t.segments else 0.0
            t = t.replace(segments=t.segments + (Segment(end, end + 1, "agent", extra.read_text(encoding="utf-8")),))
        return t.replace(asr={"engine": "fake", "options": self.options.to_dict()}, duration=audio.duration)


def fake_factory(control: Path, delay: float = 0.3):
    """A picklable ``factory(options)`` that builds a :class:`FakeTranscriber`."""
    import functools

    return functools.partial(FakeTranscriber, control=str(control), delay=delay)


def sample_dir(tmp_path: Path, ids: list[str]) -> Path:
    """A folder with the named sample recordings (links) and the manifest."""
    d = tmp_path / "audio"
    d.mkdir(exist_ok=True)
    for f in SAMPLES.iterdir():
        if f.stem in ids and f.suffix not in (".py", ".md", ".csv", ".jsonl"):
            (d / f.name).symlink_to(f)
    return d


def expected_findings(scanner, ids: list[str]) -> dict[str, int]:
    """Findings per call when the reference transcripts are scanned directly."""
    g = gold()
    return {cid: len(scanner.report(g[cid]).findings) for cid in ids}


def store_state(url: str) -> dict[str, Any]:
    """What the store holds: calls, current findings per call, segments, done items per call."""
    engine = create_engine(url)
    current = (findings.c.call_id == calls.c.call_id) & (findings.c.lexicon_hash == calls.c.lexicon_hash)
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(calls.c.call_id))]
        per_call = dict(conn.execute(select(calls.c.call_id, func.count(findings.c.finding_id))
                                     .select_from(calls.outerjoin(findings, current)).group_by(calls.c.call_id)).all())
        segs = dict(conn.execute(select(segments.c.call_id, func.count()).group_by(segments.c.call_id)).all())
        done = dict(conn.execute(select(run_items.c.call_id, func.count()).where(run_items.c.status == "done")
                                 .group_by(run_items.c.call_id)).all())
    engine.dispose()
    return {"calls": ids, "findings": per_call, "segments": segs, "done": done}


def assert_exactly_once(url: str, expected: dict[str, int]) -> dict[str, Any]:
    """Every expected call stored once, with its findings, and marked done by exactly one run."""
    state = store_state(url)
    assert sorted(state["calls"]) == sorted(expected), state["calls"]
    assert state["findings"] == expected
    assert all(n == 1 for n in state["done"].values()), state["done"]
    assert sorted(state["done"]) == sorted(expected)
    return state


def record(scenario: str, *, files: int, faults: int, expected: int, stored: int, note: str = "") -> None:
    """Append one line to the fault ledger (``$QA_TOOLKIT_FAULT_LEDGER``) when it is set."""
    path = os.environ.get(LEDGER_ENV)
    if not path:
        return
    row = {"scenario": scenario, "files": files, "faults": faults, "expected": expected, "stored": stored,
           "lost": max(expected - stored, 0), "note": note}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def pg_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need ${PG_ENV} (eval \"$(.ci/postgres.sh)\" starts one)")
    return url


@contextlib.contextmanager
def pg_database(base_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name = f"qa_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base_url.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request, tmp_path) -> Iterator[str]:
    """A fresh database URL: SQLite in tmp, then PostgreSQL (skipped without ``$QA_TOOLKIT_TEST_PG_URL``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'qa.db'}"
        return
    with pg_database(pg_url_or_skip()) as url:
        yield url
