"""Guards against Whisper's failure modes on phone audio. Pure functions over text and numbers.

- hallucinated text on silence: high no-speech probability with a low log-prob, and the
  stock phrases Whisper writes on empty audio (subtitle credits, "thanks for watching");
- repetition loops: a high gzip compression ratio, or one unit repeated many times in a row
  ("ＧＧＧＧ…", "还款还款还款还款…");
- language drift: a Mandarin call decoded as English, Japanese or Korean;
- missed speech: VAD speech regions no segment covers (a window Whisper skipped).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

__all__ = [
    "RawSegment",
    "collapse_repeats",
    "compression_ratio",
    "has_repetition_loop",
    "is_hallucination",
    "is_language_drift",
    "uncovered_regions",
]


@dataclass(frozen=True)
class RawSegment:
    """A segment as an engine returns it, before roles and script conversion.

    Times are seconds in the channel's own timeline. ``words`` holds ``(start, end, text)``
    per word when the engine produced word timestamps; they let the pipeline cut a segment
    at the pauses VAD found, so one segment never spans two speakers' turns.
    """

    start: float
    end: float
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression_ratio: float = 0.0
    temperature: float = 0.0
    words: tuple[tuple[float, float, str], ...] = ()


# Text Whisper writes on silence or music (from its subtitle training data), never said on a call.
_STOCK_PHRASES = re.compile(
    r"字幕|訂閱|订阅|點贊|点赞|打賞|打赏|明鏡|明镜|點點欄目|点点栏目|Amara|謝謝觀看|谢谢观看|"
    r"感謝觀看|感谢观看|獨播劇場|独播剧场|YoYo|Television|請不吝|请不吝|Subtitles|subtitle",
    re.IGNORECASE,
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def compression_ratio(text: str) -> float:
    """gzip compression ratio of the UTF-8 text (Whisper's repetition test)."""
    raw = text.encode("utf-8")
    if not raw:
        return 0.0
    return len(raw) / len(zlib.compress(raw))


def _repeat_pattern(min_unit: int, max_unit: int, times: int) -> re.Pattern[str]:
    return re.compile(rf"(.{{{min_unit},{max_unit}}}?)\1{{{times - 1},}}", re.DOTALL)


# One character 6+ times ("对对对对对对" is already unusual), or a 2-10 char unit 4+ times.
_REPEAT_1 = _repeat_pattern(1, 1, 6)
_REPEAT_N = _repeat_pattern(2, 10, 4)


def has_repetition_loop(text: str, threshold: float = 2.4) -> bool:
    """True when the text looks like a decoding loop."""
    core = _PUNCT.sub("", text)
    if not core:
        return False
    if len(text) > 24 and compression_ratio(text) > threshold:
        return True
    return bool(_REPEAT_1.search(core) or _REPEAT_N.search(core))


def collapse_repeats(text: str) -> str:
    """Cut every run of a repeated unit down to two copies ("好的好的好的好的" -> "好的好的")."""
    text = re.sub(r"(.)\1{2,}", r"\1\1", text, flags=re.DOTALL)
    return re.sub(r"(.{2,10}?)\1{2,}", r"\1\1", text, flags=re.DOTALL)


def is_hallucination(seg: RawSegment, no_speech_threshold: float = 0.6, log_prob_threshold: float = -1.0) -> bool:
    """True for text Whisper invented: over silence, or a stock subtitle phrase."""
    if not _PUNCT.sub("", seg.text):
        return True
    if _STOCK_PHRASES.search(seg.text):
        return True
    if seg.no_speech_prob > no_speech_threshold and seg.avg_logprob < log_prob_threshold:
        return True
    # Very low confidence and very short: a cough or line noise turned into a word.
    return seg.avg_logprob < -1.5 and seg.no_speech_prob > 0.3 and len(_PUNCT.sub("", seg.text)) <= 2


def is_language_drift(text: str, language: str = "zh") -> bool:
    """True when a Mandarin segment came out in another script (English, kana, hangul)."""
    if language != "zh":
        return False
    if _KANA_HANGUL.search(text):
        return True
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    return latin >= 6 and latin > 2 * cjk


def uncovered_regions(
    speech: list[tuple[float, float]],
    segments: list[RawSegment],
    min_gap: float = 2.0,
) -> list[tuple[float, float]]:
    """Speech regions (seconds) of at least ``min_gap`` that no segment overlaps by half."""
    out = []
    for start, end in speech:
        if end - start < min_gap:
            continue
        covered = 0.0
        for seg in segments:
            covered += max(0.0, min(end, seg.end) - max(start, seg.start))
        if covered < 0.5 * (end - start):
            out.append((start, end))
    return out
