"""Findings + policy -> a call's risk score. Pure; the policy is data (``lexicon.yaml``).

Each finding contributes ``points[severity] * category_weight * evidence score`` as an
independent chance of a real violation; the call's risk is ``100 * (1 - prod(1 - p))``, so
many small hits add up without ever passing 100, and one critical hit dominates. A critical
finding fails the call outright when the policy says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from qa_toolkit.rules.schema import ScoringPolicy
from qa_toolkit.types import CATEGORIES, CallScore, Finding


def score_call(call_id: str, findings: Iterable[Finding], policy: ScoringPolicy) -> CallScore:
    """The risk (0–100) of one call under ``policy``."""
    findings = list(findings)
    clean = 1.0
    for f in findings:
        points = policy.points.get(f.severity, 0.0) * policy.category_weight.get(f.category, 1.0)
        clean *= 1.0 - min(max(points * f.evidence.score / 100.0, 0.0), 1.0)
    counts = Counter(f.category for f in findings)
    critical = policy.critical_fails_call and any(f.severity == "critical" for f in findings)
    risk = 100.0 if critical else round(100.0 * (1.0 - clean), 1)
    return CallScore(
        call_id=call_id,
        risk=risk,
        critical=critical,
        counts={c: counts.get(c, 0) for c in CATEGORIES},
        policy=f"{policy.name}/{policy.version}",
    )
