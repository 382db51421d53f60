"""The domain objects that flow through qa_toolkit, one frozen dataclass per concept.

Data flows one way: audio -> :class:`Transcript` -> :class:`Finding` -> :class:`CallScore`
-> :class:`CallReport` -> store. Stages return new objects; nobody mutates what they were given.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SPEAKERS = ("agent", "customer", "unknown")
CATEGORIES = (
    "threat",
    "harassment",
    "disclosure",
    "deception",
    "procedure",
    "pii",
    "vulnerability",
)
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True)
class Segment:
    """One utterance of one speaker, as transcribed or as written in a transcript file.

    Attributes:
        start: Start time in seconds from the beginning of the recording.
        end: End time in seconds (``end >= start``).
        speaker: ``agent``, ``customer`` or ``unknown``.
        text: The text exactly as transcribed; finding offsets point into it.
        avg_logprob: Whisper's mean token log-probability, when the text came from ASR.
        no_speech_prob: Whisper's no-speech probability, when the text came from ASR.
        channel: The audio channel the segment was transcribed from (0-based), if known.
    """

    start: float
    end: float
    speaker: str
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    channel: int | None = None


@dataclass(frozen=True)
class Transcript:
    """One call: its metadata and its segments in time order.

    Attributes:
        call_id: Unique id of the call.
        segments: The utterances, sorted by start time.
        started_at: When the call started (timezone-aware), if known; time rules need it.
        agent_id: The collector who made the call.
        team: The collector's team.
        phone: The number that was called.
        audio: Path or URL of the recording.
        duration: Length of the recording in seconds, if known.
        source: Where the transcript came from (a file path, or ``asr:<engine>/<model>``).
        asr: The ASR model and options that produced the text (empty for hand-written text).
        extra: Other metadata from the input, kept as given (gold labels, tags, ...).
    """

    call_id: str
    segments: tuple[Segment, ...]
    started_at: datetime | None = None
    agent_id: str | None = None
    team: str | None = None
    phone: str | None = None
    audio: str | None = None
    duration: float | None = None
    source: str | None = None
    asr: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def replace(self, **changes: Any) -> Transcript:
        """Return a copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Evidence:
    """Why a finding was raised: what matched and which context decisions counted.

    Attributes:
        matcher: How it matched: ``phrase``, ``sound`` (pinyin), ``regex``, ``tokens``,
            ``cooccur``, ``pii``, ``absence`` (required statement not said) or ``metadata``.
        pattern: The term, pattern or recognizer that matched.
        context: Context decisions as short sentences, e.g. ``"speaker=agent (rule scope agent)"``,
            ``"line state: third_party (customer said 我是他妈妈 in segment 1)"``.
        score: Confidence in [0, 1] after context (a checksum-valid ID number is 1.0).
    """

    matcher: str
    pattern: str
    context: tuple[str, ...] = ()
    score: float = 1.0


@dataclass(frozen=True)
class Finding:
    """One rule hit in one call, with its evidence.

    ``segment`` is ``None`` for call-level findings (a required statement never said, a call
    at night). ``start_char``/``end_char`` are offsets into the *original* text of that segment.
    """

    call_id: str
    segment: int | None
    speaker: str | None
    category: str
    rule_id: str
    rule_version: int
    severity: str
    start_char: int | None
    end_char: int | None
    text: str
    start: float | None
    end: float | None
    regulation: str
    description: str
    evidence: Evidence
    lexicon_version: str
    lexicon_hash: str

    @property
    def explanation(self) -> str:
        """One line for a reviewer: what matched and which context counted."""
        parts = [f"{self.evidence.matcher} match of {self.evidence.pattern!r}"]
        parts.extend(self.evidence.context)
        return "; ".join(parts)

    @property
    def finding_id(self) -> str:
        """A stable id: the same hit under the same lexicon always gets the same id."""
        import hashlib

        key = "|".join(
            str(p)
            for p in (
                self.call_id,
                self.lexicon_hash,
                self.rule_id,
                self.segment,
                self.start_char,
                self.end_char,
            )
        )
        return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class CallScore:
    """The risk of one call under one scoring policy.

    Attributes:
        call_id: The call.
        risk: 0 (clean) to 100 (certain serious violation).
        critical: True when a critical finding fails the call outright.
        counts: Number of findings per category.
        policy: Name and version of the scoring policy.
    """

    call_id: str
    risk: float
    critical: bool
    counts: dict[str, int]
    policy: str


@dataclass(frozen=True)
class CallReport:
    """Everything the pipeline knows about one call, ready to store."""

    transcript: Transcript
    findings: tuple[Finding, ...]
    score: CallScore
    lexicon_version: str
    lexicon_hash: str
    toolkit_version: str
    scanned_at: datetime
