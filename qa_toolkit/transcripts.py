"""Reading and writing transcript files: JSONL, one JSON object (or a list), or CSV.

Every record is checked before use; a bad one raises :class:`InputError` naming the file, the
line and the problem. :func:`read_transcripts` reads a whole file first, so a caller can refuse
an input with a bad record before storing anything from it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from qa_toolkit.errors import InputError
from qa_toolkit.types import SPEAKERS, Segment, Transcript

SUFFIXES = (".jsonl", ".json", ".csv")
_META = ("call_id", "segments", "started_at", "agent_id", "team", "phone", "audio", "duration", "source", "asr")


@dataclass(frozen=True)
class Record:
    """One call read from a file, or the error that stopped it."""

    path: str
    line: int
    transcript: Transcript | None
    error: InputError | None


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, got {value!r}")
    return float(value)


def _opt_number(value: Any, what: str) -> float | None:
    return None if value is None else _number(value, what)


def _segment(raw: Any, i: int) -> Segment:
    if not isinstance(raw, dict):
        raise ValueError(f"segment {i} must be an object")
    text = raw.get("text")
    if not isinstance(text, str):
        raise ValueError(f"segment {i}: text must be a string, got {type(text).__name__}")
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValueError(f"segment {i}: text holds a lone surrogate escape (\\ud800-\\udfff), not a character")
    speaker = raw.get("speaker", "unknown")
    if speaker not in SPEAKERS:
        raise ValueError(f"segment {i}: speaker must be one of {', '.join(SPEAKERS)}, got {speaker!r}")
    start = _number(raw.get("start"), f"segment {i}: start")
    end = _number(raw.get("end"), f"segment {i}: end")
    if start < 0 or end < start:
        raise ValueError(f"segment {i}: end {end} is before start {start}")
    channel = raw.get("channel")
    return Segment(
        start=start,
        end=end,
        speaker=speaker,
        text=text,
        avg_logprob=_opt_number(raw.get("avg_logprob"), f"segment {i}: avg_logprob"),
        no_speech_prob=_opt_number(raw.get("no_speech_prob"), f"segment {i}: no_speech_prob"),
        channel=int(channel) if isinstance(channel, int) else None,
    )


def _datetime(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"started_at must be an ISO 8601 string, got {value!r}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"started_at is not an ISO 8601 time: {value!r}") from None


def _opt_str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {type(value).__name__}")
    return value


def transcript_from_dict(obj: Any, source: str | None = None) -> Transcript:
    """Build a checked :class:`Transcript` from a decoded JSON object.

    Raises:
        ValueError: What is wrong with the record (the caller adds file and line).
    """
    if not isinstance(obj, dict):
        raise ValueError(f"a call must be a JSON object, got {type(obj).__name__}")
    call_id = _opt_str(obj, "call_id")
    if not call_id:
        raise ValueError("call_id is missing")
    raw_segments = obj.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        raise ValueError(f"call {call_id} has no segments")
    segments = tuple(sorted((_segment(s, i) for i, s in enumerate(raw_segments)), key=lambda s: s.start))
    if [s.start for s in segments] != [_number(s.get("start"), "start") for s in raw_segments]:
        raise ValueError(f"call {call_id}: segments are not in time order")
    asr = obj.get("asr") or {}
    if not isinstance(asr, dict):
        raise ValueError("asr must be an object")
    return Transcript(
        call_id=call_id,
        segments=segments,
        started_at=_datetime(obj.get("started_at")),
        agent_id=_opt_str(obj, "agent_id"),
        team=_opt_str(obj, "team"),
        phone=_opt_str(obj, "phone"),
        audio=_opt_str(obj, "audio"),
        duration=_opt_number(obj.get("duration"), "duration"),
        source=_opt_str(obj, "source") or source,
        asr=asr,
        extra={k: v for k, v in obj.items() if k not in _META},
    )


def transcript_to_dict(t: Transcript) -> dict[str, Any]:
    """The JSON form of a transcript (the input format of ``scan``)."""
    out: dict[str, Any] = {"call_id": t.call_id}
    for key in ("agent_id", "team", "phone", "audio", "duration", "source"):
        if getattr(t, key) is not None:
            out[key] = getattr(t, key)
    if t.started_at is not None:
        out["started_at"] = t.started_at.isoformat()
    if t.asr:
        out["asr"] = t.asr
    out["segments"] = [
        {k: v for k, v in (("start", s.start), ("end", s.end), ("speaker", s.speaker), ("text", s.text),
                           ("avg_logprob", s.avg_logprob), ("no_speech_prob", s.no_speech_prob), ("channel", s.channel)) if v is not None}
        for s in t.segments
    ]
    out.update(t.extra)
    return out


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror}", path=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte 0x{data[err.start]:02x} at offset {err.start})", path=str(path), line=line) from None
    if not text.strip():
        raise InputError("empty file: no calls", path=str(path))
    return text


def _records_json(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    if path.suffix == ".json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"invalid JSON: {err.msg}", path=str(path), line=err.lineno) from None
        for item in obj if isinstance(obj, list) else [obj]:
            yield 1, item
        return
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as err:
            yield n, InputError(f"invalid JSON: {err.msg} (column {err.colno})", path=str(path), line=n)


def _records_csv(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"call_id", "start", "end", "speaker", "text"} - set(reader.fieldnames or ())
    if missing:
        raise InputError(f"CSV needs columns call_id,start,end,speaker,text; missing {', '.join(sorted(missing))}", path=str(path), line=1)
    calls: dict[str, tuple[int, dict]] = {}
    for row in reader:
        line = reader.line_num
        try:
            seg = {"start": float(row["start"]), "end": float(row["end"]), "speaker": row["speaker"], "text": row["text"]}
        except (TypeError, ValueError):
            yield line, InputError(f"start/end must be numbers, got {row['start']!r}, {row['end']!r}", path=str(path), line=line)
            continue
        first_line, call = calls.setdefault(row["call_id"], (line, {"call_id": row["call_id"], "segments": []}))
        call["segments"].append(seg)
        for key in ("started_at", "agent_id", "team", "phone", "audio"):
            if row.get(key):
                call[key] = row[key]
    for first_line, call in calls.values():
        call["segments"].sort(key=lambda s: s["start"])
        yield first_line, call


def read_transcripts(path: str | Path) -> list[Record]:
    """Every call of one file, each checked; bad records carry their error.

    Raises:
        InputError: The file as a whole cannot be read (missing, not UTF-8, empty, bad JSON).
    """
    path = Path(path)
    text = _decode(path)
    raw = _records_csv(path, text) if path.suffix.lower() == ".csv" else _records_json(path, text)
    out: list[Record] = []
    seen: dict[str, int] = {}
    for line, obj in raw:
        if isinstance(obj, InputError):
            out.append(Record(str(path), line, None, obj))
            continue
        try:
            t = transcript_from_dict(obj, source=str(path))
        except ValueError as err:
            out.append(Record(str(path), line, None, InputError(str(err), path=str(path), line=line)))
            continue
        if t.call_id in seen:
            err = InputError(f"call_id {t.call_id} already appears on line {seen[t.call_id]}", path=str(path), line=line)
            out.append(Record(str(path), line, None, err))
            continue
        seen[t.call_id] = line
        out.append(Record(str(path), line, t, None))
    if not out:
        raise InputError("no calls in file", path=str(path))
    return out


def expand_inputs(paths: Iterable[str | Path], suffixes: tuple[str, ...] = SUFFIXES) -> list[Path]:
    """Files named, and files with a known suffix found under directories named, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in suffixes))
        elif p.exists():
            out.append(p)
        else:
            raise InputError("no such file or directory", path=str(p))
    return out


def write_jsonl(path: str | Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as JSON lines atomically (a temp file renamed into place); returns the count."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n
