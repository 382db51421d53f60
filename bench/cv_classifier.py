"""Leave-one-writer-out cross-validation of the learned model, scored with the whole lexicon.

    python bench/cv_classifier.py [--lexicons DIR] [--categories threat,deception,harassment,disclosure]
                                  [--use harassment=0.8,...] [--c 4] [--iterations 400]

Each dev writer (every ``tests/data/corpus_dev*.jsonl``) is held out in turn: the model is trained (``classifier.train``,
the same code as ``qa-toolkit lexicon train``) on the other writers' clean and ``_asr``
calls, and the held-out writer's clean corpus is scanned with the full lexicon whose model is
replaced by the fold's. Every category the model is trained for gets a learned rule for the scan
(the lexicon's own ``*.learned`` rule where it has one, otherwise a copy of one for that
category), asked at p >= 0.5; a higher threshold keeps the model's findings whose turn has
a probability at least that high. This is exact: a learned finding depends only on its
probability and on the pattern findings of its turn. Figures are segment level (``qa_toolkit.evaluate``), pooled over
the folds:

* per category, rules alone and rules + that category's learned rule at 0.5 … 0.9, with the
  false alarms the learned rule adds (percentage points of compliant agent turns);
* the lexicon as configured (its ``*.learned`` thresholds, or ``--use``): per category, overall,
  false-alarm rate, and per writer.

Never reads ``corpus_test*``. Deterministic (full-batch training, no sampling); about two
minutes on two cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from qa_toolkit.evaluate import Counts, EvalResult, evaluate
from qa_toolkit.pipeline import read_all
from qa_toolkit.rules.classifier import C, labelled_turns, train
from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.rules.schema import ClassifierMatch, Rule
from qa_toolkit.scan import Scanner
from qa_toolkit.text.normalize import normalize
from qa_toolkit.types import Transcript

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
# every dev corpus is one writer: corpus_dev.jsonl, corpus_dev2.jsonl, … (never corpus_test*)
WRITERS = tuple(sorted((p.stem.removeprefix("corpus_") for p in DATA.glob("corpus_dev*.jsonl") if not p.stem.endswith("_asr")),
                       key=lambda w: int(w[3:] or 1)))
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def read(name: str) -> list[Transcript]:
    return read_all([DATA / f"corpus_{name}.jsonl"], skip_bad=False)[0]


def learned(rule: Rule) -> bool:
    return rule.match is not None and rule.match.classifier is not None


def probe_rules(rules: tuple[Rule, ...], categories: list[str]) -> list[Rule]:
    """One learned rule per category at p >= 0.5: the lexicon's own, or a copy of another."""
    own = {r.category: r for r in rules if learned(r)}
    template = next(iter(own.values()))
    out = []
    for category in categories:
        rule = own.get(category) or template.model_copy(update={"id": f"{category}.learned", "category": category})
        out.append(rule.model_copy(update={"match": rule.match.model_copy(update={"classifier": ClassifierMatch(threshold=0.5)})}))
    return out


def run_folds(lexicon, categories: list[str], c: float, iterations: int):
    """Per writer: [(transcript, pattern findings, [(learned finding, its probability)])] with the fold's model."""
    base = tuple(r for r in lexicon.rules if not learned(r))
    rules = base + tuple(probe_rules(lexicon.rules, categories))
    clean = {w: read(w) for w in WRITERS}
    asr = {w: read(f"{w}_asr") for w in WRITERS}
    out = {}
    for w in WRITERS:
        started = time.perf_counter()
        turns = labelled_turns([t for v in WRITERS if v != w for t in clean[v] + asr[v]])
        model = train(turns, categories, c=c, iterations=iterations)
        scanner = Scanner(dataclasses.replace(lexicon, rules=rules, classifier=model))
        calls = []
        for t in clean[w]:
            found = scanner.scan(t)
            # the unrounded probability (the finding's score is rounded to 3 places)
            learned_found = [f for f in found if f.evidence.matcher == "classifier"]
            p = {i: model.probabilities(normalize(t.segments[i].text).text) for i in {f.segment for f in learned_found}}
            calls.append((t, [f for f in found if f.evidence.matcher != "classifier"],
                          [(f, p[f.segment][f.category]) for f in learned_found]))
        out[w] = calls
        print(f"  fold {w:<5} trained on {len(turns)} agent turns, {len(calls)} held-out calls ({time.perf_counter() - started:.1f} s)")
    return out


