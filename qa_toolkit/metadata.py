"""Call metadata for recordings: a sidecar manifest (CSV or JSON) or the file-name pattern.

A manifest row names the audio file (``file``, relative to the manifest or absolute) and any of
``call_id, started_at, agent_id, team, phone``. Without a row, ``--name-pattern`` (a regex with
named groups, matched against the file name) fills in what it can; the call id defaults to the
file name without its suffix.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from qa_toolkit.errors import ConfigError, InputError

FIELDS = ("call_id", "started_at", "agent_id", "team", "phone")
MANIFEST_NAMES = ("manifest.csv", "manifest.json", "manifest.jsonl")


def load_manifest(path: str | Path) -> dict[str, dict[str, Any]]:
    """``resolved audio path -> metadata`` from a CSV or JSON(L) manifest.

    Raises:
        InputError: The manifest cannot be read or has no ``file`` column.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read manifest: {err}", path=str(path)) from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
    else:
        try:
            data = json.loads(text) if path.suffix.lower() == ".json" else [json.loads(x) for x in text.splitlines() if x.strip()]
        except json.JSONDecodeError as err:
            raise InputError(f"invalid JSON: {err.msg}", path=str(path), line=err.lineno) from None
        rows = data if isinstance(data, list) else [data]
    out: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(rows, 2):
        if not isinstance(row, dict) or not row.get("file"):
            raise InputError("every manifest row needs a `file`", path=str(path), line=n)
        file = Path(row["file"])
        candidates = [file] if file.is_absolute() else [path.parent / file, path.parent / file.name, Path.cwd() / file]
        resolved = next((c for c in candidates if c.exists()), candidates[0])
        out[str(resolved.resolve())] = {k: row[k] for k in FIELDS if row.get(k) not in (None, "")}
    return out


def find_manifest(audio_paths: list[Path]) -> Path | None:
    """A manifest lying in the folder of the first recording, if any."""
    if not audio_paths:
        return None
    folder = audio_paths[0].parent
    return next((folder / n for n in MANIFEST_NAMES if (folder / n).is_file()), None)


def from_name(path: Path, pattern: str | None) -> dict[str, Any]:
    """Metadata from the file name: the call id is the stem, plus the pattern's named groups.

    ``started_at`` may be written ``YYYYmmddHHMMSS`` in the name; it is read as Beijing time.
    """
    meta: dict[str, Any] = {"call_id": path.stem}
    if not pattern:
        return meta
    try:
        m = re.search(pattern, path.name)
    except re.error as err:
        raise ConfigError(f"bad --name-pattern {pattern!r}: {err}") from None
    if m:
        meta.update({k: v for k, v in m.groupdict().items() if v and k in FIELDS})
        raw = meta.get("started_at")
        if raw and re.fullmatch(r"\d{14}", raw):
            meta["started_at"] = datetime.strptime(raw, "%Y%m%d%H%M%S").isoformat() + "+08:00"  # Beijing time
    return meta


def metadata_for(path: Path, manifest: dict[str, dict[str, Any]], pattern: str | None) -> dict[str, Any]:
    """Everything known about one recording; the manifest wins over the name."""
    meta = from_name(path, pattern)
    meta.update(manifest.get(str(path.resolve()), {}))
    meta["audio"] = str(path)
    if isinstance(meta.get("started_at"), str):
        try:
            meta["started_at"] = datetime.fromisoformat(meta["started_at"].replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"started_at is not an ISO 8601 time: {meta['started_at']!r}", path=str(path)) from None
    return meta
