"""Scan throughput against bare jieba segmentation of the same text, measured in one run.

Builds a corpus of N calls (default 5,000) by drawing segments from the labelled corpus with a
seeded generator, then times (a) jieba's default segmentation of every segment, (b) the full
scan (normalization, matching, context, scoring) with the packaged lexicon. Prints characters
per second and the ratio scan / jieba (the aim: <= 1.5).

    python bench/scan_throughput.py [--calls 5000] [--seed 7] [--lexicons DIR]
"""

import argparse
import random
import time
from pathlib import Path

import jieba

from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.transcripts import read_transcripts
from qa_toolkit.types import Transcript

ROOT = Path(__file__).resolve().parents[1]


def corpus(n: int, seed: int) -> list[Transcript]:
    pool = [r.transcript for f in ("corpus_dev.jsonl", "corpus_test.jsonl")
            for r in read_transcripts(ROOT / "tests/data" / f) if r.transcript]
    segments = [s for t in pool for s in t.segments]
    rng = random.Random(seed)
    calls = []
    for i in range(n):
        base = rng.choice(pool)
        k = rng.randint(6, 20)
        segs = tuple(sorted(rng.sample(segments, k), key=lambda s: s.start))
        calls.append(base.replace(call_id=f"B{i:06d}", segments=segs))
    return calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--lexicons", help="lexicon folder (default: the packaged lexicons)")
    args = ap.parse_args()
    calls = corpus(args.calls, args.seed)
    texts = [s.text for t in calls for s in t.segments]
    chars = sum(map(len, texts))
    jieba.initialize()
    scanner = Scanner(load_lexicon(args.lexicons))
    scanner.scan(calls[0])  # warm caches (OpenCC, pinyin table)

    t0 = time.perf_counter()
    for text in texts:
        jieba.lcut(text)
    t_jieba = time.perf_counter() - t0

    t0 = time.perf_counter()
    n_findings = sum(len(scanner.report(t).findings) for t in calls)
    t_scan = time.perf_counter() - t0

    print(f"corpus: {len(calls)} calls, {len(texts)} segments, {chars:,} characters; {len(scanner.lexicon.rules)} rules")
    print(f"jieba segmentation : {t_jieba:7.2f} s  {chars / t_jieba:>12,.0f} chars/s")
    print(f"full scan          : {t_scan:7.2f} s  {chars / t_scan:>12,.0f} chars/s  ({n_findings} findings)")
    print(f"ratio scan / jieba : {t_scan / t_jieba:.2f}  (aim <= 1.5)")


if __name__ == "__main__":
    main()
