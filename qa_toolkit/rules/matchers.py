"""Compiling a lexicon's ``match`` blocks and finding raw hits in one normalized segment.

One Aho-Corasick automaton holds every literal of every rule (terms, co-occurrence groups,
at-least lists, and the anchors of regex and token patterns); a second one holds the tone-less
pinyin of terms long enough to match by sound. A segment costs one pass of each automaton;
regexes and spaCy ``Matcher`` patterns run only where their anchors occurred. Characters decide
phrases (so jieba's segmentation cannot hide a term); tokens decide token patterns.

Regexes run on the ``regex`` engine (``re``-compatible) with a time bound per pattern and
segment (:data:`PATTERN_TIMEOUT`): a pattern that backtracks catastrophically raises a
:class:`~qa_toolkit.errors.LexiconError` naming the rule instead of hanging the scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import ahocorasick
import regex
from spacy.matcher import Matcher
from spacy.tokens import Doc

from qa_toolkit.errors import LexiconError
from qa_toolkit.rules.anchors import regex_anchors, token_anchors
from qa_toolkit.rules.schema import Rule
from qa_toolkit.text import pinyin
from qa_toolkit.text.tokens import Tokenizer

PATTERN_TIMEOUT = 0.5  # seconds one regex may take on one segment


@dataclass(frozen=True)
class Hit:
    """A raw match in normalized text, before context decides whether it counts."""

    start: int
    end: int
    matcher: str  # phrase | sound | regex | tokens | cooccur
    pattern: str
    note: str = ""


@dataclass
class _Compiled:
    rule: Rule
    terms: list[str]
    sound_terms: set[str]
    patterns: list[tuple[object, frozenset[str] | None, str]]  # (regex, anchors, source)
    token_keys: list[tuple[str, frozenset[str] | None, str]]
    groups: list[list[str]]
    at_least: tuple[int, list[str]] | None


def _automaton(words: dict[str, list]) -> ahocorasick.Automaton | None:
    if not words:
        return None
    auto = ahocorasick.Automaton()
    for word, values in words.items():
        auto.add_word(word, (word, values))
    auto.make_automaton()
    return auto


class RuleMatcher:
    """The ``match`` blocks of a set of rules, compiled for fast scanning.

    Args:
        rules: Rules with a ``match`` block (others are ignored).
        tokenizer: The tokenizer that builds Docs for token patterns.
    """

    def __init__(self, rules: list[Rule], tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.matcher = Matcher(tokenizer.vocab)
        self.compiled: dict[str, _Compiled] = {}
        literals: dict[str, list[str]] = defaultdict(list)  # literal -> rule ids
        sounds: dict[str, list[tuple[str, str]]] = defaultdict(list)  # cells -> (rule id, term)
        self.unanchored: set[str] = set()
        for rule in rules:
            m = rule.match
            if m is None:
                continue
            patterns = []
            for source in m.patterns:
                anchors = regex_anchors(source)
                patterns.append((regex.compile(source), anchors, source))
            token_keys = []
            for i, tpat in enumerate(m.tokens):
                key = f"{rule.id}#{i}"
                try:
                    self.matcher.add(key, [tpat])
                except (ValueError, TypeError, KeyError) as err:
                    raise LexiconError(f"rule {rule.id}: bad token pattern {i}: {err}".splitlines()[0]) from None
                token_keys.append((key, token_anchors(tpat), str(tpat)))
            at_least = (m.at_least.n, list(m.at_least.terms)) if m.at_least else None
            comp = _Compiled(rule, list(m.terms), set(), patterns, token_keys, [list(g) for g in m.all], at_least)
            self.compiled[rule.id] = comp
            words = set(m.terms) | {t for g in m.all for t in g} | set(at_least[1] if at_least else ())
            for _, anchors, _ in patterns + token_keys:
                if anchors is None:
                    self.unanchored.add(rule.id)
                else:
                    words |= anchors
            for w in words:
                literals[w].append(rule.id)
            if m.sound_min_chars:
                for term in m.terms:
                    if len(term) >= m.sound_min_chars:
                        for cells in pinyin.term_cells(term):
                            sounds[cells].append((rule.id, term))
                            comp.sound_terms.add(term)
        self._literals = _automaton(literals)
        self._sounds = _automaton(sounds)

    def hits(self, text: str, doc: Callable[[], Doc]) -> dict[str, list[Hit]]:
        """Raw hits per rule id in one normalized segment.

        Args:
            text: Normalized segment text.
            doc: Returns the segment's Doc (built only if a token pattern needs it).
        """
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)  # literal -> spans
        if self._literals is not None:
            for end, (word, _rules) in self._literals.iter(text):
                found[word].append((end - len(word) + 1, end + 1))
        candidates = set(self.unanchored)
        if self._literals is not None:
            for word in found:
                candidates.update(self._literals.get(word)[1])
        out: dict[str, list[Hit]] = defaultdict(list)
        if self._sounds is not None and len(text) >= 2:
            cells = pinyin.to_cells(text)
            for end, (key, owners) in self._sounds.iter(cells):
                begin = end - len(key) + 1
                if begin % pinyin.CELL:
                    continue
                s = begin // pinyin.CELL
                e = s + len(key) // pinyin.CELL
                for rule_id, term in owners:
                    if text[s:e] != term:
                        note = f"sounds like {term} ({pinyin.plain(term)})"
                        out[rule_id].append(Hit(s, e, "sound", term, note))
        matches = None
        for rule_id in candidates:
            comp = self.compiled[rule_id]
            hits = out[rule_id]
            for term in comp.terms:
                hits.extend(Hit(s, e, "phrase", term) for s, e in found.get(term, ()))
            for pattern, anchors, source in comp.patterns:
                if anchors is None or any(a in found for a in anchors):
                    hits.extend(Hit(s, e, "regex", source) for s, e in _bounded_spans(pattern, text, rule_id, source) if e > s)
            if comp.token_keys and any(a is None or any(x in found for x in a) for _, a, _ in comp.token_keys):
                if matches is None:
                    d = doc()
                    matches = [(d.vocab.strings[k], d[s:e]) for k, s, e in self.matcher(d)]
                keys = {k: src for k, _, src in comp.token_keys}
                hits.extend(
                    Hit(span.start_char, span.end_char, "tokens", keys[key]) for key, span in matches if key in keys
                )
            if comp.groups:
                firsts = [min((sp for t in g for sp in found.get(t, ())), default=None) for g in comp.groups]
                if all(f is not None for f in firsts):
                    s, e = min(f[0] for f in firsts), max(f[1] for f in firsts)
                    label = " + ".join("|".join(g) for g in comp.groups)
                    hits.append(Hit(s, e, "cooccur", label))
            if comp.at_least:
                n, terms = comp.at_least
                present = [t for t in terms if t in found]
                if len(present) >= n:
                    spans = [found[t][0] for t in present]
                    s, e = min(sp[0] for sp in spans), max(sp[1] for sp in spans)
                    hits.append(Hit(s, e, "cooccur", f"at least {n} of " + "|".join(terms), "found " + ", ".join(present)))
        return {rid: _dedupe(h) for rid, h in out.items() if h}


def _bounded_spans(pattern, text: str, rule_id: str, source: str) -> list[tuple[int, int]]:
    """Spans of every match, or a LexiconError when the pattern runs past PATTERN_TIMEOUT."""
    try:
        return [m.span() for m in pattern.finditer(text, timeout=PATTERN_TIMEOUT)]
    except TimeoutError:
        raise LexiconError(f"rule {rule_id}: pattern {source!r} ran past {PATTERN_TIMEOUT} s on a {len(text)}-character "
                           "segment (catastrophic backtracking, e.g. (a|aa)+); rewrite it without nested repeats") from None


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits, longest first at each place; exact matches beat sound matches."""
    rank = {"phrase": 0, "regex": 0, "tokens": 0, "cooccur": 1, "sound": 2}
    ordered = sorted(hits, key=lambda h: (rank[h.matcher], -(h.end - h.start), h.start))
    kept: list[Hit] = []
    for h in ordered:
        if all(h.end <= k.start or h.start >= k.end for k in kept):
            kept.append(h)
    return sorted(kept, key=lambda h: h.start)
