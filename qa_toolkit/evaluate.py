"""Detection quality against gold labels: precision, recall, F1 and false-alarm rate.

Gold calls carry ``labels: [{"segment": i | null, "categories": [...]}]``. A labelled item is a
segment (or, with ``segment: null``, the call as a whole) and the set of categories a reviewer
would accept for it. Counting, per category ``c``:

* a true positive is an item where ``c`` was predicted and is acceptable;
* a false positive is an item where ``c`` was predicted and is not acceptable;
* a false negative is an item where ``c`` is acceptable and *no* acceptable category was
  predicted (predicting another acceptable category is not a miss).

The overall row counts items: an item is found when any acceptable category was predicted, a
prediction is right when it hits an acceptable category. The false-alarm rate is the share of
compliant agent turns (no gold label) that received any finding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from qa_toolkit.types import CATEGORIES, Finding, Transcript

Key = tuple[str, int | None]  # (call_id, segment or None for call level)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Error:
    """A miss or a false alarm, with what a person needs to judge it."""

    kind: str  # miss | false_alarm
    call_id: str
    segment: int | None
    speaker: str | None
    text: str
    gold: tuple[str, ...]
    predicted: tuple[str, ...]
    rules: tuple[str, ...]


@dataclass
class EvalResult:
    """All figures of one evaluation."""

    level: str
    by_category: dict[str, Counts]
    overall: Counts
    call_level: dict[str, Counts]
    compliant_agent_turns: int
    false_alarm_turns: int
    by_rule: dict[str, Counts] = field(default_factory=dict)
    by_tag: dict[str, Counts] = field(default_factory=dict)
    errors: list[Error] = field(default_factory=list)

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarm_turns / self.compliant_agent_turns if self.compliant_agent_turns else 0.0


def gold_items(t: Transcript) -> dict[Key, set[str]]:
    """The labelled items of one gold call."""
    out: dict[Key, set[str]] = defaultdict(set)
    for label in t.extra.get("labels") or []:
        out[(t.call_id, label.get("segment"))].update(label.get("categories") or [])
    return out


def evaluate(calls: Iterable[tuple[Transcript, list[Finding]]]) -> EvalResult:
    """Compare each call's findings with its gold labels."""
    by_cat = {c: Counts() for c in CATEGORIES}
    call_level = {c: Counts() for c in CATEGORIES}
    overall = Counts()
    by_rule: dict[str, Counts] = defaultdict(Counts)
    by_tag: dict[str, Counts] = defaultdict(Counts)
    errors: list[Error] = []
    compliant_turns = fa_turns = 0
    for t, findings in calls:
        gold = gold_items(t)
        pred: dict[Key, set[str]] = defaultdict(set)
        rules: dict[Key, set[str]] = defaultdict(set)
        for f in findings:
            pred[(t.call_id, f.segment)].add(f.category)
            rules[(t.call_id, f.segment)].add(f.rule_id)
            ok = f.category in gold.get((t.call_id, f.segment), set())
            by_rule[f.rule_id].tp += ok
            by_rule[f.rule_id].fp += not ok
        tags = t.extra.get("tags") or []
        for key in set(gold) | set(pred):
            g, p = gold.get(key, set()), pred.get(key, set())
            for c in CATEGORIES:
                by_cat[c].tp += c in p and c in g
                by_cat[c].fp += c in p and c not in g
                by_cat[c].fn += c in g and not (p & g)
            hit = bool(p & g)
            item = Counts(tp=int(hit and bool(g)), fp=int(bool(p) and not hit), fn=int(bool(g) and not hit))
            for counts in [overall] + [by_tag[tag] for tag in tags]:
                counts.tp += item.tp
                counts.fp += item.fp
                counts.fn += item.fn
            if item.fp or item.fn:
                seg = key[1]
                s = t.segments[seg] if seg is not None and 0 <= seg < len(t.segments) else None
                errors.append(Error("miss" if item.fn else "false_alarm", t.call_id, seg, s.speaker if s else None,
                                    s.text if s else "(call level)", tuple(sorted(g)), tuple(sorted(p)), tuple(sorted(rules.get(key, ())))))
        g_call = {c for cats in gold.values() for c in cats}
        p_call = {c for cats in pred.values() for c in cats}
        for c in CATEGORIES:
            call_level[c].tp += c in p_call and c in g_call
            call_level[c].fp += c in p_call and c not in g_call
            call_level[c].fn += c in g_call and c not in p_call
        for i, s in enumerate(t.segments):
            if s.speaker == "agent" and not gold.get((t.call_id, i)):
                compliant_turns += 1
                fa_turns += bool(pred.get((t.call_id, i)))
    return EvalResult("segment", by_cat, overall, call_level, compliant_turns, fa_turns, dict(by_rule), dict(by_tag), errors)


def _row(name: str, c: Counts) -> str:
    return f"{name:<28}{c.precision:>7.3f}{c.recall:>7.3f}{c.f1:>7.3f}{c.tp:>6}{c.fp:>6}{c.fn:>6}"


def format_result(result: EvalResult, by: str = "category", show_errors: int = 50) -> str:
    """A plain-text report: tables, false-alarm rate, then misses and false alarms."""
    head = f"{'':<28}{'prec':>7}{'recall':>7}{'F1':>7}{'tp':>6}{'fp':>6}{'fn':>6}"
    lines = ["segment level", head]
    table = {"category": result.by_category, "rule": result.by_rule, "tag": result.by_tag}[by]
    for name in sorted(table):
        c = table[name]
        if c.tp + c.fp + c.fn:
            lines.append(_row(name, c))
    lines.append(_row("ALL (items)", result.overall))
    lines += ["", "call level", head]
    for name, c in result.call_level.items():
        if c.tp + c.fp + c.fn:
            lines.append(_row(name, c))
    lines += ["", f"false alarms: {result.false_alarm_turns} of {result.compliant_agent_turns} compliant agent turns "
              f"({100 * result.false_alarm_rate:.2f}%)"]
    if show_errors:
        shown = result.errors[:show_errors]
        lines += ["", f"misses and false alarms ({len(result.errors)}, first {len(shown)}):"]
        for e in shown:
            where = f"{e.call_id}#{e.segment}" if e.segment is not None else f"{e.call_id}#call"
            lines.append(f"  {e.kind:<11} {where:<10} gold={','.join(e.gold) or '-'} pred={','.join(e.predicted) or '-'} "
                         f"[{','.join(e.rules)}] {e.speaker or ''}: {e.text}")
    return "\n".join(lines)
