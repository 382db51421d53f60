"""Time the dashboard's queries on a large SQLite store.

Seeds 100,000 calls with 1,000,000 findings (and 10 segments per call) straight through the
sqlite3 driver with indexes dropped during the load, then times every query each page runs
(the first run, uncached, and the best of three). Aim: under 1 s each.

    python bench/dashboard.py [--calls 100000] [--findings 1000000] [--db /tmp/qa_bench.db] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa_toolkit.sampling import SampleParams, draw_sample
from qa_toolkit.store import connect, queries, reviews

CATS = ["threat", "harassment", "disclosure", "deception", "procedure", "pii", "vulnerability"]
SEVS = ["low", "medium", "high", "critical"]
SENTENCES = [
    "喂您好，我这边是华信银行信用卡中心的，请问是本人吗", "您这个账单已经逾期了，今天能处理一下吗",
    "逾期信息会按规定报送征信，还是尽早处理比较好", "再不还我们就去你单位找你领导聊聊", "我是区法院执行局的，你的案子已经立案了",
    "你这种人还有脸接电话", "麻烦您转告他回个电话", "我这两天手头紧，下周发工资就还", "我们不会上门打扰您的，放心",
    "你弟弟在我们这欠了八千块", "如协商不成，我方可能依法起诉", "行行，我今天晚上回去就还", "嗯，知道了，还有别的事吗",
    "那个，就是说，你们能不能分期", "我最近住院了，真的没钱", "好的，那不打扰您了，再见",
]
START = datetime(2025, 1, 1)


def seed(path: Path, n_calls: int, n_findings: int, rng: np.random.Generator) -> None:
    if path.exists():
        path.unlink()
    engine = connect(f"sqlite:///{path}")  # creates tables and indexes
    engine.dispose()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    lex = "bench-lexicon-hash"
    started = [START + timedelta(seconds=int(s)) for s in rng.integers(0, 365 * 86400, n_calls)]
    agents = rng.integers(0, 200, n_calls)
    phones = rng.integers(13_000_000_000, 19_999_999_999, n_calls)
    has = rng.random(n_calls) < 0.6
    weights = np.where(has, rng.exponential(1.0, n_calls), 0.0)
    counts = np.floor(weights / weights.sum() * n_findings).astype(int)
    counts[np.argsort(-weights)[: n_findings - counts.sum()]] += 1
    risk = np.minimum(100.0, counts * 12.0 + rng.random(n_calls) * 10 * has)
    now = datetime(2026, 1, 1)
    ids = [f"C{i:07d}" for i in range(n_calls)]
    db.executemany(
        "INSERT INTO calls (call_id, started_at, agent_id, team, phone, audio, duration, source, asr, extra,"
        " transcript_hash, lexicon_hash, risk, critical, updated_at) VALUES (?,?,?,?,?,NULL,?,?,'{}','{}',?,?,?,?,?)",
        [(ids[i], started[i].isoformat(sep=" "), f"A{agents[i]:03d}", f"T{agents[i] % 20:02d}", str(phones[i]),
          60.0 + i % 300, "bench", "h", lex, float(risk[i]), bool(counts[i] > 8), now.isoformat(sep=" "))
         for i in range(n_calls)])
    sent = rng.integers(0, len(SENTENCES), (n_calls, 10))
    db.executemany(
        'INSERT INTO segments (call_id, idx, start, "end", speaker, text) VALUES (?,?,?,?,?,?)',
        ((ids[i], j, j * 6.0, j * 6.0 + 5.0, "agent" if j % 2 == 0 else "customer", SENTENCES[sent[i, j]])
         for i in range(n_calls) for j in range(10)))
    call_of = np.repeat(np.arange(n_calls), counts)
    cat = rng.integers(0, len(CATS), len(call_of))
    sev = rng.integers(0, len(SEVS), len(call_of))
    rule = rng.integers(0, 60, len(call_of))
    segs = rng.integers(0, 10, len(call_of))
    ctx = json.dumps(["speaker=agent"])
    db.executemany(
        'INSERT INTO findings (finding_id, call_id, lexicon_hash, lexicon_version, segment, speaker, category,'
        ' rule_id, rule_version, severity, start_char, end_char, text, start, "end", regulation, description,'
        ' matcher, pattern, context, score, explanation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)',
        ((f"f{k:015d}", ids[call_of[k]], lex, "2026.1", int(segs[k]), "agent", CATS[cat[k]],
          f"{CATS[cat[k]]}.rule{rule[k]:02d}", 1, SEVS[sev[k]], 0, 4, "去你单位", segs[k] * 6.0, segs[k] * 6.0 + 5,
          "刑法 第293条之一", "bench", "phrase", "单位", ctx, 0.9, "phrase match") for k in range(len(call_of))))
    n_rev = min(50_000, len(call_of))
    picked = rng.choice(len(call_of), n_rev, replace=False)
    verdicts = ["confirmed", "false_alarm", "discuss"]
    db.executemany(
        "INSERT INTO reviews (finding_id, call_id, reviewer, verdict, note, revision, created_at)"
        " VALUES (?,?,?,?,?,?,?)",
        ((f"f{k:015d}", ids[call_of[k]], "rita", verdicts[k % 3], "", 1, now.isoformat(sep=" ")) for k in picked))
    db.executemany(
        "INSERT INTO scores (call_id, lexicon_hash, risk, critical, counts, policy, toolkit_version, scanned_at)"
        " VALUES (?,?,?,?,'{}','bench','bench',?)",
        ((ids[i], lex, float(risk[i]), False, now.isoformat(sep=" ")) for i in range(n_calls)))
    db.commit()
    for _, sql in indexes:
        db.execute(sql)
    db.execute("ANALYZE")
    db.commit()
    db.close()


def timed(label: str, fn, rows: list) -> object:
    t0 = time.perf_counter()
    result = fn()
    first = time.perf_counter() - t0
    best = first
    for _ in range(2):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    rows.append((label, first, best))
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--findings", type=int, default=1_000_000)
    ap.add_argument("--db", default="/tmp/qa_bench.db")
    ap.add_argument("--reuse", action="store_true", help="time an existing bench database")
    ap.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = ap.parse_args()
    path = Path(args.db)
    if not (args.reuse and path.exists()):
        t0 = time.perf_counter()
        seed(path, args.calls, args.findings, np.random.default_rng(7))
        print(f"seeded {args.calls:,} calls, {args.findings:,} findings, {args.calls * 10:,} segments "
              f"in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 2**20:.0f} MiB)")
    eng = connect(f"sqlite:///{path}")
    Q = queries
    lo, hi = Q.date_span(eng)
    month = (hi - timedelta(days=29), hi)
    rows: list = []
    timed("overview: date span + filter options", lambda: (Q.date_span(eng), Q.filter_options(eng)), rows)
    timed("overview: whole year", lambda: Q.overview(eng, lo, hi), rows)
    timed("overview: last 30 days (page default)", lambda: Q.overview(eng, *month), rows)
    base = Q.CallFilter()
    timed("calls: default (risk desc), page 1", lambda: Q.list_calls(eng, base, 0, 50), rows)
    timed("calls: page 1000", lambda: Q.list_calls(eng, base, 999, 50), rows)
    timed("calls: newest first", lambda: Q.list_calls(eng, Q.CallFilter(sort="started_at"), 0, 50), rows)
    timed("calls: category+severity", lambda: Q.list_calls(
        eng, Q.CallFilter(categories=("deception",), severities=("critical",)), 0, 50), rows)
    timed("calls: agent + 30 days", lambda: Q.list_calls(
        eng, Q.CallFilter(agents=("A007",), date_from=month[0], date_to=month[1]), 0, 50), rows)
    timed("calls: team + risk >= 80", lambda: Q.list_calls(eng, Q.CallFilter(teams=("T03",), risk_min=80), 0, 50), rows)
    timed("calls: review status confirmed", lambda: Q.list_calls(eng, Q.CallFilter(review_status="confirmed"), 0, 50),
          rows)
    timed("calls: unreviewed", lambda: Q.list_calls(eng, Q.CallFilter(review_status="unreviewed"), 0, 50), rows)
    timed("calls: text search 法院 (all dates)", lambda: Q.list_calls(eng, Q.CallFilter(text="法院"), 0, 50), rows)
    timed("calls: text search 法院 + 30 days", lambda: Q.list_calls(
        eng, Q.CallFilter(text="法院", date_from=month[0], date_to=month[1]), 0, 50), rows)
    timed("calls: phone suffix", lambda: Q.list_calls(eng, Q.CallFilter(phone="8000"), 0, 50), rows)
    top = Q.list_calls(eng, base, 0, 1).rows["call_id"].iloc[0]
    timed("detail: call + segments + findings", lambda: Q.call_detail(eng, top), rows)
    timed("detail: position + next call", lambda: Q.call_at(eng, base, Q.position_of(eng, base, "C0050000") + 1),
          rows)
    timed("rules: whole year", lambda: Q.rule_stats(eng, lo, hi), rows)
    timed("rules: last 30 days", lambda: Q.rule_stats(eng, *month), rows)
    timed("rules: last 90 days (page default)", lambda: Q.rule_stats(eng, hi - timedelta(days=89), hi), rows)
    timed("rules: calls behind a rule", lambda: Q.list_calls(eng, Q.CallFilter(rule_ids=("threat.rule07",)), 0, 50),
          rows)
    params = SampleParams(size=500, strata=("team", "risk_band"))
    quarter = (hi - timedelta(days=89), hi)
    sample = timed("sampling: population (90 days) + draw 500",
                   lambda: draw_sample(Q.sample_population(eng, *quarter), params, 11), rows)
    sid = f"BENCH-{time.time_ns()}"
    reviews.save_sample(eng, sample_id=sid, name="bench", seed=11, params=params.to_dict(),
                        rows=sample[["call_id", "stratum", "flagged"]].to_dict("records"), user="bench")
    timed("sampling: reopen saved sample (500 calls)", lambda: Q.sample_rows(eng, sid), rows)
    timed("audit log: newest 500", lambda: Q.audit_entries(eng), rows)
    timed("training library", lambda: Q.training_examples_frame(eng), rows)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'query':<{width}}  first s   best s")
    for label, first, best in rows:
        flag = "" if first < 1.0 else "  <-- over 1 s"
        print(f"{label:<{width}}  {first:7.3f}  {best:7.3f}{flag}")
    eng.dispose()
    if not args.keep and not args.reuse:
        os.remove(path)


if __name__ == "__main__":
    main()
