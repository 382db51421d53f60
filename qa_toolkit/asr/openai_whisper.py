"""Optional engine: openai-whisper (PyTorch) on the same weights, converted from CTranslate2.

Install with ``pip install qa-toolkit[openai-whisper]`` (openai-whisper without its
``triton`` dependency, plus CPU torch). The engine is given decoded arrays, never file
paths: openai-whisper's own loader shells out to an ``ffmpeg`` binary.

The checkpoint is converted once from the CTranslate2 model (see
:mod:`qa_toolkit.asr.convert`) and cached beside it as ``openai-whisper.pt`` (float16, like
OpenAI's own checkpoints, which is also the precision CTranslate2 stores).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from qa_toolkit.asr.base import prepare_audio, remap_words, run_transcriber
from qa_toolkit.asr.guards import RawSegment
from qa_toolkit.asr.models import cache_dir, resolve_model
from qa_toolkit.asr.options import AsrOptions
from qa_toolkit.audio import DecodedAudio
from qa_toolkit.errors import ConfigError, ModelError
from qa_toolkit.types import Transcript

__all__ = ["OpenAIWhisperTranscriber", "openai_checkpoint"]

INSTALL_HINT = "pip install qa-toolkit[openai-whisper]"
_CHECKPOINT = "openai-whisper.pt"


def _import_whisper():
    try:
        import torch
        import whisper
    except ImportError as err:
        raise ConfigError(
            f"engine 'openai-whisper' is not installed ({err.name} missing); install it with: {INSTALL_HINT}"
        ) from None
    return torch, whisper


def openai_checkpoint(model: str = "base") -> Path:
    """Convert (once) and return the openai-whisper checkpoint for a CTranslate2 model.

    Bundled and cached models keep it in their own cache folder; other directories get
    ``<cache>/converted/<hash of the path>.pt``.
    """
    torch, _ = _import_whisper()
    from qa_toolkit.asr.convert import alignment_heads, ct2_to_openai_state

    model_dir = resolve_model(model)
    if model_dir.parent == cache_dir():
        target = model_dir / _CHECKPOINT
    else:
        key = hashlib.sha1(str(model_dir.resolve()).encode()).hexdigest()[:16]
        target = cache_dir() / "converted" / f"{key}.pt"
    source = model_dir / "model.bin"
    if target.is_file() and target.stat().st_mtime >= source.stat().st_mtime:
        return target
    dims, state = ct2_to_openai_state(model_dir)
    checkpoint = {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(v).half() for k, v in state.items()},
        "alignment_heads": alignment_heads(model_dir),
        "source": str(source),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".convert-", suffix=".pt", dir=target.parent)
    os.close(fd)
    try:
        torch.save(checkpoint, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class OpenAIWhisperTranscriber:
    """Whisper through openai-whisper. Loads the model once; :meth:`transcribe` per call.

    Hot words have no native equivalent: they are passed as a prompt carried into every
    window (``carry_initial_prompt``), which is what faster-whisper's ``hotwords`` does.
    ``batch_size`` is ignored (openai-whisper decodes windows one at a time).
    """

    def __init__(self, options: AsrOptions | None = None):
        torch, whisper = _import_whisper()
        self.options = options = options or AsrOptions(engine="openai-whisper")
        self._torch, self._whisper = torch, whisper
        path = openai_checkpoint(options.model)
        device = options.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
            model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
            model.load_state_dict(checkpoint["model_state_dict"])
        except Exception as err:  # torch raises many types for a bad file
            reason = " ".join(str(err).split())[:160]
            raise ModelError(f"cannot load converted checkpoint: {reason}", path=str(path)) from None
        heads = checkpoint.get("alignment_heads")
        if heads:
            mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
            for layer, head in heads:
                mask[layer, head] = True
            model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
        self.fp16 = device == "cuda" and options.compute_type in ("auto", "float16", "int8_float16")
        self._model = model.to(device).half() if self.fp16 else model.float().to(device)
        self._model.eval()
        self.provenance: dict[str, Any] = {
            "engine": "openai-whisper",
            "model": options.model,
            "model_path": str(path),
            "device": device,
            "compute_type": "float16" if self.fp16 else "float32",
        }

    def decode(self, samples: np.ndarray, speech: list[dict] | None, *, retry: bool = False) -> list[RawSegment]:
        """Decode one channel (see :class:`~qa_toolkit.asr.base.Transcriber`)."""
        o = self.options
        audio, remap = prepare_audio(samples, None if retry else speech, o.vad)

        prompt = None if retry else o.initial_prompt
        carry = False
        if o.hotwords and not retry and prompt is None:
            prompt, carry = " " + " ".join(o.hotwords), True
        self._torch.manual_seed(o.seed)
        with self._torch.inference_mode():
            result = self._whisper.transcribe(
                self._model,
                np.ascontiguousarray(audio, dtype=np.float32),
                verbose=None,
                language=o.language,
                task="transcribe",
                temperature=tuple(o.temperatures),
                compression_ratio_threshold=o.compression_ratio_threshold,
                logprob_threshold=o.log_prob_threshold,
                no_speech_threshold=o.no_speech_threshold,
                condition_on_previous_text=False if retry else o.condition_on_previous_text,
                initial_prompt=prompt,
                carry_initial_prompt=carry,
                beam_size=1 if retry else o.beam_size,
                best_of=o.best_of,
                fp16=self.fp16,
                word_timestamps=True,
            )
        out = []
        for s in result["segments"]:
            words = remap_words([(w["start"], w["end"], w["word"]) for w in s.get("words") or ()], remap)
            out.append(self._segment(s, words, remap))
        return out

    @staticmethod
    def _segment(s: dict, words, remap) -> RawSegment:
        return RawSegment(
            start=words[0][0] if words else float(remap(s["start"])),
            end=words[-1][1] if words else float(remap(s["end"], is_end=True)),
            words=words,
            text=s["text"],
            avg_logprob=float(s["avg_logprob"]),
            no_speech_prob=float(s["no_speech_prob"]),
            compression_ratio=float(s["compression_ratio"]),
            temperature=float(s["temperature"]),
        )

    def transcribe(self, audio: DecodedAudio, *, call_id: str, metadata: dict[str, Any] | None = None) -> Transcript:
        """Transcribe one call into a :class:`~qa_toolkit.types.Transcript`."""
        return run_transcriber(self, audio, call_id=call_id, metadata=metadata)
