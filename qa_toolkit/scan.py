"""Transcript + lexicon -> findings, with evidence. Pure: no I/O once the scanner is built.

:class:`Scanner` compiles a lexicon once (the heavy part); :meth:`Scanner.scan` then takes
one transcript at a time:

1. normalize every segment (offset map kept) and follow who is on the line;
2. find raw hits of every ``match`` rule (:mod:`qa_toolkit.rules.matchers`), personal numbers,
   required statements that were never said, and call-time rules;
3. let the shared context step decide each hit (speaker, negation, line state, position, order,
   exclusions) and record each decision in the finding's evidence.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from qa_toolkit import __version__
from qa_toolkit.rules.context import LineTracker, Negation, excluded_by
from qa_toolkit.rules.loader import Lexicon
from qa_toolkit.rules.matchers import Hit, RuleMatcher
from qa_toolkit.rules.pii import find_pii_normalized
from qa_toolkit.rules.schema import Rule
from qa_toolkit.scoring import score_call
from qa_toolkit.text.normalize import NormText, normalize
from qa_toolkit.text.tokens import Tokenizer
from qa_toolkit.types import CallReport, Evidence, Finding, Segment, Transcript


class Scanner:
    """A compiled lexicon, ready to scan transcripts.

    Args:
        lexicon: A loaded lexicon (:func:`qa_toolkit.rules.loader.load_lexicon`).
    """

    def __init__(self, lexicon: Lexicon):
        self.lexicon = lexicon
        rules = list(lexicon.rules)
        terms = [t for r in rules if r.match for t in r.match.terms + [x for g in r.match.all for x in g]]
        self.tokenizer = Tokenizer(terms + lexicon.header.negation.cues)
        self.match_rules = [r for r in rules if r.match is not None and r.required is None]
        self.required_rules = [r for r in rules if r.required is not None]
        self.pii_rules = [r for r in rules if r.recognizer is not None]
        self.time_rules = [r for r in rules if r.time_window is not None]
        self.matcher = RuleMatcher(self.match_rules, self.tokenizer, lexicon.classifier)
        self.required_matcher = RuleMatcher(self.required_rules, self.tokenizer)
        self.line = LineTracker(lexicon.header.line_state)
        self.negation = Negation(lexicon.header.negation)
        self.excludes = {r.id: [re.compile(p) for p in r.context.exclude] for r in rules}
        self.after_customer = {r.id: [re.compile(p) for p in r.context.after_customer] for r in rules}
        self.rules = {r.id: r for r in rules}

    # -- one call ------------------------------------------------------------------------

    def scan(self, transcript: Transcript) -> list[Finding]:
        """Every finding in one call, in segment order (call-level findings last)."""
        segs = transcript.segments
        norms = [normalize(s.text) for s in segs]
        states: list = []  # who is on the line, computed when a rule first asks

        def state(i: int):
            if not states:
                states.extend(self.line.states([s.speaker for s in segs], [n.text for n in norms]))
            return states[i]
        docs: dict[int, object] = {}

        def doc(i: int):
            if i not in docs:
                docs[i] = self.tokenizer(norms[i].text)
            return docs[i]

        agent_turn = _agent_turns(segs)
        fired: dict[str, int] = {}  # rule id or category -> first segment it counted in
        customer = [(j, n.text) for j, (s, n) in enumerate(zip(segs, norms, strict=True)) if s.speaker == "customer"]
        findings: list[Finding] = []
        for i, (seg, norm) in enumerate(zip(segs, norms, strict=True)):
            raw = self.matcher.hits(norm.text, lambda i=i: doc(i), seg.speaker)
            found: list[Finding] = []
            # the learned model's hits last: a turn a pattern flagged for a category is not flagged again
            for rule_id in sorted(raw, key=lambda r: (raw[r][0].matcher == "classifier", r)):
                rule = self.rules[rule_id]
                for hit in raw[rule_id]:
                    if hit.matcher == "classifier" and any(f.category == rule.category for f in found):
                        continue
                    context = self._decide(rule, hit, i, seg, norm, lambda i=i: state(i), agent_turn[i], fired, customer, lambda i=i: doc(i))
                    if context is None:
                        continue
                    fired.setdefault(rule_id, i)
                    fired.setdefault(rule.category, i)
                    extra = (hit.note,) if hit.note else ()
                    found.append(self._finding(transcript, rule, i, seg, norm, hit.start, hit.end, hit.matcher, hit.pattern, extra + context, hit.score))
            findings.extend(found)
            if self.pii_rules:
                findings.extend(self._pii(transcript, i, seg, norm))
        findings.extend(self._required(transcript, norms, agent_turn))
        findings.extend(self._time(transcript))
        return findings

    def report(self, transcript: Transcript) -> CallReport:
        """Scan and score one call."""
        findings = tuple(self.scan(transcript))
        return CallReport(
            transcript=transcript,
            findings=findings,
            score=score_call(transcript.call_id, findings, self.lexicon.header.scoring),
            lexicon_version=self.lexicon.version,
            lexicon_hash=self.lexicon.content_hash,
            toolkit_version=__version__,
            scanned_at=datetime.now(UTC),
        )

    # -- context ---------------------------------------------------------------------------

    def _decide(self, rule: Rule, hit: Hit, i: int, seg: Segment, norm: NormText, state, turn, fired, customer, doc) -> tuple[str, ...] | None:
        """The context decisions that let a hit count, or None when one of them drops it."""
        ctx = rule.context
        notes = []
        if rule.speaker != "any" and seg.speaker != rule.speaker:
            return None
        notes.append(f"speaker={seg.speaker} (rule scope {rule.speaker})")
        if ctx.first_agent_turns is not None:
            if turn is None or turn >= ctx.first_agent_turns:
                return None
            notes.append(f"agent turn {turn + 1} of the first {ctx.first_agent_turns}")
        if ctx.line_state is not None:
            state = state()
            if state.state not in ctx.line_state:
                return None
            notes.append(f"line state={state.state}" + (f" ({state.reason})" if state.reason else " (identity not confirmed yet)"))
        if ctx.after_rule is not None:
            first = fired.get(ctx.after_rule)
            if first is None or first >= i:
                return None
            notes.append(f"after {ctx.after_rule} in segment {first}")
        if ctx.after_customer:
            said = next(((j, m.group()) for j, text in reversed(customer) if i - ctx.after_customer_within <= j < i
                         for p in self.after_customer[rule.id] if (m := p.search(text))), None)
            if said is None:
                return None
            notes.append(f"after the customer said {said[1]!r} in segment {said[0]}")
        if self.excludes[rule.id]:
            if excluded_by(self.excludes[rule.id], norm, hit.start, hit.end) is not None:
                return None
            notes.append("no exclusion nearby")
        if ctx.negation:
            if self.negation.negated_by(norm, hit.start, hit.end, doc) is not None:
                return None
            notes.append("not negated")
        return tuple(notes)

    # -- built-in recognizers, required statements, call time ---------------------------

    def _pii(self, transcript: Transcript, i: int, seg: Segment, norm: NormText) -> list[Finding]:
        out = []
        for p in find_pii_normalized(norm):
            for rule in self.pii_rules:
                if rule.recognizer == p.kind and (rule.speaker == "any" or rule.speaker == seg.speaker):
                    check = {"mobile": "mobile prefix", "id_card": "GB 11643 check digit", "bank_card": "Luhn check"}[p.kind]
                    out.append(self._finding(transcript, rule, i, seg, norm, p.start, p.end, "pii", p.kind, (f"{check} valid", f"speaker={seg.speaker}"), 1.0))
        return out

    def _required(self, transcript: Transcript, norms: list[NormText], agent_turn: list[int | None]) -> list[Finding]:
        out = []
        agent_idx = [i for i, t in enumerate(agent_turn) if t is not None]
        if not agent_idx:
            return out
        for rule in self.required_rules:
            within = rule.required.within_agent_turns
            window = [i for i in agent_idx if agent_turn[i] < within]
            said = any(rule.id in self.required_matcher.hits(norms[i].text, lambda i=i: self.tokenizer(norms[i].text)) for i in window)
            if said:
                continue
            context = (f"not said in the agent's first {len(window)} turn(s) (segments {window[0]}–{window[-1]})",)
            out.append(self._call_finding(transcript, rule, "absence", _match_label(rule), context))
        return out

    def _time(self, transcript: Transcript) -> list[Finding]:
        out = []
        if transcript.started_at is None:
            return out
        for rule in self.time_rules:
            tw = rule.time_window
            lo, hi = (time.fromisoformat(x) for x in tw.allowed.split("-"))
            started = transcript.started_at
            if started.tzinfo is None:
                started = started.replace(tzinfo=UTC)
            local = started.astimezone(ZoneInfo(tw.timezone))
            if lo <= local.time() < hi:
                continue
            context = (f"call started {local:%H:%M} {tw.timezone}, outside {tw.allowed}",)
            out.append(self._call_finding(transcript, rule, "metadata", f"allowed {tw.allowed}", context))
        return out

    # -- building findings ---------------------------------------------------------------

    def _finding(self, t: Transcript, rule: Rule, i: int, seg: Segment, norm: NormText, start: int, end: int, matcher: str, pattern: str, context: tuple[str, ...], score: float) -> Finding:
        a, b = norm.span(start, end)
        return Finding(
            call_id=t.call_id, segment=i, speaker=seg.speaker, category=rule.category, rule_id=rule.id,
            rule_version=rule.version, severity=rule.severity, start_char=a, end_char=b, text=seg.text[a:b],
            start=seg.start, end=seg.end, regulation=rule.regulation, description=rule.description,
            evidence=Evidence(matcher, pattern, context, score),
            lexicon_version=self.lexicon.version, lexicon_hash=self.lexicon.content_hash,
        )

    def _call_finding(self, t: Transcript, rule: Rule, matcher: str, pattern: str, context: tuple[str, ...]) -> Finding:
        return Finding(
            call_id=t.call_id, segment=None, speaker=None, category=rule.category, rule_id=rule.id,
            rule_version=rule.version, severity=rule.severity, start_char=None, end_char=None, text="",
            start=None, end=None, regulation=rule.regulation, description=rule.description,
            evidence=Evidence(matcher, pattern, context, 1.0),
            lexicon_version=self.lexicon.version, lexicon_hash=self.lexicon.content_hash,
        )


def _agent_turns(segs: tuple[Segment, ...]) -> list[int | None]:
    """For each segment, its 0-based index among the agent's turns (None for others)."""
    out, n = [], 0
    for s in segs:
        if s.speaker == "agent":
            out.append(n)
            n += 1
        else:
            out.append(None)
    return out


def _match_label(rule: Rule) -> str:
    m = rule.match
    parts = list(m.terms[:3]) + list(m.patterns[:2])
    return " | ".join(parts) or rule.id


def scan_transcript(transcript: Transcript, lexicon: Lexicon) -> CallReport:
    """Scan and score one transcript with ``lexicon`` (compiles the lexicon each call: use
    :class:`Scanner` for many calls)."""
    return Scanner(lexicon).report(transcript)
