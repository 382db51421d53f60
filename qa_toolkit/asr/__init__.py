"""Speech to text: Whisper engines behind one interface, offline weights, guards.

Typical use::

    from qa_toolkit.audio import load_audio
    from qa_toolkit.asr import AsrOptions, transcribe

    transcript = transcribe(load_audio("call.wav"), AsrOptions(), call_id="call-1")

Building an engine loads the model (seconds); :func:`get_transcriber` keeps one per options
value per process, so a batch pays that once. Importing this package imports neither
faster-whisper nor torch.
"""

from __future__ import annotations

import functools
from typing import Any

from qa_toolkit.asr.base import Transcriber, detect_speech, to_simplified
from qa_toolkit.asr.models import cache_dir, install_model, list_models, resolve_model
from qa_toolkit.asr.options import AsrOptions
from qa_toolkit.audio import DecodedAudio
from qa_toolkit.types import Transcript

__all__ = [
    "AsrOptions",
    "Transcriber",
    "cache_dir",
    "create_transcriber",
    "detect_speech",
    "get_transcriber",
    "install_model",
    "list_models",
    "resolve_model",
    "to_simplified",
    "transcribe",
]


def create_transcriber(options: AsrOptions | None = None) -> Transcriber:
    """Build a new engine for ``options`` (loads the model).

    Raises:
        ModelError: The model cannot be found, assembled or loaded.
        ConfigError: openai-whisper was asked for but is not installed (with the pip hint).
    """
    options = options or AsrOptions()
    if options.engine == "openai-whisper":
        from qa_toolkit.asr.openai_whisper import OpenAIWhisperTranscriber

        return OpenAIWhisperTranscriber(options)
    from qa_toolkit.asr.faster_whisper import FasterWhisperTranscriber

    return FasterWhisperTranscriber(options)


@functools.lru_cache(maxsize=2)
def get_transcriber(options: AsrOptions | None = None) -> Transcriber:
    """Like :func:`create_transcriber`, but one engine per options value per process."""
    return create_transcriber(options or AsrOptions())


def transcribe(
    audio: DecodedAudio,
    options: AsrOptions | None = None,
    *,
    call_id: str,
    metadata: dict[str, Any] | None = None,
    transcriber: Transcriber | None = None,
) -> Transcript:
    """Transcribe one decoded call into a :class:`~qa_toolkit.types.Transcript`.

    Args:
        audio: From :func:`qa_toolkit.audio.load_audio`.
        options: ASR options (defaults: faster-whisper, ``base``, CPU int8, VAD, guards).
        call_id: The call's id.
        metadata: ``started_at``, ``agent_id``, ``team``, ``phone``, ``audio`` go to the
            transcript's fields; anything else to ``extra``.
        transcriber: An engine to reuse (else a cached one for ``options``).

    Returns:
        Segments in time order, simplified Chinese, with speaker roles and confidences;
        ``asr`` holds the engine, model, checksum and options that produced them.
    """
    engine = transcriber or get_transcriber(options or AsrOptions())
    return engine.transcribe(audio, call_id=call_id, metadata=metadata)
