"""The command line end to end on the labelled corpus: scan, store, bad input, lexicon tools, eval."""

import json
import shutil

import pytest
from conftest import DATA, ROOT
from sqlalchemy import func, select

from qa_toolkit.cli import main
from qa_toolkit.store import connect
from qa_toolkit.store.schema import calls, findings, lexicons, runs, segments


def count(url, table):
    with connect(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_scan_stores_and_rescan_replaces(db_url, tmp_path, capsys):
    out = tmp_path / "findings.jsonl"
    assert main(["scan", str(DATA / "corpus_dev.jsonl"), "--db", db_url, "--out", str(out), "--quiet"]) == 0
    rows = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert rows and count(db_url, calls) == 90 and count(db_url, findings) == len(rows)
    for key in ("call_id", "segment", "speaker", "category", "rule_id", "severity", "start_char", "end_char", "text",
                "start", "end", "regulation", "explanation", "lexicon_version"):
        assert key in rows[0]
    seg_rows = [r for r in rows if r["segment"] is not None]
    corpus = {json.loads(x)["call_id"]: json.loads(x) for x in (DATA / "corpus_dev.jsonl").read_text(encoding="utf-8").splitlines()}
    for r in seg_rows:  # offsets point into the original segment text
        assert corpus[r["call_id"]]["segments"][r["segment"]]["text"][r["start_char"] : r["end_char"]] == r["text"]
    n_findings, n_segments = count(db_url, findings), count(db_url, segments)
    assert main(["scan", str(DATA / "corpus_dev.jsonl"), "--db", db_url, "--quiet"]) == 0
    assert (count(db_url, findings), count(db_url, segments), count(db_url, calls)) == (n_findings, n_segments, 90)
    assert count(db_url, runs) == 2


GOOD = {"call_id": "G1", "segments": [{"start": 0, "end": 2, "speaker": "agent", "text": "您好，我是安心金融的小王"}]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (json.dumps(GOOD) + "\n{not json\n", ":2: [E200] invalid JSON"),
        (json.dumps({"call_id": "B", "segments": []}), "has no segments"),
        (json.dumps({"call_id": "B", "segments": [{"start": 0, "end": 1, "speaker": "boss", "text": "x"}]}), "speaker must be one of"),
        (json.dumps({"call_id": "B", "segments": [{"start": 0, "end": 1, "speaker": "agent", "text": 5}]}), "text must be a string"),
        (json.dumps({"call_id": "B", "segments": [{"start": 3, "end": 1, "speaker": "agent", "text": "x"}]}), "is before start"),
        ("", "empty file"),
        (b"\xff\xfe\x00bad".decode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_input_is_refused_whole(db_url, tmp_path, capsys, content, message):
    main(["scan", str(DATA / "corpus_dev.jsonl"), "--db", db_url, "--quiet"])
    before = (count(db_url, calls), count(db_url, findings))
    bad = tmp_path / "bad.jsonl"
    if message == "not UTF-8":
        bad.write_bytes(b'{"call_id": "\xff"}\n')
    else:
        prefix = json.dumps(GOOD) + "\n" if content and "invalid JSON" not in message else ""
        bad.write_text(prefix + content, encoding="utf-8")
    assert main(["scan", str(bad), "--db", db_url, "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(bad) in err and message in err and "Traceback" not in err
    assert (count(db_url, calls), count(db_url, findings)) == before  # nothing from the bad input stored


def test_skip_bad_stores_the_good_records(db_url, tmp_path, capsys):
    bad = tmp_path / "mixed.jsonl"
    bad.write_text(json.dumps(GOOD) + "\n{oops\n" + json.dumps({**GOOD, "call_id": "G2"}) + "\n", encoding="utf-8")
    assert main(["scan", str(bad), "--db", db_url, "--skip-bad", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "mixed.jsonl:2" in captured.err
    assert count(db_url, calls) == 2


def test_csv_input(db_url, tmp_path):
    csv = tmp_path / "calls.csv"
    csv.write_text("call_id,start,end,speaker,text\nC1,0,2,agent,喂你好\nC1,2,4,agent,再不还钱就让你坐牢\n", encoding="utf-8")
    out = tmp_path / "f.jsonl"
    assert main(["scan", str(csv), "--db", db_url, "--out", str(out), "--quiet"]) == 0
    cats = {json.loads(x)["category"] for x in out.read_text(encoding="utf-8").splitlines()}
    assert "deception" in cats


def test_new_lexicon_version_keeps_old_findings(db_url, tmp_path, capsys):
    new = tmp_path / "lex"
    shutil.copytree(ROOT / "lexicons", new)
    header = new / "lexicon.yaml"
    header.write_text(header.read_text(encoding="utf-8").replace('version: "', 'version: "new-', 1), encoding="utf-8")
    main(["scan", str(DATA / "corpus_dev.jsonl"), "--db", db_url, "--quiet"])
    main(["scan", str(DATA / "corpus_dev.jsonl"), "--db", db_url, "--quiet", "--lexicons", str(new)])
    with connect(db_url).connect() as conn:
        hashes = conn.execute(select(findings.c.lexicon_hash).distinct()).scalars().all()
        versions = conn.execute(select(lexicons.c.version)).scalars().all()
    assert len(hashes) == 2 and any(v.startswith("new-") for v in versions)
    assert main(["lexicon", "diff", str(ROOT / "lexicons"), str(new), "--transcripts", str(DATA / "corpus_dev.jsonl")]) == 0
    assert "0 findings added, 0 removed on 90 calls" in capsys.readouterr().out


def test_lexicon_validate_reports_file_and_line(tmp_path, capsys):
    lex = tmp_path / "lex"
    shutil.copytree(DATA / "engine_lexicon", lex)
    rules = lex / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text.replace("severity: critical", "severity: terrible", 1), encoding="utf-8")
    assert main(["lexicon", "validate", str(lex)]) == 1
    err = capsys.readouterr().err
    assert f"{rules}:5: [E300] rules.0.severity" in err
    rules.write_text(text.replace("  - id: threat.visit", "  - id: threat.visit\n   bad: [indent", 1), encoding="utf-8")
    assert main(["lexicon", "validate", str(lex)]) == 1
    assert "[E300] invalid YAML" in capsys.readouterr().err
    rules.write_text(text.replace("'(去|到)(你|您)", "'((去|到)(你|您)", 1), encoding="utf-8")
    assert main(["lexicon", "validate", str(lex)]) == 1
    assert "bad regular expression" in capsys.readouterr().err


def test_lexicon_test_command(capsys):
    assert main(["lexicon", "test"]) == 0
    assert "examples behave as their rules say" in capsys.readouterr().out


def test_eval_command(capsys):
    assert main(["eval", str(DATA / "corpus_dev.jsonl"), "--errors", "5"]) == 0
    out = capsys.readouterr().out
    assert "segment level" in out and "false alarms:" in out and "call level" in out


def test_rescan_keeps_a_reviewers_correction(db_url, tmp_path):
    from qa_toolkit.rules.loader import load_lexicon
    from qa_toolkit.scan import Scanner
    from qa_toolkit.store import reviews

    src = tmp_path / "c.jsonl"
    call = {"call_id": "K1", "segments": [
        {"start": 0, "end": 2, "speaker": "agent", "text": "您好，我是安心金融的小王，请问是李先生吗"},
        {"start": 2, "end": 3, "speaker": "customer", "text": "是我"},
        {"start": 3, "end": 6, "speaker": "agent", "text": "再不还钱就让你去做牢"}]}
    src.write_text(json.dumps(call, ensure_ascii=False) + "\n", encoding="utf-8")
    main(["scan", str(src), "--db", db_url, "--quiet"])
    engine = connect(db_url)
    scanner = Scanner(load_lexicon())
    reviews.correct_segment(engine, "K1", 2, text="请您尽快安排还款", expected_text="再不还钱就让你去做牢", user="rita",
                            rescan=scanner.report)
    main(["scan", str(src), "--db", db_url, "--quiet"])  # the original file again
    with engine.connect() as conn:
        row = conn.execute(select(segments).where((segments.c.call_id == "K1") & (segments.c.idx == 2))).mappings().one()
        cats = conn.execute(select(findings.c.category).where(findings.c.call_id == "K1")).scalars().all()
    assert (row["text"], row["original_text"]) == ("请您尽快安排还款", "再不还钱就让你去做牢")
    assert "deception" not in cats
