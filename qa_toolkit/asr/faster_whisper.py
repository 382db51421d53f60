"""The default engine: faster-whisper (CTranslate2), int8 on CPU, float16 on CUDA."""

from __future__ import annotations

from typing import Any

import numpy as np

from qa_toolkit.asr.base import _identity, prepare_audio, remap_words, run_transcriber
from qa_toolkit.asr.guards import RawSegment
from qa_toolkit.asr.models import resolve_model, sha256_file
from qa_toolkit.asr.options import AsrOptions
from qa_toolkit.audio import DecodedAudio
from qa_toolkit.errors import ModelError
from qa_toolkit.types import Transcript

__all__ = ["FasterWhisperTranscriber", "resolve_device"]


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when CTranslate2 sees a GPU, else ``cpu``."""
    if device != "auto":
        return device
    import ctranslate2

    try:
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # a CUDA driver problem means no usable GPU
        return "cpu"


class FasterWhisperTranscriber:
    """Whisper through faster-whisper. Loads the model once; :meth:`transcribe` per call.

    Args:
        options: ASR options (engine must be ``faster-whisper``).
    """

    def __init__(self, options: AsrOptions | None = None):
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        self.options = options = options or AsrOptions()
        model_dir = resolve_model(options.model)
        self.device = resolve_device(options.device)
        compute = options.compute_type
        if compute == "auto":
            compute = "float16" if self.device == "cuda" else "int8"
        self.compute_type = compute
        try:
            self._model = WhisperModel(
                str(model_dir),
                device=self.device,
                compute_type=compute,
                cpu_threads=options.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as err:
            reason = " ".join(str(err).split())[:160]
            raise ModelError(f"cannot load model on {self.device}/{compute}: {reason}", path=str(model_dir)) from None
        self._batched = BatchedInferencePipeline(self._model) if options.batch_size > 1 else None
        model_bin = model_dir / "model.bin"
        self.provenance: dict[str, Any] = {
            "engine": "faster-whisper",
            "model": options.model,
            "model_path": str(model_dir),
            "model_sha256": _cached_sha(model_bin),
            "device": self.device,
            "compute_type": compute,
        }

    def _common(self, retry: bool) -> dict[str, Any]:
        o = self.options
        kwargs: dict[str, Any] = dict(
            language=o.language,
            beam_size=1 if retry else o.beam_size,
            best_of=o.best_of,
            temperature=list(o.temperatures),
            compression_ratio_threshold=o.compression_ratio_threshold,
            log_prob_threshold=o.log_prob_threshold,
            no_speech_threshold=o.no_speech_threshold,
            condition_on_previous_text=False if retry else o.condition_on_previous_text,
            initial_prompt=None if retry else o.initial_prompt,
            hotwords=None if retry or not o.hotwords else " ".join(o.hotwords),
            word_timestamps=True,
        )
        return kwargs

    def decode(self, samples: np.ndarray, speech: list[dict] | None, *, retry: bool = False) -> list[RawSegment]:
        """Decode one channel (see :class:`~qa_toolkit.asr.base.Transcriber`)."""
        import ctranslate2

        ctranslate2.set_random_seed(self.options.seed)
        kwargs = self._common(retry)
        if self._batched is not None and not retry and speech and self.options.vad != "off":
            segs, _ = self._batched.transcribe(
                samples,
                batch_size=self.options.batch_size,
                vad_filter=True,
                vad_parameters={
                    "threshold": self.options.vad_threshold,
                    "min_silence_duration_ms": self.options.vad_min_silence_ms,
                    "speech_pad_ms": self.options.vad_speech_pad_ms,
                },
                without_timestamps=False,
                **kwargs,
            )
            return [_raw(s, _identity) for s in segs]

        audio, remap = prepare_audio(samples, None if retry else speech, self.options.vad)
        segs, _ = self._model.transcribe(audio, vad_filter=False, **kwargs)
        return [_raw(s, remap) for s in segs]

    def transcribe(self, audio: DecodedAudio, *, call_id: str, metadata: dict[str, Any] | None = None) -> Transcript:
        """Transcribe one call into a :class:`~qa_toolkit.types.Transcript`."""
        return run_transcriber(self, audio, call_id=call_id, metadata=metadata)


def _raw(seg: Any, remap) -> RawSegment:
    words = remap_words([(w.start, w.end, w.word) for w in seg.words or ()], remap)
    return RawSegment(
        start=words[0][0] if words else float(remap(seg.start)),
        end=words[-1][1] if words else float(remap(seg.end, is_end=True)),
        words=words,
        text=seg.text,
        avg_logprob=float(seg.avg_logprob),
        no_speech_prob=float(seg.no_speech_prob),
        compression_ratio=float(seg.compression_ratio),
        temperature=float(seg.temperature or 0.0),
    )


def _cached_sha(path) -> str | None:
    """The model's sha256 from the install stamp when present (hashing 145 MB costs ~0.5 s)."""
    from qa_toolkit.asr.models import BUNDLED_MODELS

    for model in BUNDLED_MODELS.values():
        if path.parent.name == model.name and (path.parent / ".qa_toolkit_verified.json").is_file():
            return model.sha256["model.bin"]
    try:
        return sha256_file(path) if path.stat().st_size < 400_000_000 else None
    except OSError:
        return None
