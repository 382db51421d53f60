"""The lexicon schema: what a YAML rule file may say, checked before anything runs.

A lexicon is a folder: ``lexicon.yaml`` (name, version, context cues, scoring policy) and one
file per category holding ``rules``. Each rule says *what to look for*; the shared context step
(:mod:`qa_toolkit.rules.context`) decides whether a hit counts.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Category = Literal["threat", "harassment", "disclosure", "deception", "procedure", "pii", "vulnerability"]
Severity = Literal["low", "medium", "high", "critical"]
SpeakerScope = Literal["agent", "customer", "any"]
LineState = Literal["unknown", "debtor", "third_party"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise ValueError(f"bad regular expression {value!r}: {err}") from None
    if _nested_repeat(value):
        raise ValueError(f"regular expression {value!r} repeats a repeat, which can take exponential time "
                         "(catastrophic backtracking); repeat once, e.g. (a+)+ -> a+")
    return value


def _nested_repeat(value: str) -> bool:
    """True when a pattern holds an ``(x+)+``: an unbounded repeat whose body, groups aside, is
    itself only an unbounded repeat. (The scan also bounds every pattern's time.)"""
    from re import _constants as C
    from re import _parser as parser

    repeats = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT))

    def only_repeat(items) -> bool:
        items = list(items)
        while len(items) == 1 and items[0][0] is C.SUBPATTERN:
            items = list(items[0][1][-1])
        return len(items) == 1 and items[0][0] in repeats and items[0][1][1] == C.MAXREPEAT

    def walk(items) -> bool:
        for op, av in items:
            if op in repeats:
                if av[1] == C.MAXREPEAT and only_repeat(av[2]):
                    return True
                if walk(av[2]):
                    return True
            elif op is C.SUBPATTERN and walk(av[-1]):
                return True
            elif op is C.BRANCH and any(walk(b) for b in av[1]):
                return True
        return False

    return walk(parser.parse(value))


class AtLeast(Strict):
    """Match when at least ``n`` different terms of the list occur in the segment."""

    n: int = Field(ge=2)
    terms: list[str] = Field(min_length=2)


class ClassifierMatch(Strict):
    """The lexicon's learned model (:mod:`qa_toolkit.rules.classifier`) says the rule's
    category with at least this probability."""

    threshold: float = Field(ge=0.5, lt=1.0)


class Match(Strict):
    """What a rule looks for in one segment; any listed matcher hitting is a hit.

    Attributes:
        terms: Exact phrases, matched on characters of the normalized text; also matched by
            sound (tone-less pinyin) when at least ``sound_min_chars`` long.
        patterns: Regular expressions over the normalized text (gaps: ``.{0,6}``).
        tokens: spaCy ``Matcher`` patterns over jieba tokens (a list of token dicts each).
        all: Groups of terms that must all occur in the segment (any term per group).
        at_least: At least N different terms of a list.
        classifier: The learned model's probability for the rule's category, at least a threshold.
        sound_min_chars: Minimum term length for sound-alike matching (0 turns it off).
    """

    terms: list[str] = []
    patterns: list[str] = []
    tokens: list[list[dict]] = []
    all: list[list[str]] = []
    at_least: AtLeast | None = None
    classifier: ClassifierMatch | None = None
    sound_min_chars: int = Field(default=3, ge=0)

    _regex = field_validator("patterns")(lambda cls, v: [_check_regex(p) for p in v])

    @model_validator(mode="after")
    def _not_empty(self) -> Match:
        if not (self.terms or self.patterns or self.tokens or self.all or self.at_least or self.classifier):
            raise ValueError("match needs at least one of terms, patterns, tokens, all, at_least, classifier")
        if any(len(group) == 0 for group in self.all):
            raise ValueError("every group in `all` needs at least one term")
        return self


class Context(Strict):
    """When a hit counts. Applied by the shared context step, not by the matchers.

    Attributes:
        negation: A negation cue scoping over the hit cancels it (不会上门 vs 不还就上门).
        line_state: Count the hit only while the person on the line is in one of these states.
        first_agent_turns: Count the hit only within the agent's first N turns.
        exclude: Regexes; a hit whose clause (±6 characters) matches one is dropped.
        after_rule: Count the hit only after this rule (an id) or any rule of this category
            (a category name) counted in an earlier segment.
        after_customer: Regexes; count the hit only when the customer said one of them in the
            ``after_customer_within`` segments before it ("别再打了", "我在医院" -> pressing on).
        after_customer_within: How far back ``after_customer`` looks, in segments.
    """

    negation: bool = True
    line_state: list[LineState] | None = None
    first_agent_turns: int | None = Field(default=None, ge=1)
    exclude: list[str] = []
    after_rule: str | None = None
    after_customer: list[str] = []
    after_customer_within: int = Field(default=6, ge=1)

    _regex = field_validator("exclude", "after_customer")(lambda cls, v: [_check_regex(p) for p in v])


