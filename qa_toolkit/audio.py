"""Decode any recording to 16 kHz float32 arrays, one per channel, with PyAV.

PyAV bundles FFmpeg, so wav (PCM, μ-law, A-law), mp3, m4a/aac, amr, ogg/opus, flac and
anything else FFmpeg reads decode without a system install. Channels are kept apart: a
dual-channel call recording has the agent on one side and the customer on the other.

Memory: :func:`stream_audio` yields fixed-size blocks and never holds more than one block
plus the decoder's buffers, so a 3-hour file can be processed in bounded memory.
:func:`load_audio` collects the blocks into one array per channel (3 h of mono audio at
16 kHz is ~690 MB as float32); it pre-allocates from the container's duration so the peak
stays close to the final size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa_toolkit.errors import AudioError

__all__ = ["SAMPLE_RATE", "DecodedAudio", "load_audio", "stream_audio"]

SAMPLE_RATE = 16000
SILENCE_PEAK = 10 ** (-70 / 20)  # a recording whose peak is below -70 dBFS is silent
_MAX_CHANNELS = 8


@dataclass(frozen=True)
class DecodedAudio:
    """A decoded recording.

    Attributes:
        channels: One float32 array in [-1, 1] per channel, all the same length.
        sample_rate: Always 16000 (what Whisper expects).
        duration: Length in seconds (computed from the arrays when not given).
        path: The file it was decoded from, if any.
        source_sample_rate: The sample rate of the file before resampling.
        codec: The FFmpeg codec name of the audio stream (``pcm_mulaw``, ``amr_nb``, ...).
        identical_channels: True when a multi-channel file carried the same signal on every
            channel and was folded to mono.
    """

    channels: tuple[np.ndarray, ...]
    sample_rate: int = SAMPLE_RATE
    duration: float | None = None
    path: str | None = None
    source_sample_rate: int | None = None
    codec: str | None = None
    identical_channels: bool = field(default=False)

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("DecodedAudio needs at least one channel")
        if self.duration is None:
            object.__setattr__(self, "duration", len(self.channels[0]) / self.sample_rate)

    @property
    def num_channels(self) -> int:
        """Number of channels (1 for mono, 2 for a dual-channel call)."""
        return len(self.channels)

    def mono(self) -> np.ndarray:
        """The channels averaged into one array."""
        if len(self.channels) == 1:
            return self.channels[0]
        return np.mean(np.stack(self.channels), axis=0).astype(np.float32)


def _open(path: str):
    import av

    if not os.path.exists(path):
        raise AudioError("file not found", path=path)
    if os.path.isdir(path):
        raise AudioError("is a directory, not an audio file", path=path)
    if os.path.getsize(path) == 0:
        raise AudioError("empty file (0 bytes)", path=path)
    try:
        container = av.open(path, metadata_errors="ignore")
    except av.error.FFmpegError as err:
        raise AudioError(f"not a readable audio file ({_reason(err)})", path=path) from None
    if not container.streams.audio:
        container.close()
        raise AudioError("no audio stream in the file", path=path)
    return container


def _reason(err: Exception) -> str:
    text = getattr(err, "strerror", None) or str(err)
    return " ".join(str(text).split())[:120]


def stream_audio(path: str | os.PathLike, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Decode ``path`` block by block.

    Args:
        path: The audio file.
        block_seconds: Length of each block (the last one may be shorter).

    Yields:
        float32 arrays of shape ``(channels, samples)`` at 16 kHz.

    Raises:
        AudioError: The file is missing, empty, not audio, or cannot be decoded at all.
    """
    import av

    path = os.fspath(path)
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        layout = stream.layout.name if stream.channels <= _MAX_CHANNELS else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        block = int(block_seconds * SAMPLE_RATE)
        pending: list[np.ndarray] = []
        pending_len = 0
        errors = 0
        decoded_any = False

        def frames():
            nonlocal errors
            for packet in container.demux(stream):
                try:
                    yield from packet.decode()
                except av.error.FFmpegError:
                    errors += 1
                    if errors > 100:
                        raise
            yield None  # flush the resampler

        try:
            for frame in frames():
                for out in resampler.resample(frame):
                    arr = out.to_ndarray().reshape(out.layout.nb_channels, -1)
                    if arr.shape[1] == 0:
                        continue
                    decoded_any = True
                    pending.append(arr)
                    pending_len += arr.shape[1]
                    while pending_len >= block:
                        joined = np.concatenate(pending, axis=1)
                        yield np.ascontiguousarray(joined[:, :block], dtype=np.float32)
                        rest = joined[:, block:]
                        pending = [rest] if rest.shape[1] else []
                        pending_len = rest.shape[1]
        except av.error.FFmpegError as err:
            if not decoded_any:
                raise AudioError(f"cannot decode audio ({_reason(err)})", path=path) from None
            # A truncated or damaged tail: keep what decoded.
        if pending_len:
            yield np.ascontiguousarray(np.concatenate(pending, axis=1), dtype=np.float32)
    finally:
        container.close()


