"""Literal anchors: strings one of which must occur wherever a pattern can match.

The scanner runs one Aho-Corasick pass over a segment for every rule's anchors and evaluates a
regex or token pattern only where one of its anchors occurred; a pattern without a usable anchor
runs on every segment. Anchors come from the regex's parse tree, so rule authors write plain
regular expressions and never list anchors by hand.
"""

from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as parser
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as parser  # type: ignore[no-redef]

AnchorSet = frozenset[str]


def _best(candidates: list[AnchorSet]) -> AnchorSet | None:
    """The most selective candidate: longest shortest literal, then fewest alternatives."""
    usable = [c for c in candidates if c and all(c)]
    if not usable:
        return None
    return max(usable, key=lambda c: (min(len(s) for s in c), -len(c)))


def _candidates(items) -> list[AnchorSet]:
    out: list[AnchorSet] = []
    run = ""
    for op, av in items:
        if op is C.LITERAL:
            run += chr(av)
            continue
        if run:
            out.append(frozenset([run]))
            run = ""
        if op is C.SUBPATTERN:
            out.extend(_candidates(av[-1]))
        elif op is C.BRANCH:
            per_branch = [_best(_candidates(branch)) for branch in av[1]]
            if all(b is not None for b in per_branch):
                out.append(frozenset().union(*per_branch))
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = av
            if low >= 1:
                out.extend(_candidates(sub))
        elif op is C.IN:
            if all(o is C.LITERAL for o, _ in av):
                out.append(frozenset(chr(v) for _, v in av))
    if run:
        out.append(frozenset([run]))
    return out


def regex_requirements(pattern: str) -> list[AnchorSet]:
    """Every literal set the pattern requires: each match contains one literal of *each* set.

    >>> sorted(map(sorted, regex_requirements("(去|到)你.{0,4}(单位|公司)")))
    [['你'], ['公司', '单位'], ['到', '去']]
    """
    return [c for c in _candidates(parser.parse(pattern)) if c and all(c)]


def regex_anchors(pattern: str) -> AnchorSet | None:
    """Literals one of which every match of ``pattern`` contains, or None if none is known.

    >>> sorted(regex_anchors("(去|到)你.{0,4}(单位|公司)"))
    ['公司', '单位']
    """
    return _best(_candidates(parser.parse(pattern)))


def _token_values(spec: dict) -> AnchorSet | None:
    for key in ("ORTH", "TEXT", "LOWER", "NORM"):
        value = spec.get(key)
        if isinstance(value, str):
            return frozenset([value])
        if isinstance(value, dict) and isinstance(value.get("IN"), list):
            return frozenset(str(v) for v in value["IN"])
        if isinstance(value, dict) and isinstance(value.get("REGEX"), str):
            return regex_anchors(value["REGEX"])
    return None


def token_anchors(pattern: list[dict]) -> AnchorSet | None:
    """Anchors of a spaCy ``Matcher`` pattern: the values of one token that must be present."""
    candidates = []
    for spec in pattern:
        if spec.get("OP", "") in ("", "+", "!") or re.fullmatch(r"\{[1-9]\d*(,\d*)?\}", spec.get("OP", "")):
            if spec.get("OP") == "!":
                continue
            values = _token_values(spec)
            if values:
                candidates.append(values)
    return _best(candidates)
