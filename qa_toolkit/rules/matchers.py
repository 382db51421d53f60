"""Compiling a lexicon's ``match`` blocks and finding raw hits in one normalized segment.

One Aho-Corasick automaton holds every literal of every rule (terms, co-occurrence groups,
at-least lists, and the anchors of regex and token patterns); a second one holds the tone-less
pinyin of terms and of the words regex patterns require, long enough to match by sound. A segment
costs one pass of each automaton; regexes and spaCy ``Matcher`` patterns run only where their
anchors occurred.

Sound matching reads ASR homophones as the lexicon's words: a term matches where the text
sounds like it (做牢 for 坐牢); a regex whose required words are only there by sound runs once
more on the text with them put in (城关拍出所 read as 城关派出所, 已近力案 as 已经立案). Single
characters are never swapped (点 is not 垫), nor stretches that cut through a real word. Characters decide
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
from qa_toolkit.rules.anchors import AnchorSet, regex_anchors, regex_requirements, token_anchors
from qa_toolkit.rules.classifier import Classifier
from qa_toolkit.rules.schema import Rule
from qa_toolkit.text import pinyin
from qa_toolkit.text.tokens import Tokenizer

PATTERN_TIMEOUT = 0.5  # seconds one regex may take on one segment


@dataclass(frozen=True)
class Hit:
    """A raw match in normalized text, before context decides whether it counts."""

    start: int
    end: int
    matcher: str  # phrase | sound | regex | tokens | cooccur | classifier
    pattern: str
    note: str = ""
    score: float = 1.0  # how sure the matcher is: 0.8 for a sound-alike, the probability for the classifier


def _automaton(words: dict[str, list]) -> ahocorasick.Automaton | None:
    if not words:
        return None
    auto = ahocorasick.Automaton()
    for word, values in words.items():
        auto.add_word(word, (word, values))
    auto.make_automaton()
    return auto


@dataclass
class _Compiled:
    rule: Rule
    patterns: list[tuple[object, str, list[frozenset[str]]]]  # (compiled regex, source, required literal sets)
    token_keys: dict[str, str]  # Matcher key -> pattern source
    groups: list[list[str]]
    at_least: tuple[int, list[str]] | None


class RuleMatcher:
    """The ``match`` blocks of a set of rules, compiled for fast scanning.

    Every literal maps to what it triggers (a phrase hit, a regex or token pattern to run, a
    co-occurrence check), so a segment costs one automaton pass plus the work its literals ask for.

    Args:
        rules: Rules with a ``match`` block (others are ignored).
        tokenizer: The tokenizer that builds Docs for token patterns.
        classifier: The lexicon's learned model, for rules with ``match.classifier``.
    """

    def __init__(self, rules: list[Rule], tokenizer: Tokenizer, classifier: Classifier | None = None):
        self.tokenizer = tokenizer
        self.classifier = classifier
        self._learned = [(r.id, r.category, r.match.classifier.threshold, r.speaker) for r in rules if r.match and r.match.classifier]
        self.matcher = Matcher(tokenizer.vocab)
        self.compiled: dict[str, _Compiled] = {}
        by_term: dict[str, list[str]] = defaultdict(list)  # literal -> rules with it as a term
        by_pattern: dict[str, set[tuple[str, int]]] = defaultdict(set)  # anchor -> (rule, pattern)
        by_token: dict[str, set[str]] = defaultdict(set)  # anchor -> rules with token patterns
        by_group: dict[str, set[str]] = defaultdict(set)  # literal -> rules with all/at_least
        self._always_patterns: list[tuple[str, int]] = []
        self._always_tokens: set[str] = set()
        sounds: dict[str, list[tuple[str, str]]] = defaultdict(list)  # syllable codes -> (rule id, term)
        sound_words: dict[str, list[tuple[str, int, str]]] = defaultdict(list)  # codes -> (rule id, pattern, word)
        for rule in rules:
            m = rule.match
            if m is None:
                continue
            patterns = []
            for i, source in enumerate(m.patterns):
                requires = regex_requirements(source)
                patterns.append((regex.compile(source), source, requires))
                anchors = regex_anchors(source)
                if anchors is None:
                    self._always_patterns.append((rule.id, i))
                for a in anchors or ():
                    by_pattern[a].add((rule.id, i))
            token_keys = {}
            for i, tpat in enumerate(m.tokens):
                key = f"{rule.id}#{i}"
                try:
                    self.matcher.add(key, [tpat])
                except (ValueError, TypeError, KeyError) as err:
                    raise LexiconError(f"rule {rule.id}: bad token pattern {i}: {err}".splitlines()[0]) from None
                token_keys[key] = str(tpat)
                anchors = token_anchors(tpat)
                if anchors is None:
                    self._always_tokens.add(rule.id)
                for a in anchors or ():
                    by_token[a].add(rule.id)
            at_least = (m.at_least.n, list(m.at_least.terms)) if m.at_least else None
            self.compiled[rule.id] = _Compiled(rule, patterns, token_keys, [list(g) for g in m.all], at_least)
            for term in dict.fromkeys(m.terms):
                by_term[term].append(rule.id)
            for t in {t for g in m.all for t in g} | set(at_least[1] if at_least else ()):
                by_group[t].add(rule.id)
            if m.sound_min_chars:
                for term in m.terms:
                    if len(term) >= m.sound_min_chars:
                        for codes in pinyin.term_codes(term):
                            sounds[codes].append((rule.id, term))
                for i, (_pattern, _source, requires) in enumerate(patterns):
                    for word in sorted({w for req in requires for w in req}):
                        if len(word) >= max(2, m.sound_min_chars) and pinyin.is_chinese(word):
                            for codes in pinyin.term_codes(word):
                                sound_words[codes].append((rule.id, i, word))
        required = {w for c in self.compiled.values() for *_, reqs in c.patterns for req in reqs for w in req}
        literals = set(by_term) | set(by_pattern) | set(by_token) | set(by_group) | required
        # each literal carries what it triggers: (rules with it as a term, patterns, token rules, group rules)
        triggers = {
            w: (tuple(by_term.get(w, ())), frozenset(by_pattern.get(w, ())), frozenset(by_token.get(w, ())),
                frozenset(by_group.get(w, ())))
            for w in literals
        }
        # single characters only needed for their presence (你, 去) are looked up in the segment's
        # character set instead of being reported, occurrence by occurrence, by the automaton
        self._chars = {w: t for w, t in triggers.items() if len(w) == 1 and not t[0] and not t[3]}
        self._char_keys = frozenset(self._chars)
        self._literals = _automaton({w: t for w, t in triggers.items() if w not in self._chars})
        self._sounds = _automaton({k: (tuple(sounds.get(k, ())), tuple(sound_words.get(k, ()))) for k in set(sounds) | set(sound_words)})

    def hits(self, text: str, doc: Callable[[], Doc], speaker: str | None = None) -> dict[str, list[Hit]]:
        """Raw hits per rule id in one normalized segment.

        Args:
            text: Normalized segment text.
            doc: Returns the segment's Doc (built only if a token pattern needs it).
            speaker: Who said it, when known: the classifier is asked only for rules in scope.
        """
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)  # literal -> spans
        chars = self._char_keys.intersection(text)
        triggers = {c: self._chars[c] for c in chars}
        if self._literals is not None:
            for end, (word, trig) in self._literals.iter(text):
                found[word].append((end - len(word) + 1, end + 1))
                triggers[word] = trig
        out: dict[str, list[Hit]] = defaultdict(list)
        patterns = set(self._always_patterns)
        token_rules = set(self._always_tokens)
        group_rules: set[str] = set()
        for word, (term_rules, pats, toks, groups) in triggers.items():
            for rule_id in term_rules:
                out[rule_id].extend(Hit(s, e, "phrase", word) for s, e in found[word])
            patterns |= pats
            token_rules |= toks
            group_rules |= groups
        heard: dict[tuple[str, int], list[tuple[int, int, str]]] = defaultdict(list)  # (rule, pattern) -> words heard
        if self._sounds is not None and len(text) >= 2:
            codes = pinyin.to_codes(text)  # same length as text: offsets carry over
            for end, (key, (owners, word_owners)) in self._sounds.iter(codes):
                s, e = end - len(key) + 1, end + 1
                if _surname(text, s):
                    continue
                for rule_id, term in owners:
                    if text[s:e] != term:
                        out[rule_id].append(Hit(s, e, "sound", term, f"sounds like {term} ({pinyin.plain(term)})", 0.8))
                for rule_id, i, word in word_owners:
                    if text[s:e] != word:
                        heard[rule_id, i].append((s, e, word))
        present = chars.union(found)
        matched: set[tuple[str, int]] = set()
        for rule_id, i in patterns:
            pattern, source, requires = self.compiled[rule_id].patterns[i]
            if _has_required(requires, present):  # else a literal the pattern needs is missing
                spans = [(s, e) for s, e in _bounded_spans(pattern, text, rule_id, source) if e > s]
                out[rule_id].extend(Hit(s, e, "regex", source) for s, e in spans)
                if spans:
                    matched.add((rule_id, i))
        for (rule_id, i), words in heard.items():
            comp = self.compiled[rule_id]
            # as for the text itself: only when every literal the pattern needs is there, said or heard
            if (rule_id, i) not in matched and _has_required(comp.patterns[i][2], present.union(w for *_, w in words)):
                out[rule_id].extend(self._heard_hits(comp, i, text, words))
        if token_rules:
            d = doc()
            for key, start, end in self.matcher(d):
                rule_id = d.vocab.strings[key].rpartition("#")[0]
                if rule_id in token_rules:
                    span = d[start:end]
                    out[rule_id].append(Hit(span.start_char, span.end_char, "tokens", self.compiled[rule_id].token_keys[d.vocab.strings[key]]))
        for rule_id in group_rules:
            out[rule_id].extend(_group_hits(self.compiled[rule_id], found))
        learned = [r for r in self._learned if speaker is None or r[3] in ("any", speaker)]
        if learned and text.strip():
            probabilities = self.classifier.probabilities(text)
            for rule_id, category, threshold, _scope in learned:
                p = probabilities[category]
                if p >= threshold:
                    words = "、".join(self.classifier.explain(text, category))
                    out[rule_id].append(Hit(0, len(text), "classifier", f"{category} model p >= {threshold}",
                                            f"model: {category} p={p:.2f} (words: {words})", round(p, 3)))
        return {rid: _dedupe(h) for rid, h in out.items() if h}

    def _heard_hits(self, comp: _Compiled, i: int, text: str, words: list[tuple[int, int, str]]) -> list[Hit]:
        """Hits of pattern ``i`` on ``text`` with the pattern's words it sounds like put in (same length).

        A stretch that cuts through a real word is not swapped (合同计收 does not hold 通缉), nor
        is a surname being given (我姓鞠 is not 刑拘).
        """
        swaps: list[tuple[int, int, str]] = []
        for s, e, word in sorted(words, key=lambda w: (-(w[1] - w[0]), w[0])):
            if all(e <= a or s >= b for a, b, _ in swaps) and not self.tokenizer.cuts_a_word(text, s, e) and not _surname(text, s):
                swaps.append((s, e, word))
        swaps.sort()
        chars = list(text)
        for s, e, word in swaps:
            chars[s:e] = word
        heard_text = "".join(chars)
        pattern, source, _requires = comp.patterns[i]
        hits = []
        for s, e in _bounded_spans(pattern, heard_text, comp.rule.id, source):
            used = [(a, b) for a, b, _ in swaps if a < e and b > s]
            if e > s and used:
                said = ", ".join(f"{text[a:b]}→{heard_text[a:b]}" for a, b in used)
                hits.append(Hit(s, e, "sound", source, f"sounds like the pattern ({said})", 0.8))
        return hits


def _surname(text: str, start: int) -> bool:
    """Whether ``text[start:]`` gives a surname: "我姓鞠", "免贵姓邢" (never a sound match)."""
    return text.startswith("姓", start) and (start == 0 or text[start - 1] in "我您你他她佢贵")


def _has_required(requires: list[AnchorSet], present: set[str]) -> bool:
    """Whether ``present`` holds a literal of every alternative set a pattern requires."""
    return all(not req.isdisjoint(present) for req in requires)


def _group_hits(comp: _Compiled, found: dict[str, list[tuple[int, int]]]) -> list[Hit]:
    """Co-occurrence (``all``) and ``at_least`` hits of one rule, from the literals found."""
    hits = []
    if comp.groups:
        firsts = [min((sp for t in g for sp in found.get(t, ())), default=None) for g in comp.groups]
        if all(f is not None for f in firsts):
            s, e = min(f[0] for f in firsts), max(f[1] for f in firsts)
            hits.append(Hit(s, e, "cooccur", " + ".join("|".join(g) for g in comp.groups)))
    if comp.at_least:
        n, terms = comp.at_least
        present = [t for t in terms if t in found]
        if len(present) >= n:
            spans = [found[t][0] for t in present]
            s, e = min(sp[0] for sp in spans), max(sp[1] for sp in spans)
            hits.append(Hit(s, e, "cooccur", f"at least {n} of " + "|".join(terms), "found " + ", ".join(present)))
    return hits


def _bounded_spans(pattern, text: str, rule_id: str, source: str) -> list[tuple[int, int]]:
    """Spans of every match, or a LexiconError when the pattern runs past PATTERN_TIMEOUT."""
    try:
        return [m.span() for m in pattern.finditer(text, timeout=PATTERN_TIMEOUT)]
    except TimeoutError:
        raise LexiconError(f"rule {rule_id}: pattern {source!r} ran past {PATTERN_TIMEOUT} s on a {len(text)}-character "
                           "segment (catastrophic backtracking, e.g. (a|aa)+); rewrite it without nested repeats") from None


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """Non-overlapping hits, longest first at each place; exact matches beat sound matches."""
    rank = {"phrase": 0, "regex": 0, "tokens": 0, "cooccur": 1, "sound": 2, "classifier": 3}
    ordered = sorted(hits, key=lambda h: (rank[h.matcher], -(h.end - h.start), h.start))
    kept: list[Hit] = []
    for h in ordered:
        if all(h.end <= k.start or h.start >= k.end for k in kept):
            kept.append(h)
    return sorted(kept, key=lambda h: h.start)
