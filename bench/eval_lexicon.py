"""Quick lexicon evaluation for rule authors: examples, then P/R/F1 on a corpus.

    python bench/eval_lexicon.py tests/data/corpus_dev.jsonl [--by category|rule|tag] [--errors N] [--lexicons DIR]
"""

import argparse

from qa_toolkit.evaluate import evaluate, format_result
from qa_toolkit.rules.examples import run_examples
from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.transcripts import read_transcripts

ap = argparse.ArgumentParser()
ap.add_argument("corpus", nargs="+")
ap.add_argument("--by", default="category", choices=["category", "rule", "tag"])
ap.add_argument("--errors", type=int, default=40)
ap.add_argument("--lexicons", default="lexicons")
args = ap.parse_args()
scanner = Scanner(load_lexicon(args.lexicons))
n, failures = run_examples(scanner)
print(f"examples: {n} run, {len(failures)} failed")
for f in failures:
    print(f"  {f.origin} {f.rule_id} expected {f.expected}: {f.example}")
calls = [r.transcript for path in args.corpus for r in read_transcripts(path) if r.transcript]
print(format_result(evaluate((t, scanner.scan(t)) for t in calls), by=args.by, show_errors=args.errors))