def score(folds, use: dict[str, float], writers=WRITERS) -> EvalResult:
    """Pattern findings plus the learned findings of ``use`` (category -> threshold)."""
    return evaluate((t, pats + [f for f, p in model if f.category in use and p >= use[f.category]])
                    for w in writers for t, pats, model in folds[w])


def cell(c: Counts) -> str:
    return f"{c.precision:.2f}/{c.recall:.2f} ({c.f1:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lexicons", default=str(Path(__file__).resolve().parents[1] / "lexicons"))
    ap.add_argument("--categories", default="threat,deception,harassment,disclosure")
    ap.add_argument("--use", help="thresholds of the configuration to report, e.g. threat=0.7,deception=0.7 "
                                  "(default: the lexicon's *.learned rules)")
    ap.add_argument("--c", type=float, default=C)
    ap.add_argument("--iterations", type=int, default=400)
    args = ap.parse_args()

    lexicon = load_lexicon(args.lexicons)
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    if args.use:
        use = {k.strip(): float(v) for k, v in (kv.split("=") for kv in args.use.split(","))}
    else:
        use = {r.category: r.match.classifier.threshold for r in lexicon.rules if learned(r)}
    print(f"lexicon {lexicon.version}; model categories {','.join(categories)}; c={args.c}, {args.iterations} iterations")
    started = time.perf_counter()
    folds = run_folds(lexicon, categories, args.c, args.iterations)

    rules = score(folds, {})
    n = rules.compliant_agent_turns
    print(f"\nleave-one-writer-out, {len(WRITERS)} folds, pooled; segment level P/R (F1); "
          f"+FA = false alarms added, percentage points of {n} compliant agent turns")
    print(f"{'category':<12}{'rules alone':>20}" + "".join(f"{'+ model p>=' + str(t):>30}" for t in THRESHOLDS))
    for category in categories:
        row = f"{category:<12}{cell(rules.by_category[category]):>20}"
        for t in THRESHOLDS:
            r = score(folds, {category: t})
            added = 100 * (r.false_alarm_turns - rules.false_alarm_turns) / n
            row += f"{cell(r.by_category[category]) + f' +FA {added:.2f}':>30}"
        print(row)

    configured = score(folds, use)
    name = ", ".join(f"{c} {t}" for c, t in use.items()) or "none"
    print(f"\nconfigured (learned rules: {name})")
    print(f"{'category':<12}{'rules alone':>20}{'configured':>20}")
    for category in sorted({*categories, *(c for c in rules.by_category if rules.by_category[c].tp + rules.by_category[c].fn)}):
        print(f"{category:<12}{cell(rules.by_category[category]):>20}{cell(configured.by_category[category]):>20}")
    print(f"{'ALL (items)':<12}{cell(rules.overall):>20}{cell(configured.overall):>20}")
    print(f"{'false alarms':<12}{f'{100 * rules.false_alarm_rate:.2f}%':>20}{f'{100 * configured.false_alarm_rate:.2f}%':>20}"
          f"   ({rules.false_alarm_turns} -> {configured.false_alarm_turns} of {n})")

    print("\nper writer, ALL (items) F1 / false alarms")
    print(f"{'':<12}" + "".join(f"{w:>14}" for w in WRITERS))
    for label, u in (("rules alone", {}), ("configured", use)):
        cells = []
        for w in WRITERS:
            r = score(folds, u, (w,))
            cells.append(f"{r.overall.f1:.3f} {100 * r.false_alarm_rate:.1f}%")
        print(f"{label:<12}" + "".join(f"{x:>14}" for x in cells))
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
