#!/usr/bin/env python3
"""Learn which words the collector says and which the debtor says, for mono-call roles.

Counts, over the speaker-labelled segments of the dev corpora (clean and ASR-degraded copies;
never the test split), in how many agent and customer segments each Chinese character and
character pair occurs, and writes their add-one smoothed log-odds (agent over customer) to
``qa_toolkit/role_words.json``, which :mod:`qa_toolkit.speakers` adds to its hand-written cues.
Pairs seen fewer than 3 times or with |log-odds| < 0.2 are left out. Deterministic.

    python tests/data/role_model.py
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from qa_toolkit.speakers import role_grams  # noqa: E402

CORPORA = ["dev", "dev2", "dev3", "dev4", "dev5"]
MIN_COUNT, MIN_ODDS = 3, 0.2


def main() -> None:
    counts = {"agent": Counter(), "customer": Counter()}
    files = [ROOT / "tests/data" / f"corpus_{name}{suffix}.jsonl" for name in CORPORA for suffix in ("", "_asr")]
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            for seg in json.loads(line)["segments"]:
                if seg["speaker"] in counts:
                    counts[seg["speaker"]].update(set(role_grams(seg["text"])))
    agent, customer = counts["agent"], counts["customer"]
    vocab = set(agent) | set(customer)
    na, nc, v = sum(agent.values()), sum(customer.values()), len(vocab)
    table = {}
    for gram in sorted(vocab):
        if agent[gram] + customer[gram] < MIN_COUNT:
            continue
        odds = math.log((agent[gram] + 1) / (na + v)) - math.log((customer[gram] + 1) / (nc + v))
        if abs(odds) >= MIN_ODDS:
            table[gram] = round(odds, 2)
    out = ROOT / "qa_toolkit/role_words.json"
    meta = {"trained_on": [p.name for p in files], "min_count": MIN_COUNT, "min_odds": MIN_ODDS}
    out.write_text(json.dumps({"meta": meta, "log_odds": table}, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{len(table)} characters and pairs -> {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
