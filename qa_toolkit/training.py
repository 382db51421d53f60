"""Training packs: examples from the training library as a zip of Markdown or HTML plus clips.

Every text is redacted (:mod:`qa_toolkit.redact`) before it is written; HTML is built from
escaped text only. Audio clips are cut from the call's recording around the finding (a few
seconds before, a couple after) and the stretches where personal data was spoken are muted:
their times are estimated from the character positions inside the segment, widened by a
margin, since transcripts carry no per-character times.
"""

from __future__ import annotations

import html
import io
import wave
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from qa_toolkit.errors import ConfigError
from qa_toolkit.redact import known_names, redact

__all__ = ["FORMATS", "PackOptions", "build_pack", "cut_clip"]

FORMATS = ("html", "markdown")
CATEGORY_TITLES = {
    "threat": "威胁恐吓 threat", "harassment": "辱骂骚扰 harassment", "disclosure": "违规披露 disclosure",
    "deception": "冒充欺骗 deception", "procedure": "流程缺失 procedure", "pii": "个人信息 pii",
    "vulnerability": "弱势客户 vulnerability",
}


@dataclass(frozen=True)
class PackOptions:
    """How to build a pack.

    Attributes:
        fmt: ``html`` or ``markdown``.
        title: Title of the pack.
        clips: Cut audio clips where the recording can be read.
        before / after: Seconds of audio before the finding starts and after it ends.
        mute_margin: Seconds added on each side of a muted stretch of personal data.
    """

    fmt: str = "html"
    title: str = "催收合规培训案例 Training pack"
    clips: bool = True
    before: float = 3.0
    after: float = 2.0
    mute_margin: float = 0.4

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ConfigError(f"unknown pack format {self.fmt!r}; choose one of: {', '.join(FORMATS)}")


def _pii_times(segments: pd.DataFrame | None, t0: float, t1: float, margin: float) -> list[tuple[float, float]]:
    """Estimated times of personal data spoken inside ``[t0, t1]``."""
    out: list[tuple[float, float]] = []
    if segments is None or segments.empty:
        return out
    for seg in segments.itertuples():
        if seg.end < t0 or seg.start > t1 or not seg.text:
            continue
        length, duration = len(seg.text), max(0.0, seg.end - seg.start)
        for span in redact(seg.text).spans:
            a = seg.start + duration * span.start / length - margin
            b = seg.start + duration * span.end / length + margin
            out.append((max(a, t0), min(b, t1)))
    return out


