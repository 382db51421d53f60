"""Faults and bad input, with nothing lost: each test injects one and then checks the store.

The ASR engine is a fake (:class:`faultkit.FakeTranscriber`: the reference transcript of each
sample call) so the tests exercise the pipeline and the store, not Whisper; the recordings are
real and really decoded.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from faultkit import (
    SAMPLES,
    any_db,  # noqa: F401 - fixture
    assert_exactly_once,
    expected_findings,
    fake_factory,
    record,
    sample_dir,
    store_state,
)
from sqlalchemy import create_engine, select, text

from qa_toolkit.errors import InputError, LexiconError, WorkerError
from qa_toolkit.pipeline import run_audio, scan_files
from qa_toolkit.rules.loader import default_lexicon_dir, load_lexicon
from qa_toolkit.store import connect, database
from qa_toolkit.store.reviews import ReviewConflict, set_verdict
from qa_toolkit.store.schema import findings, reviews
from qa_toolkit.types import Segment, Transcript

IDS = ["S01", "S02", "S03", "S04"]


@pytest.fixture
def control(tmp_path) -> Path:
    d = tmp_path / "control"
    d.mkdir()
    return d


# -- a worker killed mid-call -------------------------------------------------------------


def test_local_worker_killed_mid_call_rerun_completes(tmp_path, control, scanner, any_db):  # noqa: F811
    audio = sample_dir(tmp_path, IDS)
    (control / "kill-once-S02").touch()
    with pytest.raises(WorkerError, match=r"\[E700\] a transcription worker died"):
        run_audio([audio], db=any_db, workers=2, progress=False, transcriber_factory=fake_factory(control))
    assert not (control / "kill-once-S02").exists()
    partial = store_state(any_db)
    assert "S02" not in partial["calls"] and all(n == 1 for n in partial["done"].values())
    again = run_audio([audio], db=any_db, workers=2, progress=False, transcriber_factory=fake_factory(control))
    assert again.failed == 0 and again.done + again.skipped == len(IDS) and again.skipped == len(partial["calls"])
    state = assert_exactly_once(any_db, expected_findings(scanner, IDS))
    record(f"local pool: worker killed mid-call, re-run ({any_db.split(':')[0]})", files=len(IDS), faults=1,
           expected=len(IDS), stored=len(state["calls"]))


# -- the database away for a while ----------------------------------------------------------


def _hold_sqlite_lock(path: Path, seconds: float, started: threading.Event) -> None:
    import sqlite3

    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # the write lock: every other writer waits or gets "database is locked"
    started.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


def test_sqlite_locked_for_a_while_run_retries(tmp_path, control, scanner, monkeypatch, caplog):
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 100)  # give up waiting fast, so the retry path runs
    audio = sample_dir(tmp_path, IDS)
    db = tmp_path / "qa.db"
    url = f"sqlite:///{db}"
    connect(url).dispose()
    started = threading.Event()
    holder = threading.Thread(target=_hold_sqlite_lock, args=(db, 2.5, started))
    holder.start()
    started.wait(10)
    with caplog.at_level(logging.WARNING, logger="qa_toolkit.store"):
        summary = run_audio([audio], db=url, workers=1, progress=False, transcriber_factory=fake_factory(control, 0.05))
    holder.join()
    assert (summary.done, summary.failed) == (len(IDS), 0)
    retries = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert retries and "locked" in retries[0].getMessage()
    state = assert_exactly_once(url, expected_findings(scanner, IDS))
    record("sqlite write-locked by another connection for 2.5 s", files=len(IDS), faults=len(retries),
           expected=len(IDS), stored=len(state["calls"]))


def test_postgres_refusing_connections_for_a_while_run_retries(tmp_path, control, scanner, caplog):
    from faultkit import pg_database, pg_url_or_skip

    base = pg_url_or_skip()
    audio = sample_dir(tmp_path, IDS)
    with pg_database(base) as url:
        connect(url).dispose()
        name = url.rsplit("/", 1)[1]
        admin = create_engine(base, isolation_level="AUTOCOMMIT")

        def outage() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :d"), {"d": name})
                time.sleep(2.0)
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))

        class Outage:  # the database goes away once the first call is stored
            fired = False

            def __call__(self, report) -> None:
                if not self.fired:
                    self.fired = True
                    threading.Thread(target=outage).start()
                    time.sleep(0.3)

        with caplog.at_level(logging.WARNING, logger="qa_toolkit.store"):
            summary = run_audio([audio], db=url, workers=1, progress=False, on_report=Outage(),
                                transcriber_factory=fake_factory(control, 0.05))
        admin.dispose()
        assert (summary.done, summary.failed) == (len(IDS), 0)
        retries = [r for r in caplog.records if "database unavailable" in r.getMessage()]
        assert retries
        state = assert_exactly_once(url, expected_findings(scanner, IDS))
    record("postgresql refusing connections for 2 s mid-run", files=len(IDS), faults=len(retries),
           expected=len(IDS), stored=len(state["calls"]))


# -- bad recordings -------------------------------------------------------------------------


def _silent_wav(path: Path, seconds: int, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        block = np.zeros(rate * 600, dtype=np.int16).tobytes()
        for _ in range(seconds // 600):
            w.writeframes(block)
    return path


def test_bad_recordings_fail_alone_with_a_reason(tmp_path, control, scanner, any_db):  # noqa: F811
    audio = sample_dir(tmp_path, ["S01", "S06"])
    (audio / "C01.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 40)  # corrupt
    good = (SAMPLES / "S07.wav").read_bytes()
    (audio / "C02.wav").write_bytes(good[: len(good) // 40])  # truncated to its first second or so
    (audio / "C03.wav").write_bytes(b"")  # zero-length
    (audio / "C04.mp3").write_text("this is not audio\n" * 50)  # non-audio
    _silent_wav(audio / "C05.wav", 3 * 3600)  # 3 h: over --max-duration, refused before decoding
    t0 = time.monotonic()
    summary = run_audio([audio], db=any_db, workers=1, progress=False, transcriber_factory=fake_factory(control, 0.05))
    took = time.monotonic() - t0
    errors = {e.split(":")[0].rsplit("/", 1)[-1]: e for e in summary.errors}
    assert summary.done == 2 and summary.failed == 5, summary.errors
    assert set(errors) == {"C01.wav", "C02.wav", "C03.wav", "C04.mp3", "C05.wav"}
    assert all("[E400]" in e and "\n" not in e for e in errors.values())
    assert "0 bytes" in errors["C03.wav"] and "max-duration" in errors["C05.wav"]
    assert took < 30
    assert_exactly_once(any_db, expected_findings(scanner, ["S01", "S06"]))
    record(f"corrupt, truncated, zero-length, non-audio, 3 h files ({any_db.split(':')[0]})", files=7, faults=5,
           expected=2, stored=len(store_state(any_db)["calls"]), note="truncated C02 fails on the fake (no such call)")


def test_three_hour_recording_decodes_in_bounded_memory(tmp_path):
    """With the duration limit lifted a 3 h file is decoded once into ~0.7 GB (16 kHz float32)
    and then refused as silent; peak memory stays near that, not a multiple of it."""
    huge = _silent_wav(tmp_path / "huge.wav", 3 * 3600)
    # the child's own high-water mark: VmHWM belongs to its address space, while ru_maxrss keeps the
    # peak of the forked pytest image across exec (a large test process would be measured instead)
    code = (
        "import re, sys\n"
        "from qa_toolkit.audio import load_audio\n"
        "from qa_toolkit.errors import AudioError\n"
        "try:\n    load_audio(sys.argv[1])\nexcept AudioError as e:\n    print(e)\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(huge)], capture_output=True, text=True, timeout=120, check=True)
    message, peak_mb = out.stdout.strip().splitlines()
    assert "[E400] silent recording" in message
    assert int(peak_mb) < 1200, f"peak {peak_mb} MB"  # the 0.7 GB array once, not twice
    record("3 h recording with --max-duration 0 (bounded memory)", files=1, faults=1, expected=0, stored=0,
           note=f"peak {peak_mb} MB")


# -- bad transcripts and text -----------------------------------------------------------------


def _good_lines() -> list[str]:
    return (SAMPLES / "calls.jsonl").read_text(encoding="utf-8").splitlines()[:3]


MALFORMED = [
    ("broken json", '{"call_id": "X1", "segments": ['),
    ("no call id", json.dumps({"segments": [{"start": 0, "end": 1, "speaker": "agent", "text": "你好"}]})),
    ("segments not a list", json.dumps({"call_id": "X3", "segments": "你好"})),
    ("bad times", json.dumps({"call_id": "X4", "segments": [{"start": "soon", "end": 1, "speaker": "agent", "text": "x"}]})),
    ("bad speaker", json.dumps({"call_id": "X5", "segments": [{"start": 0, "end": 1, "speaker": 7, "text": "x"}]})),
    ("not an object", "[1, 2, 3]"),
]


@pytest.mark.parametrize(("what", "line"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_transcript_is_refused_whole(tmp_path, what, line):
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join([*_good_lines(), line]) + "\n", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    connect(url).dispose()
    with pytest.raises(InputError, match=r"calls.jsonl:4: \[E200\]"):
        scan_files([path], db=url, progress=False)
    assert store_state(url)["calls"] == []


def test_malformed_transcripts_skipped_good_ones_stored(tmp_path, any_db):  # noqa: F811
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join([*_good_lines(), *(m[1] for m in MALFORMED)]) + "\n", encoding="utf-8")
    summary = scan_files([path], db=any_db, skip_bad=True, progress=False)
    assert (summary.done, summary.skipped) == (3, len(MALFORMED))
    assert sorted(store_state(any_db)["calls"]) == ["S01", "S02", "S03"]
    record(f"malformed transcript records ({any_db.split(':')[0]})", files=1, faults=len(MALFORMED), expected=3,
           stored=len(store_state(any_db)["calls"]))


def test_non_utf8_transcript_file_is_refused_with_the_encoding_hint(tmp_path):
    path = tmp_path / "gbk.jsonl"
    rec = {"call_id": "G1", "segments": [{"start": 0, "end": 2, "speaker": "agent", "text": "你再不还钱我们就上门"}]}
    path.write_bytes(json.dumps(rec, ensure_ascii=False).encode("gbk"))
    with pytest.raises(InputError, match=r"gbk.jsonl.*\[E200\].*UTF-8"):
        scan_files([path], db=f"sqlite:///{tmp_path / 'qa.db'}", progress=False)
    record("non-UTF-8 (GBK) transcript file", files=1, faults=1, expected=0, stored=0)


def test_lone_surrogate_escape_is_refused_at_read(tmp_path):
    path = tmp_path / "calls.jsonl"
    path.write_text('{"call_id": "L1", "segments": [{"start": 0, "end": 1, "speaker": "agent", "text": "\\ud800x"}]}\n')
    with pytest.raises(InputError, match=r"calls.jsonl:1: \[E200\].*surrogate"):
        scan_files([path], db=f"sqlite:///{tmp_path / 'qa.db'}", progress=False)


ODD_TEXT = [
    ("nul", "你再不还钱\x00我们就上门"),
    ("control chars", "你再不还钱\x1b[31m我们\x07就上门"),
    ("bidi and zero-width", "你再不还\u200b钱\u202e我们就上门"),
    ("long", "上门" * 20000),
]


@pytest.mark.parametrize(("what", "odd"), ODD_TEXT, ids=[o[0] for o in ODD_TEXT])
def test_odd_characters_in_text_are_stored_or_refused_cleanly(scanner, any_db, what, odd):  # noqa: F811
    from qa_toolkit.store import repository as repo
    from qa_toolkit.store.repository import load_transcript

    t = Transcript(call_id=f"U-{what}", segments=(Segment(0.0, 2.0, "agent", odd),))
    report = scanner.report(t)
    engine = connect(any_db)
    repo.save_report(engine, report)
    back = load_transcript(engine, t.call_id).segments[0].text
    assert back == repo.storable_text(odd)
    engine.dispose()


# -- catastrophic regex -------------------------------------------------------------------------


def _lexicon_with(tmp_path: Path, pattern: str) -> Path:
    d = tmp_path / "lexicon"
    shutil.copytree(default_lexicon_dir(), d)
    rule = (
        "  - id: threat.redos_probe\n    version: 1\n    category: threat\n    severity: low\n    speaker: any\n"
        "    description: probe\n    regulation: none\n"
        f"    match:\n      patterns:\n        - '{pattern}'\n"
        "    examples:\n      match:\n        - aaa\n      no_match:\n        - 你好\n"
    )
    path = d / "threat.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + rule, encoding="utf-8")
    return d


def test_nested_repeat_regex_is_refused_at_load_with_file_and_line(tmp_path):
    with pytest.raises(LexiconError, match=r"threat.yaml:\d+: \[E300\].*repeats a repeat"):
        load_lexicon(_lexicon_with(tmp_path, "(a+)+$"))
    record("lexicon with (a+)+$ (refused at load)", files=1, faults=1, expected=0, stored=0)


def test_catastrophic_regex_is_cut_off_and_the_batch_goes_on(tmp_path, control, scanner):
    lexicon = _lexicon_with(tmp_path, "(a|aa)+$")  # passes the static check, backtracks exponentially
    audio = sample_dir(tmp_path, IDS)
    (control / "append-S02").write_text("a" * 40 + "!", encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    t0 = time.monotonic()
    summary = run_audio([audio], db=url, workers=1, lexicon_dir=lexicon, progress=False,
                        transcriber_factory=fake_factory(control, 0.05))
    assert time.monotonic() - t0 < 30
    assert (summary.done, summary.failed) == (3, 1)
    assert "threat.redos_probe" in summary.errors[0] and "[E300]" in summary.errors[0]
    assert sorted(store_state(url)["calls"]) == ["S01", "S03", "S04"]
    record("lexicon with (a|aa)+$ on a 41-character segment", files=len(IDS), faults=1, expected=3,
           stored=len(store_state(url)["calls"]), note="the matching call fails with the rule named; re-run after fixing")


# -- two reviewers at once --------------------------------------------------------------------------


def _reviewer(url: str, finding_id: str, who: str, barrier, results: list) -> None:
    engine = connect(url, create=False)
    barrier.wait()
    try:
        results.append(("ok", who, set_verdict(engine, finding_id, verdict="confirmed", user=who, expected_revision=0)))
    except ReviewConflict as err:
        results.append(("conflict", who, str(err)))
    finally:
        engine.dispose()


def test_two_reviewers_at_once_one_wins_one_is_told(tmp_path, scanner, any_db):  # noqa: F811
    from faultkit import gold

    from qa_toolkit.store import repository as repo

    engine = connect(any_db)
    report = scanner.report(gold()["S05"])
    repo.save_report(engine, report)
    ids = [f.finding_id for f in report.findings][:5]
    assert ids
    outcomes = []
    for fid in ids:
        barrier, results = threading.Barrier(2), []
        threads = [threading.Thread(target=_reviewer, args=(any_db, fid, who, barrier, results)) for who in ("ana", "bo")]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        kinds = sorted(r[0] for r in results)
        assert kinds == ["conflict", "ok"], results
        outcomes.append(results)
    with engine.connect() as conn:
        rows = conn.execute(select(reviews.c.finding_id, reviews.c.revision).where(reviews.c.finding_id.in_(ids))).all()
        assert sorted(rows) == sorted((fid, 1) for fid in ids)
        assert conn.execute(select(findings.c.finding_id).where(findings.c.finding_id.in_(ids))).all()
    engine.dispose()
    record(f"two reviewers on the same finding at once x{len(ids)} ({any_db.split(':')[0]})", files=0, faults=len(ids),
           expected=len(ids), stored=len(rows), note="verdicts: one stored per finding, the other reviewer told to reload")


def test_a_call_and_its_run_record_are_one_write(scanner, tmp_path, monkeypatch):
    """A failure between storing a call and recording it as done leaves neither behind."""
    from qa_toolkit.store import repository as repo
    from qa_toolkit.store.schema import calls, run_items

    engine = connect(f"sqlite:///{tmp_path / 'qa.db'}")
    run_id = repo.start_run(engine, "scan", {})
    report = scanner.report(Transcript(call_id="R1", segments=(Segment(0.0, 2.0, "agent", "再不还就上门"),)))

    def broken(*args, **kwargs):
        raise RuntimeError("killed between the call and its run record")

    monkeypatch.setattr(repo, "_write_item", broken)
    with pytest.raises(RuntimeError):
        repo.save_report(engine, report, run_id, item="R1.json")
    with engine.connect() as conn:
        assert conn.execute(select(calls.c.call_id)).all() == []
    monkeypatch.undo()
    repo.save_report(engine, report, run_id, item="R1.json")
    with engine.connect() as conn:
        assert conn.execute(select(calls.c.call_id)).scalars().all() == ["R1"]
        assert conn.execute(select(run_items.c.item, run_items.c.status)).all() == [("R1.json", "done")]
    engine.dispose()