def load_audio(path: str | os.PathLike, *, fold_identical: bool = True) -> DecodedAudio:
    """Decode a whole file to 16 kHz float32 arrays, one per channel.

    Args:
        path: The audio file (any format FFmpeg reads).
        fold_identical: Fold a stereo file whose channels carry the same signal to mono, so
            it is transcribed once and gets roles by the mono method.

    Returns:
        The decoded audio.

    Raises:
        AudioError: The file is missing, empty, not audio, unsupported, undecodable, has no
            samples, or is silent. The message names the file and fits on one line.
    """
    import av

    path = os.fspath(path)
    container = _open(path)
    try:
        stream = container.streams.audio[0]
        codec = stream.codec_context.name
        source_rate = stream.rate or stream.codec_context.sample_rate
        n_channels = min(stream.channels, _MAX_CHANNELS) if stream.channels else 1
        expected = _expected_samples(container, stream)
    except av.error.FFmpegError as err:
        raise AudioError(f"cannot read audio stream ({_reason(err)})", path=path) from None
    finally:
        container.close()

    buffer = np.zeros((n_channels, expected + SAMPLE_RATE), dtype=np.float32) if expected else None
    chunks: list[np.ndarray] = []
    filled = 0
    for block in stream_audio(path):
        if buffer is not None and block.shape[0] == buffer.shape[0]:
            if filled + block.shape[1] > buffer.shape[1]:
                chunks.append(buffer[:, :filled])
                buffer, filled = None, 0
                chunks.append(block)
                continue
            buffer[:, filled : filled + block.shape[1]] = block
            filled += block.shape[1]
        else:
            chunks.append(block)
    if buffer is not None:
        data = buffer[:, :filled] if not chunks else np.concatenate([*chunks, buffer[:, :filled]], 1)
    elif chunks:
        data = np.concatenate(chunks, axis=1)
    else:
        data = np.zeros((n_channels, 0), dtype=np.float32)

    if data.shape[1] < SAMPLE_RATE // 100:
        raise AudioError("no audio samples (empty or truncated file)", path=path)
    peak = max(float(data.max()), -float(data.min())) if data.size else 0.0  # no |data| copy: 0.7 GB for 3 h
    if not np.isfinite(peak):
        raise AudioError("decoded samples are not finite (corrupt file)", path=path)
    if peak < SILENCE_PEAK:
        raise AudioError(f"silent recording (peak {20 * np.log10(peak + 1e-12):.0f} dBFS)", path=path)

    channels = tuple(np.ascontiguousarray(ch) for ch in data)
    identical = False
    if fold_identical and len(channels) > 1 and _identical(channels):
        channels, identical = (channels[0],), True
    return DecodedAudio(
        channels=channels,
        sample_rate=SAMPLE_RATE,
        path=str(Path(path)),
        source_sample_rate=source_rate,
        codec=codec,
        identical_channels=identical,
    )


def _expected_samples(container, stream) -> int:
    """Samples at 16 kHz the container says it holds (0 when unknown)."""
    seconds = 0.0
    if stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        seconds = container.duration / 1_000_000
    if not (0 < seconds < 24 * 3600):
        return 0
    return int(seconds * SAMPLE_RATE * 1.01)


def _identical(channels: tuple[np.ndarray, ...]) -> bool:
    first = channels[0]
    scale = float(np.max(np.abs(first))) or 1.0
    return all(float(np.max(np.abs(ch - first))) <= 1e-3 * scale for ch in channels[1:])
