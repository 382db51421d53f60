"""Training packs: redacted, escaped, grouped, with clips cut (and personal data muted)."""

from __future__ import annotations

import io
import wave
import zipfile

import numpy as np
import pandas as pd
import pytest

from qa_toolkit.training import PackOptions, build_pack


def _wav(path, seconds: float = 12.0, sr: int = 16000) -> None:
    t = np.arange(int(seconds * sr)) / sr
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())


def _examples(audio: str | None) -> pd.DataFrame:
    seg = "陈建国先生，你不还钱我们就去你单位找领导，电话13800138000<b>"
    return pd.DataFrame([{
        "id": 1, "call_id": "C1", "category": "threat", "kind": "bad", "rule_id": "threat.visit_work",
        "severity": "high", "regulation": "刑法 第293条之一", "description": "threatens a visit to the employer",
        "text": "去你单位找领导", "segment_text": seg, "start_char": seg.index("去"), "end_char": seg.index("领导") + 2,
        "start": 6.0, "end": 10.0, "audio": audio, "rewrite": "请您今天给我一个明确的还款时间。", "note": "<script>x</script>",
    }])


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_pack_is_redacted_and_escaped(fmt):
    data, summary = build_pack(_examples(None), options=PackOptions(fmt=fmt, clips=False))
    z = zipfile.ZipFile(io.BytesIO(data))
    body = z.read("index.html" if fmt == "html" else "README.md").decode("utf-8")
    assert "13800138000" not in body and "陈建国" not in body
    assert "<script>" not in body and "<b>" not in body
    assert "去你单位找领导" in body and "刑法 第293条之一" in body and "明确的还款时间" in body
    assert summary["examples"] == 1


def test_pack_clip_is_cut_and_pii_muted(tmp_path):
    audio = tmp_path / "call.wav"
    _wav(audio)
    segments = {"C1": pd.DataFrame([{"start": 6.0, "end": 10.0, "text": _examples(None)["segment_text"][0]}])}
    data, summary = build_pack(_examples(str(audio)), options=PackOptions(fmt="html"), segments=segments)
    assert summary["clips"] == 1, summary
    z = zipfile.ZipFile(io.BytesIO(data))
    with wave.open(io.BytesIO(z.read("clips/example-1.wav"))) as w:
        assert w.getframerate() == 16000
        assert w.getnframes() == pytest.approx(9 * 16000, abs=160)  # 3 s before .. 2 s after
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    silent = np.abs(pcm) < 5
    assert 0.05 < silent.mean() < 0.6  # the name and the phone number are muted, the rest is not