class Required(Strict):
    """A statement the agent must make: a call-level finding when it was never said."""

    within_agent_turns: int = Field(default=3, ge=1)


class TimeWindow(Strict):
    """Call metadata rule: the call started outside the allowed hours."""

    allowed: str = Field(default="08:00-22:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    timezone: str = "Asia/Shanghai"


class DialogueExample(Strict):
    """A hand-written dialogue; lines start with ``A:`` (agent) or ``C:`` (customer)."""

    dialogue: list[str] = Field(min_length=1)
    started_at: str | None = None

    @field_validator("dialogue")
    @classmethod
    def _speakers(cls, lines: list[str]) -> list[str]:
        for line in lines:
            if not re.match(r"^[AC][:：]", line):
                raise ValueError(f"dialogue line must start with 'A:' or 'C:': {line!r}")
        return lines


Example = str | DialogueExample


class Examples(Strict):
    match: list[Example] = Field(min_length=1)
    no_match: list[Example] = Field(min_length=1)


class Rule(Strict):
    """One rule of a lexicon file."""

    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    version: int = Field(default=1, ge=1)
    category: Category
    severity: Severity
    speaker: SpeakerScope = "agent"
    description: str = Field(min_length=4)
    regulation: str = Field(min_length=2)
    rewrite: str = ""
    match: Match | None = None
    recognizer: Literal["mobile", "id_card", "bank_card"] | None = None
    required: Required | None = None
    time_window: TimeWindow | None = None
    context: Context = Context()
    examples: Examples

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        kinds = [self.match is not None and self.required is None, self.recognizer is not None,
                 self.required is not None, self.time_window is not None]
        if sum(kinds) != 1:
            raise ValueError("a rule has exactly one of: match, recognizer, required (+ match), time_window")
        if self.required is not None and self.match is None:
            raise ValueError("a required rule needs `match` for the statement that must be said")
        return self


class RuleFile(Strict):
    """A category file: ``rules:`` and an optional default ``category``."""

    rules: list[Rule] = Field(min_length=1)


class NegationCues(Strict):
    cues: list[str] = Field(min_length=1)
    breakers: list[str] = []
    causatives: list[str] = []
    imperatives: list[str] = ["不要", "别", "不许", "不准", "莫"]
    # 不 + one of these is a condition ("不还…就上门", "没有钱你借…"), not a negation of what follows; a modal
    # cue (不可以联系, 不会联系) never is
    conditions: list[str] = ["还", "给", "处理", "接", "配合", "交", "付", "缴", "结清", "回", "联系", "理", "钱"]
    condition_cues: list[str] = ["不", "没", "没有", "还不", "再不", "别"]
    after: list[str] = []
    max_tokens: int = Field(default=4, ge=1)


class LineStateCues(Strict):
    """Regexes that move the on-the-line state (see :mod:`qa_toolkit.rules.context`).

    Attributes:
        verify_question: The agent asks who is on the line.
        debtor_affirms: The customer's answer confirms being the debtor.
        debtor_proves: An answer to the agent's check that only the debtor can give (the ID
            digits asked for): it holds even after a third party was on the line (a handover).
        debtor_statements: The customer speaks as the debtor without being asked.
        third_party: The customer says they are someone else, or the number is wrong (moves
            the state only while the debtor has not been confirmed: a debtor who says "我儿子在外地"
            is still the debtor).
        handover: Someone else has taken the phone from the confirmed debtor ("我是他老婆").
        agent_third_party: The agent's words show they know they speak to someone else
            ("您是他的紧急联系人", "麻烦您转告他").
    """

    verify_question: list[str] = Field(min_length=1)
    debtor_affirms: list[str] = Field(min_length=1)
    debtor_proves: list[str] = []
    debtor_statements: list[str] = []
    third_party: list[str] = Field(min_length=1)
    handover: list[str] = []
    agent_third_party: list[str] = []

    _regex = field_validator("verify_question", "debtor_affirms", "debtor_proves", "debtor_statements", "third_party", "handover", "agent_third_party")(
        lambda cls, v: [_check_regex(p) for p in v]
    )


class ScoringPolicy(Strict):
    name: str = "default"
    version: str = "1"
    points: dict[Severity, float]
    category_weight: dict[Category, float] = {}
    critical_fails_call: bool = True


class LexiconHeader(Strict):
    """``lexicon.yaml``: the set's identity and the shared context cues."""

    name: str
    version: str
    classifier: str | None = None  # file of the learned model, beside lexicon.yaml
    negation: NegationCues
    line_state: LineStateCues
    scoring: ScoringPolicy
