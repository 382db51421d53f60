"""``qa-toolkit``: thin subcommands over the library. Errors print one line and exit 1."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter
from pathlib import Path

from qa_toolkit import __version__
from qa_toolkit.errors import ConfigError, QaToolkitError

ASR_ENGINES = ("faster-whisper", "openai-whisper")
MAX_DURATION = 2 * 3600.0  # = qa_toolkit.pipeline.MAX_DURATION (not imported: the CLI starts fast)


def _print_summary(summary, what: str) -> None:
    hours = f", {summary.audio_seconds / 3600:.2f} h of audio" if summary.audio_seconds else ""
    found = "" if what == "transcribe" else f"; {summary.findings} findings in {summary.flagged} flagged calls"
    run = f" (run {summary.run_id})" if summary.run_id else ""
    print(f"{what}: {summary.done} done, {summary.skipped} skipped, {summary.failed} failed{hours}{found}{run}")
    label = "skipped" if what == "scan" else "failed"  # scan skips bad records; audio jobs fail files
    for e in summary.errors:
        print(f"  {label}: {e}", file=sys.stderr)


def cmd_scan(args) -> int:
    from qa_toolkit.pipeline import scan_files

    summary = scan_files(args.inputs, db=args.db, store=not args.no_store, lexicon_dir=args.lexicons,
                         skip_bad=args.skip_bad, out=args.out, progress=not args.quiet)
    _print_summary(summary, "scan")
    return 0


def cmd_lexicon_validate(args) -> int:
    from qa_toolkit.rules.loader import load_lexicon
    from qa_toolkit.scan import Scanner

    lexicon = load_lexicon(args.dir)
    Scanner(lexicon)  # compiles every pattern
    counts = Counter(r.category for r in lexicon.rules)
    print(f"{lexicon.path}: {lexicon.name} {lexicon.version} ({lexicon.content_hash}) OK, {len(lexicon.rules)} rules: "
          + ", ".join(f"{c} {n}" for c, n in sorted(counts.items())))
    return 0


def cmd_lexicon_test(args) -> int:
    from qa_toolkit.rules.examples import run_examples
    from qa_toolkit.rules.loader import load_lexicon
    from qa_toolkit.scan import Scanner

    n, failures = run_examples(Scanner(load_lexicon(args.dir)))
    for f in failures:
        print(f"{f.origin}: rule {f.rule_id} should {'match' if f.expected == 'match' else 'not match'}: {f.example}")
    print(f"{n - len(failures)} of {n} examples behave as their rules say")
    return 1 if failures else 0


def cmd_lexicon_diff(args) -> int:
    from qa_toolkit.pipeline import read_all
    from qa_toolkit.rules.loader import load_lexicon
    from qa_toolkit.scan import Scanner

    old, new = Scanner(load_lexicon(args.old)), Scanner(load_lexicon(args.new))
    transcripts, _ = read_all(args.transcripts, skip_bad=False)
    added = removed = 0
    for t in transcripts:
        key = lambda f: (f.segment, f.rule_id, f.start_char)  # noqa: E731
        a = {key(f): f for f in old.scan(t)}
        b = {key(f): f for f in new.scan(t)}
        for k in sorted(set(b) - set(a), key=str):
            f = b[k]
            added += 1
            print(f"+ {t.call_id}#{f.segment if f.segment is not None else 'call'} {f.rule_id} [{f.category}] {f.text}")
        for k in sorted(set(a) - set(b), key=str):
            f = a[k]
            removed += 1
            print(f"- {t.call_id}#{f.segment if f.segment is not None else 'call'} {f.rule_id} [{f.category}] {f.text}")
    print(f"{old.lexicon.version} ({old.lexicon.content_hash}) -> {new.lexicon.version} ({new.lexicon.content_hash}): "
          f"{added} findings added, {removed} removed on {len(transcripts)} calls")
    return 0


def cmd_lexicon_train(args) -> int:
    from qa_toolkit.pipeline import read_all
    from qa_toolkit.rules.classifier import labelled_turns, train

    # file by file: a degraded copy of a corpus repeats its call ids on purpose
    transcripts = [t for path in args.gold for t in read_all([path], skip_bad=False)[0]]
    categories = [c.strip() for c in args.categories.split(",") if c.strip()]
    turns = labelled_turns(transcripts)
    meta = {"trained_on": sorted({Path(p).name for p in args.gold}), "agent_turns": len(turns)}
    try:
        model = train(turns, categories, meta=meta)
    except ValueError as err:  # a category without labelled turns on one side
        raise ConfigError(f"--categories: {err} in {', '.join(meta['trained_on'])}") from None
    model.save(args.out)
    counts = ", ".join(f"{c} {sum(c in cats for _, cats in turns)}" for c in categories)
    print(f"{len(turns)} agent turns of {len(transcripts)} calls ({counts} labelled) -> {args.out}: "
          f"{len(model.idf)} n-grams, models for {', '.join(categories)}")
    return 0


def cmd_eval(args) -> int:
    from qa_toolkit.evaluate import evaluate, format_result
    from qa_toolkit.pipeline import read_all
    from qa_toolkit.rules.loader import load_lexicon
    from qa_toolkit.scan import Scanner

    scanner = Scanner(load_lexicon(args.lexicons))
    transcripts, _ = read_all(args.gold, skip_bad=False)
    result = evaluate((t, scanner.scan(t)) for t in transcripts)
    print(f"{len(transcripts)} calls, lexicon {scanner.lexicon.version} ({scanner.lexicon.content_hash})")
    print(format_result(result, by=args.by, show_errors=args.errors))
    return 0


def _asr_options(args):
    """AsrOptions from the flags given; flags left out keep the measured defaults."""
    from qa_toolkit.asr import AsrOptions

    given = {
        "engine": args.asr_engine, "model": args.model, "device": args.device, "compute_type": args.compute_type,
        "beam_size": args.beam_size, "batch_size": args.batch_size, "channel_roles": args.channels,
    }
    options = {k: v for k, v in given.items() if v is not None}
    if args.hotwords:
        from qa_toolkit.rules.loader import load_lexicon

        lexicon = load_lexicon(args.lexicons)
        options["hotwords"] = tuple(sorted({t for r in lexicon.rules if r.match for t in r.match.terms if len(t) >= 2}))
    return AsrOptions(**options)


def cmd_transcribe(args) -> int:
    from qa_toolkit.pipeline import transcribe_files

    summary = transcribe_files(args.inputs, args.out, options=_asr_options(args), workers=args.workers or 1,
                               manifest=args.manifest, name_pattern=args.name_pattern, progress=not args.quiet)
    _print_summary(summary, "transcribe")
    return 1 if summary.failed and not summary.done else 0


def cmd_run(args) -> int:
    from qa_toolkit.pipeline import run_audio

    if args.engine in ASR_ENGINES:  # the old meaning of --engine on `run`
        args.asr_engine, args.engine = args.engine, "local"
    if args.address and args.engine != "ray":
        raise ConfigError("--address needs --engine ray")
    workers = args.workers if args.workers is not None else (0 if args.engine == "ray" else 1)
    summary = run_audio(args.inputs, db=args.db, options=_asr_options(args), workers=workers,
                        lexicon_dir=args.lexicons, out=args.out, manifest=args.manifest,
                        name_pattern=args.name_pattern, progress=not args.quiet,
                        engine=args.engine, address=args.address, max_duration=args.max_duration)
    _print_summary(summary, "run")
    if not args.quiet:
        _print_store_summary(args.db)
    return 1 if summary.failed and not summary.done and not summary.skipped else 0


def _print_store_summary(db: str | None) -> None:
    from sqlalchemy import func, select

    from qa_toolkit.store import connect
    from qa_toolkit.store.schema import calls, findings

    engine = connect(db)
    current = (findings.c.call_id == calls.c.call_id) & (findings.c.lexicon_hash == calls.c.lexicon_hash)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(calls)).scalar_one()
        top = conn.execute(select(calls.c.call_id, calls.c.risk, calls.c.critical).order_by(calls.c.risk.desc()).limit(5)).all()
        cats = conn.execute(select(findings.c.category, func.count()).select_from(calls.join(findings, current))
                            .group_by(findings.c.category).order_by(func.count().desc())).all()
    print(f"store {engine.url.render_as_string()}: {n} calls; findings by category: " + (", ".join(f"{c} {k}" for c, k in cats) or "none"))
    for call_id, risk, critical in top:
        print(f"  {call_id:<16} risk {risk:5.1f}{'  CRITICAL' if critical else ''}")


def cmd_db_upgrade(args) -> int:
    from qa_toolkit.store.database import database_url
    from qa_toolkit.store.migrate import current, head, upgrade

    url = database_url(args.db)
    before = current(url)
    after = upgrade(url, args.revision)
    print(f"{url}: schema {before or 'unversioned'} -> {after} (newest {head()})")
    return 0


def cmd_models(args) -> int:
    from qa_toolkit.asr import install_model, list_models

    if args.action == "install":
        print(install_model(args.name))
        return 0
    for m in list_models():
        print("  ".join(f"{k}={v}" for k, v in m.items()))
    return 0


def cmd_dashboard(args) -> int:
    app = Path(__file__).resolve().parent.parent / "dashboards" / "streamlit_app.py"
    if not app.is_file():
        raise QaToolkitError(f"dashboard not found at {app} (run from a source checkout)")
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false", "--"]
    if args.db:
        cmd += ["--db", args.db]
    if args.users:
        cmd += ["--users", args.users]
    return subprocess.call(cmd)


def _asr_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speech recognition")
    g.add_argument("--asr-engine", help="faster-whisper (default) or openai-whisper")
    g.add_argument("--model", help="base (default, offline), a model folder, or a name to download when online")
    g.add_argument("--device", help="auto (default), cpu or cuda")
    g.add_argument("--compute-type", help="auto (default: int8 on CPU, float16 on GPU), int8, float16, float32, ...")
    g.add_argument("--beam-size", type=int)
    g.add_argument("--batch-size", type=int, help="> 1: batched faster-whisper pipeline")
    g.add_argument("--channels", help="roles of the channels of stereo recordings, in order (default agent,customer)")
    g.add_argument("--hotwords", action="store_true", help="pass lexicon terms to the decoder as hot words")
    g.add_argument("--workers", type=int, help="transcription processes (default 1); with --engine ray: actors "
                   "(default 0 = one per CPU of the cluster, or per GPU when it has GPUs)")
    g.add_argument("--manifest", help="CSV/JSON with file,call_id,started_at,agent_id,team,phone (default: manifest.* beside the audio)")
    g.add_argument("--name-pattern", help=r"regex with named groups over file names, e.g. '(?P<agent_id>A\d+)_(?P<started_at>\d{14})'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa-toolkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"qa-toolkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("scan", help="scan transcript files and store the findings")
    p.add_argument("inputs", nargs="+", help="JSONL / JSON / CSV files or folders")
    p.add_argument("--out", help="write findings as JSONL here")
    p.add_argument("--db", help="database URL (default $QA_TOOLKIT_DB or sqlite:///qa_toolkit.db)")
    p.add_argument("--no-store", action="store_true", help="do not write to the database")
    p.add_argument("--lexicons", help="lexicon folder (default: the packaged lexicons)")
    p.add_argument("--skip-bad", action="store_true", help="store the good calls and report each bad record")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_scan)

    lex = sub.add_parser("lexicon", help="check, test and compare lexicons").add_subparsers(dest="action", required=True)
    p = lex.add_parser("validate", help="schema-check a lexicon folder")
    p.add_argument("dir", nargs="?")
    p.set_defaults(func=cmd_lexicon_validate)
    p = lex.add_parser("test", help="run every rule's own examples")
    p.add_argument("dir", nargs="?")
    p.set_defaults(func=cmd_lexicon_test)
    p = lex.add_parser("diff", help="findings a lexicon change adds and removes on a corpus")
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--transcripts", nargs="+", required=True)
    p.set_defaults(func=cmd_lexicon_diff)
    p = lex.add_parser("train", help="train the learned model (classifier.json.gz) on labelled calls")
    p.add_argument("gold", nargs="+", help="labelled corpus files (never the split you measure on)")
    p.add_argument("--out", required=True, help="where to write the model (the lexicon folder's classifier file)")
    p.add_argument("--categories", default="threat,deception,harassment")
    p.set_defaults(func=cmd_lexicon_train)

    p = sub.add_parser("eval", help="precision / recall / F1 against gold labels")
    p.add_argument("gold", nargs="+")
    p.add_argument("--by", default="category", choices=["category", "rule", "tag"])
    p.add_argument("--lexicons")
    p.add_argument("--errors", type=int, default=50, help="list this many misses and false alarms")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("transcribe", help="recordings -> one <call_id>.json transcript each")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--lexicons")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--engine", dest="asr_engine", choices=ASR_ENGINES, help=argparse.SUPPRESS)  # old name of --asr-engine
    _asr_arguments(p)
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("run", help="transcribe + scan + store recordings (re-runnable)")
    p.add_argument("inputs", nargs="+")
    p.add_argument("--db")
    p.add_argument("--out", help="also write findings as JSONL here")
    p.add_argument("--lexicons")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--engine", default="local", choices=("local", "ray", *ASR_ENGINES), metavar="{local,ray}",
                   help="where to transcribe and scan: local processes (default) or a Ray cluster")
    p.add_argument("--address", help="Ray cluster: auto (the one this node belongs to) or ray://host:10001; "
                   "default: $RAY_ADDRESS, else a local Ray started for this run")
    p.add_argument("--max-duration", type=float, default=MAX_DURATION,
                   help=f"refuse recordings longer than this many seconds before decoding (default {MAX_DURATION:.0f}; 0 = no limit)")
    _asr_arguments(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("db", help="database schema").add_subparsers(dest="action", required=True)
    p = p.add_parser("upgrade", help="migrate the database to the newest schema, keeping its data (Alembic)")
    p.add_argument("--db", help="database URL (default $QA_TOOLKIT_DB or sqlite:///qa_toolkit.db)")
    p.add_argument("--revision", default="head", help="target revision (default: the newest)")
    p.set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("models", help="offline ASR models")
    p.add_argument("action", choices=["list", "install"])
    p.add_argument("name", nargs="?", default="base")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("dashboard", help="start the Streamlit review dashboard")
    p.add_argument("--db")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--users", help="users file (hashed passwords, roles); sign-in is off without it")
    p.set_defaults(func=cmd_dashboard)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except QaToolkitError as err:
        print(f"qa-toolkit: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa-toolkit: interrupted; finished calls are stored, re-run to do the rest", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