def cut_clip(audio_path: str, start: float, end: float, *, mute: list[tuple[float, float]] = ()) -> bytes:
    """A 16-bit mono WAV of ``[start, end]`` seconds of a recording, ``mute`` stretches silenced.

    Raises:
        AudioError: The recording cannot be decoded.
    """
    from qa_toolkit.audio import load_audio

    audio = load_audio(audio_path)
    samples = audio.mono()
    sr = audio.sample_rate
    a, b = max(0, int(start * sr)), min(len(samples), int(end * sr))
    clip = np.array(samples[a:max(a, b)], dtype=np.float32)
    for m0, m1 in mute:
        clip[max(0, int(m0 * sr) - a):max(0, int(m1 * sr) - a)] = 0.0
    pcm = (np.clip(clip, -1.0, 1.0) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _example_texts(ex: pd.Series, seg_texts: list[str] | None) -> dict[str, Any]:
    segment_text = ex.get("segment_text") or ""
    names = known_names([segment_text, ex.get("text") or "", *(seg_texts or [])])
    r = redact(segment_text, names=names)
    before, hit, after = "", redact(ex.get("text") or "", names=names).text, ""
    sc, ec = ex.get("start_char"), ex.get("end_char")
    if segment_text and pd.notna(sc) and pd.notna(ec) and 0 <= int(sc) <= int(ec) <= len(segment_text):
        x, y = r.map_span(int(sc), int(ec))
        before, hit, after = r.text[:x], r.text[x:y], r.text[y:]
    elif segment_text:
        before = r.text + " — "
    return {"before": before, "hit": hit, "after": after,
            "rewrite": redact(ex.get("rewrite") or "", names=names).text,
            "note": redact(ex.get("note") or "", names=names).text}


def _md(text: str) -> str:
    text = html.escape(text or "", quote=False)
    for ch in "\\`*_[]#|>~":
        text = text.replace(ch, "\\" + ch)
    return text


def build_pack(examples: pd.DataFrame, *, options: PackOptions = PackOptions(),
               segments: dict[str, pd.DataFrame] | None = None) -> tuple[bytes, dict[str, Any]]:
    """Build a training pack.

    Args:
        examples: Rows of :func:`qa_toolkit.store.queries.training_examples_frame`.
        options: Format and clip settings.
        segments: ``call_id -> segments frame`` (start, end, text), used to hide names found
            elsewhere in the call and to mute personal data in the clips.

    Returns:
        The zip file's bytes and a summary (examples, clips, clip errors) for the audit log.
    """
    segments = segments or {}
    files: dict[str, bytes] = {}
    entries = []
    clip_errors: list[str] = []
    for _, ex in examples.iterrows():
        segs = segments.get(ex["call_id"])
        texts = _example_texts(ex, list(segs["text"]) if segs is not None and len(segs) else None)
        clip_name = None
        start, end, audio = ex.get("start"), ex.get("end"), ex.get("audio")
        if options.clips and audio and pd.notna(start):
            t0 = max(0.0, float(start) - options.before)
            t1 = float(end if pd.notna(end) else start) + options.after
            try:
                data = cut_clip(str(audio), t0, t1, mute=_pii_times(segs, t0, t1, options.mute_margin))
                clip_name = f"clips/example-{int(ex['id'])}.wav"
                files[clip_name] = data
            except Exception as err:  # noqa: BLE001 - a missing recording must not stop the pack
                clip_errors.append(f"example {ex['id']}: {err}")
        entries.append((ex, texts, clip_name))
    body = _html(entries, options) if options.fmt == "html" else _markdown(entries, options)
    files["index.html" if options.fmt == "html" else "README.md"] = body.encode("utf-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    summary = {"examples": len(entries), "clips": sum(1 for e in entries if e[2]), "format": options.fmt,
               "clip_errors": clip_errors[:20]}
    return buf.getvalue(), summary


def _grouped(entries):
    order = list(CATEGORY_TITLES)
    return sorted(entries, key=lambda e: (order.index(e[0]["category"]) if e[0]["category"] in order else 99,
                                          e[0]["kind"] != "bad", int(e[0]["id"])))


def _markdown(entries, options: PackOptions) -> str:
    lines = [f"# {_md(options.title)}", "", f"生成时间 {datetime.now():%Y-%m-%d %H:%M}; 个人信息已脱敏 (personal data redacted).", ""]
    current = None
    for ex, t, clip in _grouped(entries):
        if ex["category"] != current:
            current = ex["category"]
            lines += [f"## {_md(CATEGORY_TITLES.get(current, current))}", ""]
        label = "反例 (violation)" if ex["kind"] == "bad" else "正例 (compliant)"
        lines += [f"### {label} · {_md(str(ex.get('rule_id') or ''))}", ""]
        lines.append(f"> {_md(t['before'])}**{_md(t['hit'])}**{_md(t['after'])}")
        lines.append("")
        lines.append(f"- 规则 Rule: `{str(ex.get('rule_id') or '').replace('`', '')}` ({_md(str(ex.get('severity') or ''))})")
        lines.append(f"- 法规 Regulation: {_md(str(ex.get('regulation') or ''))}")
        if ex.get("description"):
            lines.append(f"- 说明 Why: {_md(str(ex['description']))}")
        if t["rewrite"]:
            lines.append(f"- 合规说法 Compliant rewrite: {_md(t['rewrite'])}")
        if t["note"]:
            lines.append(f"- 备注 Note: {_md(t['note'])}")
        if clip:
            lines.append(f"- 录音 Clip: [{clip}]({clip})")
        lines.append("")
    return "\n".join(lines)


def _html(entries, options: PackOptions) -> str:
    e = html.escape
    out = ["<!doctype html><html lang='zh'><head><meta charset='utf-8'>", f"<title>{e(options.title)}</title>",
           ("<style>body{font-family:sans-serif;max-width:56rem;margin:2rem auto;line-height:1.6}"
           "blockquote{background:#f6f6f6;padding:.6rem 1rem;border-left:4px solid #999}"
           "mark{background:#ffd6d6}.good mark{background:#d6f5d6}dt{font-weight:bold}</style></head><body>"),
           f"<h1>{e(options.title)}</h1><p>生成时间 {datetime.now():%Y-%m-%d %H:%M}; 个人信息已脱敏 (personal data redacted).</p>"]
    current = None
    for ex, t, clip in _grouped(entries):
        if ex["category"] != current:
            current = ex["category"]
            out.append(f"<h2>{e(CATEGORY_TITLES.get(current, current))}</h2>")
        label = "反例 (violation)" if ex["kind"] == "bad" else "正例 (compliant)"
        out.append(f"<section class='{'bad' if ex['kind'] == 'bad' else 'good'}'>")
        out.append(f"<h3>{e(label)} · {e(str(ex.get('rule_id') or ''))}</h3>")
        out.append(f"<blockquote>{e(t['before'])}<mark>{e(t['hit'])}</mark>{e(t['after'])}</blockquote><dl>")
        out.append(f"<dt>规则 Rule</dt><dd>{e(str(ex.get('rule_id') or ''))} ({e(str(ex.get('severity') or ''))})</dd>")
        out.append(f"<dt>法规 Regulation</dt><dd>{e(str(ex.get('regulation') or ''))}</dd>")
        if ex.get("description"):
            out.append(f"<dt>说明 Why</dt><dd>{e(str(ex['description']))}</dd>")
        if t["rewrite"]:
            out.append(f"<dt>合规说法 Compliant rewrite</dt><dd>{e(t['rewrite'])}</dd>")
        if t["note"]:
            out.append(f"<dt>备注 Note</dt><dd>{e(t['note'])}</dd>")
        if clip:
            out.append(f"<dt>录音 Clip</dt><dd><audio controls src='{e(clip)}'></audio></dd>")
        out.append("</dl></section>")
    out.append("</body></html>")
    return "\n".join(out)
