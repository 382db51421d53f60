"""The shared context step: whether a raw hit counts, and why.

Rules say what to look for; this module decides, the same way for every rule:

* **who is on the line** — a state machine over the call: ``unknown`` until the customer
  answers the agent's identity question (``debtor``) or says they are someone else
  (``third_party``: a relative, a colleague, a wrong number);
* **negation with scope** — a cue (不会, 没有, 不允许, …) in the same clause shortly before the hit
  cancels it, unless a breaker (就, 否则, 的话, …) stands between, or an imperative cue (不要, 别)
  negates a causative verb (逼, 让) rather than the hit:
  "我们不会上门" is not a threat, "不还就上门" and "不要逼我们上门" are;
* **exclusions** — a rule's own regexes checked in a window around the hit.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from spacy.tokens import Doc

from qa_toolkit.rules.schema import LineStateCues, NegationCues
from qa_toolkit.text.normalize import NormText

CLAUSE_PUNCT = set(",.!?;:~\"'()[]")
CLAUSE_ENDINGS = {"了", "过", "的", "啊", "吧", "呢", "吗", "嘛", "呀"}  # a 、 after these ends a clause
EXCLUDE_WINDOW = 12


@dataclass(frozen=True)
class LineState:
    """Who the agent is talking to when a segment is spoken, and what decided it."""

    state: str  # unknown | debtor | third_party
    reason: str = ""


class LineTracker:
    """Follows the on-the-line state through a call.

    Args:
        cues: The regexes of ``lexicon.yaml``'s ``line_state`` block.
    """

    def __init__(self, cues: LineStateCues):
        join = lambda ps: re.compile("|".join(f"(?:{p})" for p in ps)) if ps else None  # noqa: E731
        self.verify = join(cues.verify_question)
        self.affirms = join(cues.debtor_affirms)
        self.proves = join(cues.debtor_proves)
        self.statements = join(cues.debtor_statements)
        self.third = join(cues.third_party)
        self.handover = join(cues.handover)
        self.agent_third = join(cues.agent_third_party)

    def states(self, speakers: list[str], texts: list[str]) -> list[LineState]:
        """The state in force when each segment is spoken (normalized texts).

        Who was on the line is a fact of the whole call: when the person turns out to be a third
        party before ever confirming to be the debtor, what the agent said to them earlier was
        said to a third party too, and those segments get that state. When the very next answer
        shows the debtor ("你那笔三千六拖了二十天了" answered by "我知道, 最近没钱"), the agent's
        turns since the previous answer were said to the debtor; after "你谁啊?" they were not.
        """
        state = LineState("unknown")
        asked = False
        out: list[LineState] = []
        since_answer = 0  # first segment after the customer's last turn
        for i, (speaker, text) in enumerate(zip(speakers, texts, strict=True)):
            out.append(state)
            before = state
            if speaker == "agent":
                if self.verify.search(text):
                    asked = True
                if self.agent_third is not None and state.state == "unknown" and (m := self.agent_third.search(text)):
                    state = LineState("third_party", f"agent said {m.group()!r} in segment {i}")
            elif speaker == "customer":
                third = self.third if state.state != "debtor" else self.handover
                if third is not None and (m := third.search(text)):
                    state = LineState("third_party", f"customer said {m.group()!r} in segment {i}")
                elif self.statements is not None and (m := self.statements.search(text)):
                    state = LineState("debtor", f"customer said {m.group()!r} in segment {i}")
                elif asked and self.proves is not None and (m := self.proves.search(text)):
                    state = LineState("debtor", f"customer answered the identity check ({m.group()!r}) in segment {i}")
                    asked = False
                elif asked and (m := self.affirms.search(text)):
                    if state.state != "third_party":
                        state = LineState("debtor", f"customer confirmed identity ({m.group()!r}) in segment {i}")
                    asked = False
            if before.state == "unknown" and state.state == "third_party":
                later = LineState("third_party", f"{state.reason}; revealed after this segment")
                out = [later if s.state == "unknown" else s for s in out]
                if speaker == "agent":
                    out[-1] = state
            elif before.state == "unknown" and state.state == "debtor" and speaker == "customer":
                later = LineState("debtor", f"{state.reason}, the answer to this segment")
                out[since_answer:i] = [later if s.state == "unknown" else s for s in out[since_answer:i]]
            if speaker == "customer":
                since_answer = i + 1
        return out


class Negation:
    """Decides whether a negation cue scopes over a hit, on jieba tokens.

    Args:
        cues: The ``negation`` block of ``lexicon.yaml``.
    """

    def __init__(self, cues: NegationCues):
        self.cues = set(cues.cues)
        self.breakers = set(cues.breakers)
        self.causatives = set(cues.causatives)
        self.imperatives = set(cues.imperatives)
        self.conditions = tuple(cues.conditions)
        self.condition_cues = frozenset(cues.condition_cues)
        self.after = re.compile("|".join(re.escape(a) for a in cues.after)) if cues.after else None
        self.max_tokens = cues.max_tokens
        self.cue_starts = frozenset(c[0] for c in self.cues)

    def _breaks(self, word: str) -> bool:
        """A breaker, also glued to a neighbour by jieba (就让, 那就)."""
        return any(word.startswith(b) or word.endswith(b) for b in self.breakers)

    def negated_by(self, norm: NormText, start: int, end: int, doc: Callable[[], Doc]) -> str | None:
        """The cue that negates the hit ``[start, end)`` of ``norm.text``, or None.

        Walking back from the hit, a causative verb passed on the way means the cue negates the
        causing, not the hit: an imperative cue then leaves the hit standing ("不要逼我们上门",
        "别让我们上门"), a plain one still negates it ("我们不会让你坐牢"). ``doc`` builds the
        tokens of ``text``; it is called only when a cue's first character occurs in the clause
        before the hit (the walk never leaves that clause), so most hits need no segmentation.
        An enumeration comma (、, a "," in the normalized text) joins items of one clause:
        "不会有抓人、坐牢这种事" negates both; after a finished clause ("都没了、工作丢了") it
        ends the scope as a comma does.
        """
        text = norm.text
        lists = _list_commas(norm)
        clause = text[: start]
        cut = len(clause)
        while (cut := max(clause.rfind(p, 0, cut) for p in CLAUSE_PUNCT)) in lists:
            pass  # an enumeration comma: the clause goes on before it
        if self.cue_starts.isdisjoint(clause[cut + 1 :]):
            return self._negated_after(text, end)
        return self._negated_before(doc(), start, lists) or self._negated_after(text, end)

    def _negated_after(self, text: str, end: int) -> str | None:
        """A cue right after the hit, in its clause: "上门是不会的"."""
        if self.after is None:
            return None
        tail = text[end : end + 8]
        cut = min((tail.find(p) for p in ".!?;" if p in tail), default=len(tail))
        m = self.after.match(tail[: max(cut, 0)].lstrip(","))
        return m.group() if m else None

    def _negated_before(self, doc: Doc, start: int, lists: frozenset[int]) -> str | None:
        ends = doc.user_data["ends"]  # set by Tokenizer
        first = bisect.bisect_right(ends, start)
        if first < len(doc) and doc[first].idx < start and doc[first].text in self.cues:
            return doc[first].text  # the cue token runs into the hit: 不会|后悔
        # "不还的老赖": a cue before 的 sits in a modifier of the hit, not over it
        scope = doc[:first] if not (first > 0 and doc[first - 1].text == "的") else doc[:0]
        seen = 0
        causative = False
        for tok in reversed(scope):
            word = tok.text
            if word in self.cues:
                nxt = doc[tok.i + 1].text if tok.i + 1 < len(doc) else ""
                if word in self.condition_cues and any(nxt.startswith(c) for c in self.conditions):
                    return None  # "不还(就)…": the cue negates a condition, the hit is its consequence
                return None if causative and word in self.imperatives else word
            if word == "," and tok.idx in lists and tok.i > 0 and doc[tok.i - 1].text[-1] not in CLAUSE_ENDINGS:
                continue  # an enumeration comma after an item, not after a finished clause (都没了、…)
            if word in CLAUSE_PUNCT or self._breaks(word):
                break
            causative = causative or any(word.startswith(c) for c in self.causatives)
            seen += 1
            if seen >= self.max_tokens:
                break
        return None


def _list_commas(norm: NormText) -> frozenset[int]:
    """Positions in ``norm.text`` of the commas that were an enumeration comma (、) as spoken."""
    if "、" not in norm.original:
        return frozenset()
    at = norm.offsets
    return frozenset(i for i, ch in enumerate(norm.text) if ch == "," and norm.original[at[i] if at else i] == "、")


def excluded_by(patterns: list[re.Pattern[str]], norm: NormText, start: int, end: int) -> str | None:
    """The first exclusion regex found within ``EXCLUDE_WINDOW`` characters of the hit."""
    window = norm.text[max(0, start - EXCLUDE_WINDOW) : end + EXCLUDE_WINDOW]
    for p in patterns:
        if m := p.search(window):
            return m.group()
    return None
