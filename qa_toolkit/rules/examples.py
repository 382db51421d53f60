"""Running each rule's own examples: ``match`` must fire the rule, ``no_match`` must not.

A string example is one segment spoken by the rule's speaker (the agent for ``any``); a
dialogue example is a list of ``A:``/``C:`` lines, and the rule must fire (or not) anywhere in
it. This is how a rule is tested against a hand-written dialogue before it is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from qa_toolkit.rules.schema import Example, Rule
from qa_toolkit.scan import Scanner
from qa_toolkit.types import Segment, Transcript


@dataclass(frozen=True)
class ExampleFailure:
    """An example that did not behave as its rule says."""

    rule_id: str
    origin: str  # file:line of the rule
    expected: str  # match | no_match
    example: str


def example_transcript(rule: Rule, example: Example) -> Transcript:
    """The one-call transcript an example stands for."""
    if isinstance(example, str):
        speaker = "customer" if rule.speaker == "customer" else "agent"
        segs = (Segment(0.0, 3.0, speaker, example),)
        return Transcript(call_id=f"example:{rule.id}", segments=segs)
    segs = tuple(
        Segment(float(i * 3), float(i * 3 + 3), "agent" if line[0] == "A" else "customer", line[2:].strip())
        for i, line in enumerate(example.dialogue)
    )
    started = datetime.fromisoformat(example.started_at) if example.started_at else None
    return Transcript(call_id=f"example:{rule.id}", segments=segs, started_at=started)


def _label(example: Example) -> str:
    return example if isinstance(example, str) else " / ".join(example.dialogue)


def run_examples(scanner: Scanner) -> tuple[int, list[ExampleFailure]]:
    """Check every example of every rule; returns (examples run, failures)."""
    failures: list[ExampleFailure] = []
    n = 0
    for rule in scanner.lexicon.rules:
        for expected, examples in (("match", rule.examples.match), ("no_match", rule.examples.no_match)):
            for ex in examples:
                n += 1
                fired = any(f.rule_id == rule.id for f in scanner.scan(example_transcript(rule, ex)))
                if fired != (expected == "match"):
                    failures.append(ExampleFailure(rule.id, scanner.lexicon.origins[rule.id], expected, _label(ex)))
    return n, failures
