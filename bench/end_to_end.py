"""Audio to findings, end to end, against the gold scripts of sample_audio/.

Runs the whole pipeline (decode, Whisper, roles, scan) on every recording in sample_audio/ into a
temporary database, scans the gold scripts (sample_audio/calls.jsonl) with the same lexicon, and
prints, for the labelled violations: how many the scan of the scripts finds, how many the scan of
the audio finds, and the share of the script-found ones that the audio also finds (the aim: >= 80%), and how many
compliant calls (no label) get a finding from the scripts and from the audio.
A labelled segment counts as found from audio when a finding of an acceptable category lies on an
audio segment overlapping the gold segment's time span (+-0.5 s); call-level labels by category.

    python bench/end_to_end.py [--workers 2] [--engine faster-whisper] [--gold DIR/calls.jsonl]

``--gold`` takes any folder made by ``sample_audio/make_calls.py`` (audio, manifest.csv and
calls.jsonl side by side), e.g. the 40 dev calls of ``bench/end_to_end_scripts.jsonl`` (24 with
violations from dev4–dev9, 16 compliant from dev4–dev11; stereo and mono, random voices and containers): in the TTS environment of
``sample_audio/README.md`` run ``python sample_audio/make_calls.py --scripts
bench/end_to_end_scripts.jsonl --out /tmp/e2e``, then ``python bench/end_to_end.py --gold
/tmp/e2e/calls.jsonl``.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

from qa_toolkit.asr import AsrOptions
from qa_toolkit.pipeline import run_audio
from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.transcripts import read_transcripts

ROOT = Path(__file__).resolve().parents[1]


def labelled(t):
    for label in t.extra.get("labels") or []:
        cats = set(label["categories"])
        if label.get("segment") is None:
            yield None, cats
        else:
            seg = t.segments[label["segment"]]
            yield (seg.start, seg.end), cats


def found(findings, span, cats) -> bool:
    for f in findings:
        if f.category not in cats:
            continue
        if span is None and f.segment is None:
            return True
        if span is not None and f.segment is not None and f.start < span[1] + 0.5 and f.end > span[0] - 0.5:
            return True
    return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--gold", type=Path, default=ROOT / "sample_audio" / "calls.jsonl")
    ap.add_argument("--engine", default="faster-whisper")
    ap.add_argument("--vad-pad-ms", type=int, default=0, help="VAD speech padding (default: AsrOptions')")
    ap.add_argument("--beam-size", type=int, default=None)
    args = ap.parse_args()
    gold = {t.call_id: t for t in (r.transcript for r in read_transcripts(args.gold)) if t}
    scanner = Scanner(load_lexicon())
    reports = {}
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        overrides = {k: v for k, v in (("beam_size", args.beam_size), ("vad_speech_pad_ms", args.vad_pad_ms)) if v}
        summary = run_audio([args.gold.parent], db=f"sqlite:///{tmp}/e2e.db", options=AsrOptions(engine=args.engine, **overrides),
                            workers=args.workers, progress=False, on_report=lambda r: reports.__setitem__(r.transcript.call_id, r))
        wall = time.perf_counter() - t0
    n_items = n_script = n_audio = n_both = 0
    script = {call_id: scanner.scan(g) for call_id, g in gold.items()}
    for call_id, g in sorted(gold.items()):
        script_findings = script[call_id]
        audio_findings = list(reports[call_id].findings) if call_id in reports else []
        for span, cats in labelled(g):
            n_items += 1
            s, a = found(script_findings, span, cats), found(audio_findings, span, cats)
            n_script += s
            n_audio += a
            n_both += s and a
            if s and not a:
                print(f"  missed from audio: {call_id} {span} {sorted(cats)}")
    print(json.dumps({"calls": summary.done, "failed": summary.failed, "audio_s": round(summary.audio_seconds, 1),
                      "wall_s": round(wall, 1), "x_realtime": round(summary.audio_seconds / wall, 2)}))
    print(f"labelled violations: {n_items}; found from the scripts: {n_script}; found from the audio: {n_audio}")
    print(f"audio findings match the script findings for {n_both}/{n_script} = {n_both / max(n_script, 1):.0%} "
          "of the labelled violations (aim >= 80%)")
    # false alarms: a compliant call (no label at all) with any finding
    compliant = [c for c, g in gold.items() if not g.extra.get("labels")]
    from_scripts = [c for c in compliant if script[c]]
    from_audio = [c for c in compliant if c in reports and reports[c].findings]
    print(f"compliant calls: {len(compliant)}; flagged from the scripts: {len(from_scripts)}, from the audio: {len(from_audio)} "
          + " ".join(f"{c}:{','.join(sorted({f.rule_id for f in reports[c].findings}))}" for c in from_audio))


if __name__ == "__main__":
    main()
