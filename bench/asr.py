#!/usr/bin/env python3
"""ASR benchmark on sample_audio: CER, keyword recall, role accuracy, speed and memory.

Usage (repo root)::

    python bench/asr.py                                  # default settings, all calls
    python bench/asr.py --settings fw-beam5,ow-beam5 --calls S01,S02
    python bench/asr.py --list                           # the named settings

Per setting (engine, model, options) it prints pooled character error rate against the
gold scripts (both sides normalized: OpenCC t2s, Arabic numbers -> Chinese numerals,
everything but CJK characters removed), keyword recall for domain terms, speaker-role
accuracy (speech-time weighted; stereo and mono separately), real-time factor (audio seconds
per wall second, model load excluded), model load time and peak resident memory. Each
setting runs in its own process so peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from qa_toolkit.asr.metrics import cer_text, edit_distance

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Domain terms the rules key on (and what hot words would carry).
KEYWORDS = (
    "逾期",
    "还款",
    "征信",
    "起诉",
    "上门",
    "单位",
    "家人",
    "罚息",
    "身份证",
    "账单",
    "欠款",
    "信用卡",
    "贷款",
    "协商",
    "分期",
    "委托",
    "工号",
    "法院",
    "律师",
    "通讯录",
    "利息",
    "本金",
    "客服",
    "核对",
    "转账",
    "最低还款",
    "催收",
    "坐牢",
    "立案",
    "黑名单",
)

BASE = {"engine": "faster-whisper", "model": "base"}
SETTINGS: dict[str, dict] = {
    "fw-default": {},
    "fw-pad400": {"vad_speech_pad_ms": 400},  # faster-whisper's own VAD padding
    "fw-beam5": {"beam_size": 5},
    "fw-greedy": {"beam_size": 1},
    "fw-batch4": {"batch_size": 4},
    "fw-batch8": {"batch_size": 8, "beam_size": 5},
    "fw-batch8-greedy": {"batch_size": 8, "beam_size": 1},
    "fw-hotwords": {"beam_size": 5, "hotwords": KEYWORDS},
    "fw-batch8-hotwords": {"batch_size": 8, "beam_size": 5, "hotwords": KEYWORDS},
    "fw-greedy-hotwords": {"beam_size": 1, "hotwords": KEYWORDS},
    "fw-prompt": {"beam_size": 5, "initial_prompt": "以下是普通话的电话录音，使用简体中文。"},
    "fw-condition": {"beam_size": 5, "condition_on_previous_text": True},
    "fw-noguards": {"guards": False},
    "fw-vad-off": {"beam_size": 5, "vad": "off"},
    "fw-vad-mask": {"vad": "mask"},
    "fw-float32": {"compute_type": "float32"},
    "ow-default": {"engine": "openai-whisper"},
    "ow-beam5": {"engine": "openai-whisper", "beam_size": 5},
    "ow-greedy": {"engine": "openai-whisper", "beam_size": 1},
    "fw-float32-greedy": {"compute_type": "float32", "beam_size": 1},
}
DEFAULT_SETTINGS = "fw-default,fw-beam5,fw-batch8,fw-hotwords,ow-greedy"


def keyword_counts(ref: str, hyp: str) -> tuple[int, int]:
    """(found, expected) occurrences of KEYWORDS, capped per term by the reference count."""
    found = expected = 0
    for term in KEYWORDS:
        n = ref.count(term)
        if n:
            expected += n
            found += min(n, hyp.count(term))
    return found, expected


def load_gold(path: Path) -> dict[str, dict]:
    calls = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            call = json.loads(line)
            calls[call["call_id"]] = call
    return calls


def run_setting(name: str, calls_path: Path, only: list[str] | None) -> dict:
    """Transcribe every call with one setting (in this process) and score it."""
    from qa_toolkit.asr import AsrOptions, create_transcriber
    from qa_toolkit.audio import load_audio
    from qa_toolkit.speakers import role_accuracy

    gold = load_gold(calls_path)
    options = AsrOptions(**{**BASE, **SETTINGS[name]})
    t0 = time.perf_counter()
    engine = create_transcriber(options)
    load_s = time.perf_counter() - t0
    edits = chars = kw_found = kw_expected = 0
    audio_s = wall_s = 0.0
    roles = {"stereo": [0.0, 0.0], "mono": [0.0, 0.0]}
    per_call = []
    for call_id, call in gold.items():
        if only and call_id not in only:
            continue
        audio_path = calls_path.parent / Path(call["audio"]).name  # calls.jsonl sits beside its audio
        t0 = time.perf_counter()
        audio = load_audio(audio_path)
        transcript = engine.transcribe(audio, call_id=call_id)
        wall = time.perf_counter() - t0
        ref = cer_text("".join(s["text"] for s in call["segments"]))
        hyp = cer_text("".join(s.text for s in transcript.segments))
        e = edit_distance(ref, hyp)
        f, x = keyword_counts(ref, hyp)
        correct, total = role_accuracy(transcript.segments, call["segments"])
        kind = "stereo" if audio.num_channels > 1 else "mono"
        roles[kind][0] += correct
        roles[kind][1] += total
        edits, chars, kw_found, kw_expected = edits + e, chars + len(ref), kw_found + f, kw_expected + x
        audio_s += audio.duration
        wall_s += wall
        per_call.append(
            {
                "call": call_id,
                "kind": kind,
                "cer": round(e / max(1, len(ref)), 3),
                "roles": round(correct / total, 3) if total else None,
                "rtf": round(audio.duration / wall, 1),
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "setting": name,
        "engine": options.engine,
        "model": options.model,
        "cer": edits / max(1, chars),
        "kw_recall": kw_found / max(1, kw_expected),
        "kw": f"{kw_found}/{kw_expected}",
        "roles_stereo": roles["stereo"][0] / roles["stereo"][1] if roles["stereo"][1] else None,
        "roles_mono": roles["mono"][0] / roles["mono"][1] if roles["mono"][1] else None,
        "speed_x": audio_s / max(wall_s, 1e-9),
        "audio_s": audio_s,
        "load_s": load_s,
        "peak_mb": peak_mb,
        "calls": per_call,
    }


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", default=DEFAULT_SETTINGS, help="comma-separated names (see --list)")
    ap.add_argument("--calls", default="", help="comma-separated call ids (default: all)")
    ap.add_argument("--gold", type=Path, default=ROOT / "sample_audio" / "calls.jsonl")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--per-call", action="store_true", help="print per-call figures")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    only = [c for c in args.calls.split(",") if c] or None
    if args.list:
        for name, opts in SETTINGS.items():
            print(f"{name:20s} {json.dumps({**BASE, **opts}, ensure_ascii=False)[:110]}")
        return
    if args.worker:
        print(json.dumps(run_setting(args.worker, args.gold, only)))
        return

    results = []
    for name in [s for s in args.settings.split(",") if s]:
        if name not in SETTINGS:
            sys.exit(f"unknown setting {name!r}; valid: {', '.join(SETTINGS)}")
        cmd = [sys.executable, __file__, "--worker", name, "--gold", str(args.gold), "--calls", args.calls]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"  done {name}: CER {r['cer']:.3f}, {r['speed_x']:.1f}x", file=sys.stderr, flush=True)
        if args.json:  # keep what is done if a later setting is interrupted
            args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))

    header = f"{'setting':20s} {'engine':15s} {'CER':>6s} {'kw recall':>10s} {'roles st':>8s} {'roles mono':>10s} {'speed':>7s} {'load s':>6s} {'peak MB':>7s}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['setting']:20s} {r['engine']:15s} {r['cer']:6.3f} {r['kw_recall']:6.3f} {r['kw']:>3s}"
            f" {_fmt(r['roles_stereo'], '8.3f')} {_fmt(r['roles_mono'], '10.3f')} {r['speed_x']:6.1f}x"
            f" {r['load_s']:6.1f} {r['peak_mb']:7.0f}"
        )
        if args.per_call:
            for c in r["calls"]:
                print(f"    {c['call']} {c['kind']:6s} CER {c['cer']:.3f} roles {c['roles']} {c['rtf']}x")
    if results:
        print(
            f"\naudio: {results[0]['audio_s']:.0f} s in {len(results[0]['calls'])} calls; "
            "speed = audio seconds per wall second (decode + ASR + roles, model load excluded)"
        )
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
