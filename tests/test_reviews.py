"""Verdicts with optimistic locking, corrections beside the original, training adds, audit log."""

from __future__ import annotations

import dataclasses
from datetime import UTC

import pytest
from sqlalchemy import insert, select

from qa_toolkit.errors import ConfigError
from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.store import connect, reviews
from qa_toolkit.store.repository import load_transcript, save_reports, utcnow
from qa_toolkit.store.schema import audit_log, segments, training_examples
from qa_toolkit.store.schema import reviews as reviews_t
from qa_toolkit.types import Segment, Transcript


def _transcript(call_id: str = "C1") -> Transcript:
    from datetime import datetime

    return Transcript(
        call_id=call_id, started_at=datetime(2026, 3, 2, 6, 0, tzinfo=UTC), agent_id="A1", team="T1",
        phone="13800138000",
        segments=(Segment(0.0, 3.0, "agent", "您好，我是安信公司的小李，请问是王先生吗？"),
                  Segment(3.5, 5.0, "customer", "是我。"),
                  Segment(5.5, 9.0, "agent", "再不还钱我们就去你单位找你领导。")),
    )


SCANNER = Scanner(load_lexicon())


@pytest.fixture()
def engine(tmp_path):
    eng = connect(f"sqlite:///{tmp_path / 'r.db'}")
    save_reports(eng, [SCANNER.report(_transcript())])
    return eng


def _fid(engine) -> str:
    from qa_toolkit.store.schema import findings

    with engine.connect() as conn:
        return conn.execute(
            select(findings.c.finding_id)
            .where((findings.c.segment == 2) & (findings.c.category == "threat"))
            .order_by(findings.c.start_char)
            .limit(1)
        ).scalar_one()


def _log(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(audit_log).order_by(audit_log.c.id)).mappings()]


def test_verdict_revisions_and_audit_log(engine):
    fid = _fid(engine)
    assert reviews.set_verdict(engine, fid, verdict="confirmed", user="rita", expected_revision=0) == 1
    assert reviews.set_verdict(engine, fid, verdict="confirmed", note="单位 = 爆单位", user="rita",
                               expected_revision=1) == 2
    log = _log(engine)
    assert [(e["user"], e["action"], e["target"]) for e in log] == [
        ("rita", "verdict", f"finding:{fid}"), ("rita", "note", f"finding:{fid}")]
    assert log[1]["details"]["previous"]["verdict"] == "confirmed"


def test_stale_revision_is_a_conflict_not_an_overwrite(engine):
    fid = _fid(engine)
    reviews.set_verdict(engine, fid, verdict="confirmed", user="rita", expected_revision=0)
    with pytest.raises(reviews.ReviewConflict, match=r"\[E610\].*rita") as err:
        reviews.set_verdict(engine, fid, verdict="false_alarm", user="sam", expected_revision=0)
    assert err.value.current["verdict"] == "confirmed"
    with engine.connect() as conn:
        assert conn.execute(select(reviews_t.c.verdict)).scalars().all() == ["confirmed"]


def test_race_past_the_check_is_caught_by_the_unique_revision(engine, monkeypatch):
    fid = _fid(engine)
    done = []

    def sneak_in():  # another reviewer's row lands between our check and our insert
        if not done:
            done.append(1)
            with engine.begin() as other:
                other.execute(insert(reviews_t).values(finding_id=fid, call_id="C1", reviewer="sam",
                                                       verdict="discuss", note="", revision=1, created_at=utcnow()))
        return utcnow()

    monkeypatch.setattr(reviews, "utcnow", sneak_in)
    with pytest.raises(reviews.ReviewConflict, match="same moment"):
        reviews.set_verdict(engine, fid, verdict="confirmed", user="rita", expected_revision=0)
    with engine.connect() as conn:
        assert conn.execute(select(reviews_t.c.reviewer)).scalars().all() == ["sam"]


def test_bad_verdict_lists_the_choices(engine):
    with pytest.raises(ConfigError, match="confirmed, false_alarm, discuss"):
        reviews.set_verdict(engine, _fid(engine), verdict="yes", user="rita", expected_revision=0)


def test_call_verdict_locking(engine):
    assert reviews.set_call_verdict(engine, "C1", verdict="violation", categories=["threat"], user="ann",
                                    expected_revision=0) == 1
    with pytest.raises(reviews.ReviewConflict):
        reviews.set_call_verdict(engine, "C1", verdict="clean", user="bob", expected_revision=0)


def test_correction_keeps_original_and_rescans(engine):
    seen = "再不还钱我们就去你单位找你领导。"

    rescan = SCANNER.report

    report = reviews.correct_segment(engine, "C1", 2, text="请您尽快还款。", expected_text=seen, user="rita",
                                     rescan=rescan)
    assert report.findings == ()
    with engine.connect() as conn:
        row = conn.execute(select(segments).where(segments.c.idx == 2)).mappings().one()
    assert (row["text"], row["original_text"]) == ("请您尽快还款。", seen)
    # a second correction keeps the first original
    reviews.correct_segment(engine, "C1", 2, text="请您今天还款。", expected_text="请您尽快还款。", user="rita",
                            rescan=rescan)
    with engine.connect() as conn:
        row = conn.execute(select(segments).where(segments.c.idx == 2)).mappings().one()
    assert row["original_text"] == seen
    with pytest.raises(reviews.ReviewConflict):
        reviews.correct_segment(engine, "C1", 2, text="x", expected_text=seen, user="sam", rescan=rescan)
    actions = [e["action"] for e in _log(engine)]
    assert actions == ["correction", "correction"]
    assert _log(engine)[0]["details"]["before"] == seen


def test_training_example_snapshot_and_edits(engine):
    fid = _fid(engine)
    ex = reviews.add_training_example(engine, fid, user="tina")
    assert reviews.add_training_example(engine, fid, user="tina") == ex  # once per finding
    reviews.set_rewrite(engine, ex, rewrite="请您今天给我一个明确的还款时间。", user="tina")
    with engine.connect() as conn:
        row = conn.execute(select(training_examples)).mappings().one()
    assert row["rewrite"].startswith("请您") and row["snapshot"]["segment_text"] == "再不还钱我们就去你单位找你领导。"
    reviews.remove_training_example(engine, ex, user="tina")
    assert [e["action"] for e in _log(engine)] == ["training_add", "training_edit", "training_remove"]


def test_exports_and_samples_are_logged(engine):
    reviews.save_sample(engine, sample_id="S1", name="March", seed=7, params={"size": 1},
                        rows=[{"call_id": "C1", "stratum": "flagged", "flagged": True}], user="ann")
    reviews.log_export(engine, user="ann", what="csv", target="sample:S1", details={"redacted": True})
    assert [(e["action"], e["user"]) for e in _log(engine)] == [("sample_save", "ann"), ("export_csv", "ann")]


def test_corpus_transcript_roundtrip(engine):
    with engine.connect() as conn:
        t = load_transcript(conn, "C1")
    assert dataclasses.replace(t, source=None).segments == _transcript().segments
