"""The engine interface, and the flat per-call pipeline shared by every engine.

``audio -> per channel: VAD -> engine.decode -> guards -> simplified text -> roles -> merge``.
Engines only turn samples into :class:`~qa_toolkit.asr.guards.RawSegment`; everything else
(VAD, guards, OpenCC, roles, provenance) happens here once, so both engines are compared on
exactly the same input.
"""

from __future__ import annotations

import bisect
import dataclasses
from typing import Any, Protocol, runtime_checkable

import numpy as np

from qa_toolkit.asr import guards
from qa_toolkit.asr.guards import RawSegment
from qa_toolkit.asr.options import AsrOptions
from qa_toolkit.audio import SAMPLE_RATE, DecodedAudio
from qa_toolkit.text import normalize
from qa_toolkit.types import Segment, Transcript

__all__ = ["Transcriber", "detect_speech", "run_transcriber", "to_simplified"]

_TRANSCRIPT_FIELDS = ("started_at", "agent_id", "team", "phone", "audio")


@runtime_checkable
class Transcriber(Protocol):
    """An ASR engine with its model loaded (heavy: build once per process, reuse per call)."""

    options: AsrOptions
    provenance: dict[str, Any]

    def decode(self, samples: np.ndarray, speech: list[dict] | None, *, retry: bool = False) -> list[RawSegment]:
        """Decode one channel.

        Args:
            samples: 16 kHz float32 mono samples.
            speech: VAD regions ``{"start": sample, "end": sample}`` to decode, or None for
                all of it.
            retry: Decode conservatively (no prompt, no hot words, no conditioning); the
                guards use it to re-decode a window that failed.

        Returns:
            Segments with times in seconds of ``samples``' timeline.
        """

    def transcribe(self, audio: DecodedAudio, *, call_id: str, metadata: dict[str, Any] | None = None) -> Transcript:
        """Transcribe one call (see :func:`run_transcriber`)."""


# OpenCC t2s keeps 帐 (帳) and Taiwan's 身分证; mainland usage (and our lexicons) write 账, 身份证.
_MAINLAND = (("帐", "账"), ("身分证", "身份证"), ("账篷", "帐篷"), ("蚊账", "蚊帐"))


def to_simplified(text: str) -> str:
    """Traditional -> simplified Chinese (the normalizer's OpenCC ``t2s``, then mainland forms), trimmed."""
    text = normalize.to_simplified(text).strip()
    for old, new in _MAINLAND:
        text = text.replace(old, new)
    return text


