#!/usr/bin/env python3
"""Rough intelligibility check: transcribe calls with faster-whisper and print the CER.

Usage (repo root, in a venv with faster-whisper, opencc and cn2an, e.g. .venv):
  python sample_audio/check_asr.py --model /tmp/wbase S01 S07
--model is a CTranslate2 Whisper model folder (model.bin, config.json, tokenizer.json,
vocabulary.txt).  Both texts are normalized before scoring: traditional -> simplified
(OpenCC t2s), Arabic numbers -> Chinese numerals (cn2an), everything but CJK removed.
"""
import argparse
import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("call_ids", nargs="+")
    ap.add_argument("--model", required=True)
    ap.add_argument("--calls", type=Path, default=HERE / "calls.jsonl")
    a = ap.parse_args()
    import cn2an
    import opencc
    from faster_whisper import WhisperModel

    cc = opencc.OpenCC("t2s")

    def norm(t: str) -> str:
        t = cc.convert(t)
        try:
            t = cn2an.transform(t, "an2cn")
        except Exception:
            pass
        return re.sub(r"[^\u4e00-\u9fff]", "", t)

    calls = {}
    for line in a.calls.read_text(encoding="utf-8").splitlines():
        if line.strip():
            d = json.loads(line)
            calls[d["call_id"]] = d
    model = WhisperModel(a.model, device="cpu", compute_type="int8")
    te = tn = 0
    for cid in a.call_ids:
        c = calls[cid]
        segs, _ = model.transcribe(str(HERE.parent / c["audio"]), language="zh", beam_size=5)
        hyp = "".join(s.text for s in segs)
        ref = norm("".join(s["text"] for s in c["segments"]))
        e = edit_distance(ref, norm(hyp))
        te, tn = te + e, tn + len(ref)
        print(f"{cid} {c['audio']} CER={e / len(ref):.3f} ({e}/{len(ref)})")
        print("  ASR:", cc.convert(hyp))
    print(f"total CER={te / tn:.3f}")


if __name__ == "__main__":
    main()
