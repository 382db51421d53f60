"""Decoding every format we promise, and one-line errors for files we cannot use."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from qa_toolkit.audio import SAMPLE_RATE, DecodedAudio, load_audio, stream_audio
from qa_toolkit.errors import AudioError

av = pytest.importorskip("av")


def write_audio(
    path: Path, container: str, codec: str, rate: int, layout: str, seconds: float = 2.0, signal: np.ndarray | None = None
) -> Path:
    """Encode a test tone (440 Hz left, 880 Hz right) with PyAV."""
    n = int(seconds * rate)
    nch = 2 if layout == "stereo" else 1
    if signal is None:
        t = np.arange(n) / rate
        signal = np.stack([0.5 * np.sin(2 * np.pi * 440 * (i + 1) * t) for i in range(nch)]).astype(np.float32)
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        fmt = stream.codec_context.codec.audio_formats[0].name
        step = stream.codec_context.frame_size or 1024
        for i in range(0, signal.shape[1], step):
            chunk = signal[:, i : i + step]
            arr = chunk if fmt.endswith("p") else chunk.T.reshape(1, -1)
            if fmt.startswith("s16"):
                arr = (arr * 32767).astype(np.int16)
            elif fmt.startswith("s32"):
                arr = (arr * (2**31 - 1)).astype(np.int32)
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=fmt, layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, i, Fraction(1, rate)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


FORMATS = [
    # (file name, container, codec, sample rate, layout)
    ("pcm8k.wav", "wav", "pcm_s16le", 8000, "stereo"),
    ("mulaw.wav", "wav", "pcm_mulaw", 8000, "mono"),
    ("alaw.wav", "wav", "pcm_alaw", 8000, "mono"),
    ("call.mp3", "mp3", "libmp3lame", 22050, "stereo"),
    ("call.m4a", "ipod", "aac", 44100, "stereo"),
    ("call.amr", "amr", "libopencore_amrnb", 8000, "mono"),
    ("call.ogg", "ogg", "libopus", 48000, "stereo"),
    ("call.opus", "opus", "libopus", 48000, "mono"),
    ("call.flac", "flac", "flac", 16000, "mono"),
    ("hifi.wav", "wav", "pcm_s16le", 44100, "mono"),
]


@pytest.mark.parametrize(("name", "container", "codec", "rate", "layout"), FORMATS)
def test_decodes_format(tmp_path, name, container, codec, rate, layout):
    path = write_audio(tmp_path / name, container, codec, rate, layout)
    audio = load_audio(path)
    assert isinstance(audio, DecodedAudio)
    assert audio.sample_rate == SAMPLE_RATE
    assert audio.num_channels == (2 if layout == "stereo" else 1)
    assert audio.source_sample_rate == rate
    assert abs(audio.duration - 2.0) < 0.1
    for channel in audio.channels:
        assert channel.dtype == np.float32
        assert len(channel) == len(audio.channels[0])
        assert 0.2 < float(np.abs(channel).max()) <= 1.0
    if audio.num_channels == 2:  # the two channels stay apart
        assert not np.allclose(audio.channels[0], audio.channels[1], atol=0.05)


def test_identical_stereo_is_folded_to_mono(tmp_path):
    t = np.arange(16000) / 8000
    tone = (0.4 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    path = write_audio(tmp_path / "dup.wav", "wav", "pcm_s16le", 8000, "stereo", signal=np.stack([tone, tone]))
    audio = load_audio(path)
    assert audio.num_channels == 1 and audio.identical_channels
    assert load_audio(path, fold_identical=False).num_channels == 2


def test_stream_audio_yields_fixed_blocks(tmp_path):
    path = write_audio(tmp_path / "long.flac", "flac", "flac", 8000, "mono", seconds=5.0)
    blocks = list(stream_audio(path, block_seconds=2.0))
    assert [b.shape[1] for b in blocks[:2]] == [32000, 32000]
    assert abs(sum(b.shape[1] for b in blocks) - 80000) < 800


def _silent(path: Path) -> Path:
    return write_audio(path, "wav", "pcm_s16le", 8000, "mono", signal=np.zeros((1, 16000), np.float32))


def _text(path: Path) -> Path:
    path.write_text("this is not audio\n" * 50)
    return path


def _empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def _garbage(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    return path


def _truncated_header(path: Path) -> Path:
    good = write_audio(path.with_suffix(".tmp.wav"), "wav", "pcm_s16le", 8000, "mono")
    path.write_bytes(good.read_bytes()[:30])
    return path


def _image(path: Path) -> Path:
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    return path


@pytest.mark.parametrize(
    ("maker", "name", "reason"),
    [
        (_silent, "silent.wav", "silent"),
        (_text, "notes.wav", ""),
        (_empty, "empty.mp3", "empty"),
        (_garbage, "garbage.m4a", ""),
        (_truncated_header, "cut.wav", ""),
        (_image, "picture.amr", ""),
    ],
)
def test_bad_files_raise_one_line_audio_error(tmp_path, maker, name, reason):
    path = maker(tmp_path / name)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    message = str(info.value)
    assert name in message
    assert "\n" not in message
    assert message.count("[E400]") == 1
    assert reason in message


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


def test_truncated_tail_keeps_what_decoded(tmp_path):
    good = write_audio(tmp_path / "full.mp3", "mp3", "libmp3lame", 16000, "mono", seconds=3.0)
    cut = tmp_path / "cut.mp3"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    audio = load_audio(cut)
    assert 1.0 < audio.duration < 2.2