def detect_speech(samples: np.ndarray, options: AsrOptions) -> list[dict]:
    """Silero VAD (shipped with faster-whisper) regions, in samples."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(
        threshold=options.vad_threshold,
        min_silence_duration_ms=options.vad_min_silence_ms,
        speech_pad_ms=options.vad_speech_pad_ms,
    )
    return get_speech_timestamps(samples, vad)


def prepare_audio(samples: np.ndarray, speech: list[dict] | None, mode: str):
    """What the decoder gets for ``options.vad`` ``mode``, and how to map its times back.

    Returns:
        ``(audio, remap)`` where ``remap(t, chunk_index=None, is_end=False)`` gives the time
        in ``samples``' timeline.
    """
    from faster_whisper.vad import SpeechTimestampsMap

    if speech is None or mode == "off":
        return samples, _identity
    if mode == "cut":
        audio = np.concatenate([samples[c["start"] : c["end"]] for c in speech])
        return audio, SpeechTimestampsMap(speech, SAMPLE_RATE).get_original_time
    mask = np.zeros(len(samples), dtype=bool)
    for c in speech:
        mask[c["start"] : c["end"]] = True
    return np.where(mask, samples, np.float32(0.0)).astype(np.float32), _identity


def _identity(t: float, chunk_index: int | None = None, is_end: bool = False) -> float:
    return t


def remap_words(words, remap) -> tuple[tuple[float, float, str], ...]:
    """Word times back to the original timeline, each word kept inside one VAD chunk."""
    out = []
    for start, end, text in words:
        if remap is _identity or not hasattr(remap, "__self__"):
            out.append((float(start), float(end), text))
            continue
        index = remap.__self__.get_chunk_index((start + end) / 2)
        out.append((float(remap(start, index)), float(remap(end, index)), text))
    return tuple(out)


def split_at_pauses(raw: list[RawSegment], regions: list[tuple[float, float]]) -> list[RawSegment]:
    """Cut segments where their words fall in different VAD speech regions.

    Whisper decodes the speech regions of a window together and often writes one segment
    across a pause, i.e. across a change of speaker on a mono line. Word timestamps put each
    word in a region; consecutive words of one region become one segment.
    """
    if not regions:
        return raw
    ends = [end for _, end in regions]
    out: list[RawSegment] = []
    for seg in raw:
        if len(seg.words) < 2:
            out.append(seg)
            continue
        groups: list[list[tuple[float, float, str]]] = []
        last = None
        for word in seg.words:
            index = min(bisect.bisect_left(ends, (word[0] + word[1]) / 2), len(ends) - 1)
            if index != last:
                groups.append([])
                last = index
            groups[-1].append(word)
        if len(groups) == 1:
            out.append(seg)
            continue
        for group in groups:
            text = "".join(w[2] for w in group)
            if text.strip():
                out.append(dataclasses.replace(seg, start=group[0][0], end=group[-1][1], text=text, words=tuple(group)))
    return out


def _guard(transcriber: Transcriber, samples: np.ndarray, speech: list[dict] | None, raw: list[RawSegment]) -> list[RawSegment]:
    """Re-decode windows that failed a guard; drop what still fails."""
    opts = transcriber.options
    kept: list[RawSegment] = []
    for seg in raw:
        bad_loop = guards.has_repetition_loop(seg.text, opts.compression_ratio_threshold)
        bad_lang = guards.is_language_drift(seg.text, opts.language)
        if bad_loop or bad_lang:
            retried = _redecode(transcriber, samples, seg.start, seg.end)
            if retried and not any(
                guards.has_repetition_loop(r.text, opts.compression_ratio_threshold)
                or guards.is_language_drift(r.text, opts.language)
                for r in retried
            ):
                kept.extend(retried)
                continue
            if bad_lang:
                continue
            seg = dataclasses.replace(seg, text=guards.collapse_repeats(seg.text), words=())
        kept.append(seg)
    kept = [s for s in kept if not guards.is_hallucination(s, opts.no_speech_threshold, opts.log_prob_threshold)]
    if speech:
        regions = [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in speech]
        for start, end in guards.uncovered_regions(regions, kept):
            extra = [
                r
                for r in _redecode(transcriber, samples, start, end)
                if not guards.is_hallucination(r, opts.no_speech_threshold, opts.log_prob_threshold)
                and not guards.has_repetition_loop(r.text, opts.compression_ratio_threshold)
            ]
            inside = [s for s in kept if start <= (s.start + s.end) / 2 <= end]
            if sum(len(r.text) for r in extra) > sum(len(s.text) for s in inside):
                kept = [s for s in kept if s not in inside] + extra
    return sorted(kept, key=lambda s: (s.start, s.end))


def _redecode(transcriber: Transcriber, samples: np.ndarray, start: float, end: float) -> list[RawSegment]:
    a, b = max(0, int((start - 0.2) * SAMPLE_RATE)), min(len(samples), int((end + 0.2) * SAMPLE_RATE))
    if b - a < SAMPLE_RATE // 4:
        return []
    offset = a / SAMPLE_RATE
    out = transcriber.decode(samples[a:b], None, retry=True)
    return [
        dataclasses.replace(
            r,
            start=r.start + offset,
            end=min(r.end + offset, end + 0.2),
            words=tuple((ws + offset, we + offset, w) for ws, we, w in r.words),
        )
        for r in out
    ]


TURN_GAP = 1.0  # seconds: closer pieces of one speaker on one channel form one turn


def _weighted(a: float | None, b: float | None, weights: tuple[float, float]) -> float | None:
    if a is None or b is None:
        return None
    return round((a * weights[0] + b * weights[1]) / sum(weights), 4)


def merge_turns(segments: list[Segment], max_gap: float = TURN_GAP) -> list[Segment]:
    """Join consecutive pieces of the same speaker and channel less than ``max_gap`` apart.

    Pieces come from cutting Whisper's output at VAD pauses (so that a mono recording's turns
    can get roles); once roles are known, a turn is scanned and shown as one segment, so that a
    sentence cut at a breath ("你再拖着不还" / "我们就去你单位") is read whole. The texts are joined
    as they are: a piece cut mid-sentence has no punctuation of its own, and an added comma would
    end the clause that patterns read across ("真，没出息"). Confidences are duration-weighted means.
    """
    out: list[Segment] = []
    for seg in segments:
        prev = out[-1] if out else None
        if prev is not None and prev.speaker == seg.speaker and prev.channel == seg.channel and 0 <= seg.start - prev.end < max_gap:
            weights = (max(prev.end - prev.start, 0.01), max(seg.end - seg.start, 0.01))
            out[-1] = Segment(prev.start, max(prev.end, seg.end), seg.speaker, prev.text + seg.text,
                              _weighted(prev.avg_logprob, seg.avg_logprob, weights),
                              _weighted(prev.no_speech_prob, seg.no_speech_prob, weights), seg.channel)
        else:
            out.append(seg)
    return out


def run_transcriber(
    transcriber: Transcriber,
    audio: DecodedAudio,
    *,
    call_id: str,
    metadata: dict[str, Any] | None = None,
) -> Transcript:
    """Transcribe every channel, give roles, and merge into one :class:`Transcript`.

    Dual-channel audio: channel ``i`` gets ``options.channel_roles[i]`` (``unknown`` past the
    end of the list). Mono audio: roles by :func:`qa_toolkit.speakers.assign_roles`.
    """
    from qa_toolkit import speakers

    opts = transcriber.options
    segments: list[Segment] = []
    for index, samples in enumerate(audio.channels):
        speech = detect_speech(samples, opts)
        if not speech:
            continue
        raw = transcriber.decode(samples, speech)
        if opts.guards:
            raw = _guard(transcriber, samples, speech, raw)
        if speech:
            raw = split_at_pauses(raw, [(c["start"] / SAMPLE_RATE, c["end"] / SAMPLE_RATE) for c in speech])
        if audio.num_channels > 1:
            role = opts.channel_roles[index] if index < len(opts.channel_roles) else "unknown"
        else:
            role = "unknown"
        for r in raw:
            text = to_simplified(r.text)
            if not text:
                continue
            end = min(max(r.end, r.start), audio.duration or r.end)
            segments.append(
                Segment(
                    start=round(max(0.0, min(r.start, end)), 2),
                    end=round(end, 2),
                    speaker=role,
                    text=text,
                    avg_logprob=round(float(r.avg_logprob), 4),
                    no_speech_prob=round(float(r.no_speech_prob), 4),
                    channel=index,
                )
            )
    segments.sort(key=lambda s: (s.start, s.end, s.channel or 0))
    if audio.num_channels == 1 and opts.mono_roles != "none" and segments:
        segments = list(speakers.assign_roles(segments, audio.channels[0], method=opts.mono_roles))
    segments = merge_turns(segments)

    meta = dict(metadata or {})
    fields = {k: meta.pop(k) for k in _TRANSCRIPT_FIELDS if k in meta}
    fields.setdefault("audio", audio.path)
    return Transcript(
        call_id=call_id,
        segments=tuple(segments),
        duration=round(float(audio.duration or 0.0), 3),
        source=f"asr:{opts.engine}/{opts.model}",
        asr={
            **transcriber.provenance,
            "channels": audio.num_channels,
            "identical_channels_folded": audio.identical_channels,
            "options": opts.to_dict(),
        },
        extra=meta,
        **fields,
    )
