"""The flat orchestrator: audio -> transcript -> findings -> score -> store.

Three jobs, each readable top to bottom:

* :func:`scan_files` — transcript files -> findings (-> store, -> JSONL);
* :func:`transcribe_files` — recordings -> one ``<call_id>.json`` transcript each;
* :func:`run_audio` — recordings -> transcripts -> findings -> store, skipping calls already done
  with the same ASR options and lexicon, recording every failure in the run.

Workers (``workers > 1``) only transcribe, each process loading its model once; the parent
scans and writes, one call per transaction, so a killed run never leaves half a call behind
and a restart finishes the rest. With ``engine="ray"`` the workers are Ray actors on a cluster
(:mod:`qa_toolkit.distributed`) that transcribe and scan; the driver still writes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa_toolkit.errors import AudioError, ConfigError, InputError, QaToolkitError, WorkerError
from qa_toolkit.rules.loader import Lexicon, load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.store import connect
from qa_toolkit.store import repository as repo
from qa_toolkit.transcripts import expand_inputs, read_transcripts, transcript_to_dict, write_jsonl
from qa_toolkit.types import CallReport, Finding, Transcript

ENGINES = ("local", "ray")
MAX_DURATION = 2 * 3600.0  # seconds; longer recordings are refused before decoding (0 = no limit)
AUDIO_SUFFIXES = (".wav", ".mp3", ".m4a", ".aac", ".amr", ".ogg", ".opus", ".flac", ".wma", ".webm", ".mp4", ".3gp")


@dataclass
class RunSummary:
    """What a job did: counts, failures (one line each) and the run id in the store."""

    run_id: str | None = None
    done: int = 0
    skipped: int = 0
    failed: int = 0
    findings: int = 0
    flagged: int = 0
    audio_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def finding_row(f: Finding) -> dict[str, Any]:
    """The JSON form of a finding (one line of ``scan --out``)."""
    return {
        "call_id": f.call_id, "segment": f.segment, "speaker": f.speaker, "category": f.category,
        "rule_id": f.rule_id, "rule_version": f.rule_version, "severity": f.severity,
        "start_char": f.start_char, "end_char": f.end_char, "text": f.text, "start": f.start, "end": f.end,
        "regulation": f.regulation, "explanation": f.explanation, "matcher": f.evidence.matcher,
        "pattern": f.evidence.pattern, "context": list(f.evidence.context), "score": f.evidence.score,
        "lexicon_version": f.lexicon_version, "lexicon_hash": f.lexicon_hash, "finding_id": f.finding_id,
    }


def _progress(total: int, unit: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, disable=not enabled, file=sys.stderr, dynamic_ncols=True)


def _register(engine, lexicon: Lexicon) -> None:
    content = [r.model_dump(mode="json") for r in lexicon.rules]
    repo.register_lexicon(engine, lexicon_hash=lexicon.content_hash, version=lexicon.version, name=lexicon.name,
                          content=content, rules=len(lexicon.rules))


def _tally(summary: RunSummary, report: CallReport) -> None:
    summary.done += 1
    summary.findings += len(report.findings)
    summary.flagged += bool(report.findings)


# -- transcripts -> findings ---------------------------------------------------------------


def read_all(paths: Iterable[str | Path], *, skip_bad: bool) -> tuple[list[Transcript], list[str]]:
    """Every call of every input, checked before anything is used.

    Raises:
        InputError: The first bad file or record, unless ``skip_bad`` (then listed in errors).
    """
    transcripts: list[Transcript] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for path in expand_inputs(paths):
        try:
            records = read_transcripts(path)
        except InputError as err:
            if not skip_bad:
                raise
            errors.append(str(err))
            continue
        for rec in records:
            err = rec.error
            if rec.transcript is not None and rec.transcript.call_id in seen:
                err = InputError(f"call_id {rec.transcript.call_id} also in {seen[rec.transcript.call_id]}", path=rec.path, line=rec.line)
            if err is not None:
                if not skip_bad:
                    raise err
                errors.append(str(err))
                continue
            seen[rec.transcript.call_id] = f"{rec.path}:{rec.line}"
            transcripts.append(rec.transcript)
    return transcripts, errors


def scan_files(
    paths: Iterable[str | Path],
    *,
    db: str | None = None,
    store: bool = True,
    lexicon_dir: str | Path | None = None,
    skip_bad: bool = False,
    out: str | Path | None = None,
    progress: bool = True,
) -> RunSummary:
    """Scan transcript files (JSONL / JSON / CSV, or folders of them).

    By default a bad record refuses the whole input before anything is stored; with
    ``skip_bad`` the good calls are processed and each bad one is reported.
    """
    transcripts, errors = read_all(paths, skip_bad=skip_bad)
    scanner = Scanner(load_lexicon(lexicon_dir))
    summary = RunSummary(errors=errors, skipped=len(errors))
    engine = connect(db) if store else None
    if engine is not None:
        _register(engine, scanner.lexicon)
        summary.run_id = repo.start_run(engine, "scan", {"paths": [str(p) for p in paths], "lexicon": scanner.lexicon.version})
        for e in errors:
            repo.record_item(engine, summary.run_id, e.split(": ")[0], "skipped", error=e)
    rows: list[dict[str, Any]] = []
    status = "failed"
    try:
        with _progress(len(transcripts), "call", progress) as bar:
            for t in transcripts:
                report = scanner.report(repo.apply_corrections(engine, t) if engine is not None else t)
                if engine is not None:
                    repo.save_report(engine, report, summary.run_id, item=t.source or t.call_id)
                rows.extend(finding_row(f) for f in report.findings)
                _tally(summary, report)
                bar.update(1)
        status = "done"
    finally:
        if engine is not None:
            repo.finish_run(engine, summary.run_id, status)
    if out is not None:
        write_jsonl(out, rows)
    return summary


# -- audio -> transcripts ------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(options, factory=None, max_duration: float = MAX_DURATION) -> None:
    from qa_toolkit.asr import create_transcriber

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # One BLAS thread, whatever numpy was imported with: OpenBLAS sums differ by thread count,
    # and those last bits change what Whisper decodes, so results would depend on the machine.
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    _WORKER["transcriber"] = (factory or create_transcriber)(options)
    _WORKER["options"] = options
    _WORKER["max_duration"] = max_duration


def _check_duration(path: str, max_duration: float) -> None:
    """Refuse a recording longer than ``max_duration`` from its header, before decoding it."""
    if not max_duration:
        return
    import av

    try:
        with av.open(path, metadata_errors="ignore") as container:
            seconds = (container.duration or 0) / 1_000_000
    except (av.error.FFmpegError, OSError):
        return  # load_audio says what is wrong with it
    if seconds > max_duration:
        raise AudioError(f"recording is {seconds / 3600:.2f} h, longer than --max-duration {max_duration:.0f} s; "
                         "split it or raise the limit (decoding holds ~230 MB per channel-hour)", path=path)


def _transcribe_one(path: str, meta: dict[str, Any]) -> Transcript:
    from qa_toolkit.asr import transcribe
    from qa_toolkit.audio import load_audio

    call_id = meta.pop("call_id")
    _check_duration(path, _WORKER.get("max_duration", MAX_DURATION))
    audio = load_audio(path)
    return transcribe(audio, _WORKER["options"], call_id=call_id, metadata=meta, transcriber=_WORKER["transcriber"])


def _safe_transcribe(path: str, meta: dict[str, Any]) -> tuple[str, Transcript | None, str | None]:
    try:
        return path, _transcribe_one(path, dict(meta)), None
    except QaToolkitError as err:
        return path, None, str(err)
    except Exception as err:  # noqa: BLE001 - one bad file must not stop the batch
        return path, None, f"{path}: [E400] {err.__class__.__name__}: {err}".splitlines()[0]


def audio_inputs(paths: Iterable[str | Path], manifest: str | Path | None, name_pattern: str | None) -> list[tuple[str, dict[str, Any]]]:
    """``(path, metadata)`` for every recording named or found under the folders named."""
    from qa_toolkit.metadata import find_manifest, load_manifest, metadata_for

    files = expand_inputs(paths, AUDIO_SUFFIXES)
    manifest_path = Path(manifest) if manifest else find_manifest(files)
    rows = load_manifest(manifest_path) if manifest_path else {}
    return [(str(f), metadata_for(f, rows, name_pattern)) for f in files]


def _transcripts(
    items: list[tuple[str, dict[str, Any]]], options, workers: int, factory=None, max_duration: float = MAX_DURATION
) -> Iterator[tuple[str, Transcript | None, str | None]]:
    """Transcribe recordings in this process or in ``workers`` processes, as they finish.

    Raises:
        WorkerError: A worker process died (killed, out of memory); what finished is kept.
    """
    if not items:
        return
    if workers <= 1:
        _init_worker(options, factory, max_duration)
        for path, meta in items:
            yield _safe_transcribe(path, meta)
        return
    # spawn, not fork: a parent with threads (Ray, database drivers) can deadlock a forked child.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(options, factory, max_duration)) as pool:
        futures = [pool.submit(_safe_transcribe, path, meta) for path, meta in items]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        except BrokenProcessPool:
            left = sum(not f.done() or f.exception() is not None for f in futures)
            raise WorkerError(f"a transcription worker died (killed or out of memory) with {left} recordings "
                              "unfinished; finished calls are stored, re-run the same command to do the rest") from None


def _reports(
    items: list[tuple[str, dict[str, Any]]], options, scanner: Scanner, *, workers: int, engine: str = "local",
    address: str | None = None, factory=None, max_duration: float = MAX_DURATION,
) -> Iterator[tuple[str, CallReport | None, str | None]]:
    """``(path, report or None, error)`` per recording, as they finish: local processes
    transcribe and this process scans, or Ray actors do both."""
    if engine == "ray":
        from qa_toolkit.distributed import ray_reports

        yield from ray_reports(items, options, scanner.lexicon, workers=workers, address=address,
                               factory=factory, max_duration=max_duration)
        return
    for path, t, error in _transcripts(items, options, workers, factory, max_duration):
        if t is None:
            yield path, None, error
            continue
        yield scan_one(scanner, path, t)


def scan_one(scanner: Scanner, path: str, transcript: Transcript) -> tuple[str, CallReport | None, str | None]:
    """``(path, report, None)``, or ``(path, None, error)`` when the scan fails (e.g. a rule past its
    time bound): that call fails, the batch goes on. Local and Ray workers both use it."""
    try:
        return path, scanner.report(transcript), None
    except QaToolkitError as err:
        return path, None, f"{path}: {err}"


def transcribe_files(
    paths: Iterable[str | Path],
    out_dir: str | Path,
    *,
    options=None,
    workers: int = 1,
    manifest: str | Path | None = None,
    name_pattern: str | None = None,
    progress: bool = True,
) -> RunSummary:
    """Write one ``<call_id>.json`` transcript per recording; existing ones are skipped."""
    from qa_toolkit.asr import AsrOptions

    options = options or AsrOptions()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = RunSummary()
    todo = []
    for path, meta in audio_inputs(paths, manifest, name_pattern):
        if (out_dir / f"{meta['call_id']}.json").exists():
            summary.skipped += 1
        else:
            todo.append((path, meta))
    with _progress(len(todo), "call", progress) as bar:
        for _path, t, error in _transcripts(todo, options, workers):
            bar.update(1)
            if t is None:
                summary.failed += 1
                summary.errors.append(error)
                continue
            target = out_dir / f"{t.call_id}.json"
            tmp = target.with_suffix(".json.tmp")
            tmp.write_text(json.dumps(transcript_to_dict(t), ensure_ascii=False, indent=1), encoding="utf-8")
            tmp.replace(target)
            summary.done += 1
            summary.audio_seconds += t.duration or 0.0
    return summary


def run_audio(
    paths: Iterable[str | Path],
    *,
    db: str | None = None,
    options=None,
    workers: int = 1,
    lexicon_dir: str | Path | None = None,
    out: str | Path | None = None,
    manifest: str | Path | None = None,
    name_pattern: str | None = None,
    progress: bool = True,
    on_report: Callable[[CallReport], None] | None = None,
    engine: str = "local",
    address: str | None = None,
    max_duration: float = MAX_DURATION,
    transcriber_factory: Callable[[Any], Any] | None = None,
) -> RunSummary:
    """Transcribe, scan and store recordings; safe to re-run.

    A call already transcribed with the same ASR options is not transcribed again; if it was
    scanned with another lexicon it is re-scanned from the stored transcript.

    ``engine`` is ``local`` (``workers`` processes here) or ``ray`` (``workers`` actors on the
    cluster at ``address``; 0 = one per CPU, or per GPU when it has GPUs). Recordings longer
    than ``max_duration`` seconds are refused before decoding (0 = no limit).
    ``transcriber_factory(options)`` builds each worker's engine (default: the real one).
    """
    from qa_toolkit.asr import AsrOptions

    if engine not in ENGINES:
        raise ConfigError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    options = options or AsrOptions()
    items = audio_inputs(paths, manifest, name_pattern)
    scanner = Scanner(load_lexicon(lexicon_dir))
    db_engine = connect(db)
    _register(db_engine, scanner.lexicon)
    summary = RunSummary()
    summary.run_id = repo.start_run(db_engine, "run", {"paths": [str(p) for p in paths], "asr": options.to_dict(),
                                                       "lexicon": scanner.lexicon.version, "workers": workers,
                                                       "engine": engine})
    done = repo.transcribed_calls(db_engine, options.to_dict())
    rows: list[dict[str, Any]] = []
    todo = []
    for path, meta in items:
        call_id = meta["call_id"]
        if call_id not in done:
            todo.append((path, meta))
            continue
        if done[call_id] != scanner.lexicon.content_hash:
            report = scanner.report(repo.load_transcript(db_engine, call_id))
            repo.save_report(db_engine, report, summary.run_id)
            rows.extend(finding_row(f) for f in report.findings)
        summary.skipped += 1
        repo.record_item(db_engine, summary.run_id, path, "skipped", call_id=call_id)
    status = "interrupted"
    try:
        with _progress(len(todo), "call", progress) as bar:
            for path, report, error in _reports(todo, options, scanner, workers=workers, engine=engine, address=address,
                                                factory=transcriber_factory, max_duration=max_duration):
                if report is None:
                    summary.failed += 1
                    summary.errors.append(error)
                    repo.record_item(db_engine, summary.run_id, path, "failed", error=error)
                else:
                    t = report.transcript
                    corrected = repo.apply_corrections(db_engine, t)
                    if corrected is not t:
                        report = scanner.report(corrected)
                    repo.save_report(db_engine, report, summary.run_id, item=path)
                    rows.extend(finding_row(f) for f in report.findings)
                    _tally(summary, report)
                    summary.audio_seconds += t.duration or 0.0
                    if on_report is not None:
                        on_report(report)
                bar.update(1)
                bar.set_postfix_str(f"audio {summary.audio_seconds / 3600:.2f} h, failed {summary.failed}")
        status = "done"
    finally:
        repo.finish_run(db_engine, summary.run_id, status)
    if out is not None:
        write_jsonl(out, rows)
    return summary
