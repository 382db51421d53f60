"""Loading a lexicon folder: YAML -> schema check -> :class:`Lexicon`, or a ``file:line`` error.

Nothing falls back to defaults: a broken file stops the run with the file, the line and what
is wrong. The lexicon's identity is its declared version plus a hash of its content, stored
with every finding so a result can be traced to the exact rules that produced it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qa_toolkit.errors import LexiconError
from qa_toolkit.rules.classifier import Classifier
from qa_toolkit.rules.schema import LexiconHeader, Rule, RuleFile
from qa_toolkit.types import CATEGORIES

HEADER_FILE = "lexicon.yaml"


@dataclass(frozen=True)
class Lexicon:
    """A validated lexicon: its header, its rules, and where each rule was written."""

    path: Path
    header: LexiconHeader
    rules: tuple[Rule, ...]
    origins: dict[str, str]  # rule id -> "file:line"
    content_hash: str
    classifier: Classifier | None = None

    @property
    def version(self) -> str:
        return self.header.version

    @property
    def name(self) -> str:
        return self.header.name


def default_lexicon_dir() -> Path:
    """The lexicons shipped with the package (``qa_toolkit/lexicons``, a copy of ``lexicons/``)."""
    repo = Path(__file__).resolve().parents[2] / "lexicons"
    if (repo / HEADER_FILE).is_file():
        return repo
    return Path(str(resources.files("qa_toolkit") / "lexicons"))


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    out = {} if out is None else out
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out[path + (key.value,)] = key.start_mark.line + 1
            _line_map(value, path + (key.value,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), out)
    return out


def _read_yaml(path: Path) -> tuple[Any, dict[tuple, int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise LexiconError(f"not UTF-8 text (byte {err.start})", path=str(path)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise LexiconError(f"invalid YAML: {problem}", path=str(path), line=line) from None
    if node is None:
        raise LexiconError("empty file", path=str(path))
    return data, _line_map(node)


def _validate(model, data: Any, path: Path, lines: dict[tuple, int]):
    try:
        return model.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        loc: tuple = ()
        for part in first["loc"]:  # union members add tags such as 'str' to the path: skip them
            if loc + (part,) in lines:
                loc += (part,)
        line = lines.get(loc)
        where = ".".join(str(p) for p in loc)
        msg = first["msg"].removeprefix("Value error, ")
        raise LexiconError(f"{where}: {msg}" if where else msg, path=str(path), line=line) from None


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Load and check every YAML file of a lexicon folder.

    Args:
        path: The folder (holding ``lexicon.yaml``); the packaged default when None.

    Raises:
        LexiconError: ``file:line: [E300] what is wrong`` for the first problem found.
    """
    folder = Path(path) if path is not None else default_lexicon_dir()
    header_path = folder / HEADER_FILE
    if not header_path.is_file():
        raise LexiconError(f"no {HEADER_FILE} here: not a lexicon folder", path=str(folder))
    raw, lines = _read_yaml(header_path)
    header = _validate(LexiconHeader, raw, header_path, lines)
    digest = hashlib.sha256()
    digest.update(json.dumps(raw, ensure_ascii=False, sort_keys=True).encode())
    rules: list[Rule] = []
    origins: dict[str, str] = {}
    files = sorted(p for p in folder.glob("*.yaml") if p.name != HEADER_FILE)
    if not files:
        raise LexiconError("no rule files (*.yaml) beside lexicon.yaml", path=str(folder))
    for file in files:
        raw, lines = _read_yaml(file)
        digest.update(file.name.encode())
        digest.update(json.dumps(raw, ensure_ascii=False, sort_keys=True).encode())
        parsed = _validate(RuleFile, raw, file, lines)
        for i, rule in enumerate(parsed.rules):
            where = f"{file}:{lines.get(('rules', i), 0)}"
            if rule.id in origins:
                raise LexiconError(f"rule id {rule.id!r} already defined at {origins[rule.id]}", path=str(file), line=lines.get(("rules", i)))
            origins[rule.id] = where
            rules.append(rule)
    classifier = _classifier(folder, header, digest)
    known = set(origins)
    for rule in rules:
        file, _, line = origins[rule.id].rpartition(":")
        if rule.context.after_rule and rule.context.after_rule not in known | set(CATEGORIES):
            raise LexiconError(f"rule {rule.id}: after_rule {rule.context.after_rule!r} is neither a rule of this lexicon nor a category", path=file, line=int(line))
        if rule.match is not None and rule.match.classifier is not None:
            if classifier is None:
                raise LexiconError(f"rule {rule.id}: match.classifier, but {HEADER_FILE} names no classifier file", path=file, line=int(line))
            if rule.category not in classifier.categories:
                raise LexiconError(f"rule {rule.id}: the classifier has no model for {rule.category!r} (it has {', '.join(classifier.categories)})", path=file, line=int(line))
    return Lexicon(folder, header, tuple(rules), origins, digest.hexdigest()[:16], classifier)


def _classifier(folder: Path, header: LexiconHeader, digest) -> Classifier | None:
    """The learned model the header names, read and added to the content hash."""
    if header.classifier is None:
        return None
    path = folder / header.classifier
    try:
        data = path.read_bytes()
        digest.update(data)
        return Classifier.from_bytes(data)
    except OSError as err:
        raise LexiconError(f"classifier file {header.classifier!r}: {err.strerror}", path=str(folder / HEADER_FILE)) from None
    except (ValueError, KeyError, TypeError) as err:
        raise LexiconError(f"not a classifier file: {err.__class__.__name__}: {err}".splitlines()[0], path=str(path)) from None
