"""Typed errors. Each says where the problem is and what to do; the CLI prints ``str(err)``.

Every message starts with a code in brackets (``[E101]``) so tests and users can refer to it.
"""

from __future__ import annotations


class QaToolkitError(Exception):
    """Base class of every error qa_toolkit raises on purpose."""

    code = "E000"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        return f"{where}[{self.code}] {self.message}"


class ConfigError(QaToolkitError):
    """A bad option or setting (an unknown engine, a bad time window, ...)."""

    code = "E100"


class InputError(QaToolkitError):
    """A transcript file or record that cannot be read."""

    code = "E200"


class LexiconError(QaToolkitError):
    """A lexicon file that does not pass the schema, or a rule that cannot compile."""

    code = "E300"


class AudioError(QaToolkitError):
    """An audio file that cannot be decoded, is empty or silent."""

    code = "E400"


class ModelError(QaToolkitError):
    """An ASR model that cannot be found, assembled or loaded."""

    code = "E500"


class StoreError(QaToolkitError):
    """The database cannot be reached or written."""

    code = "E600"


class WorkerError(QaToolkitError):
    """A transcription worker (process or Ray actor) died or could not be reached."""

    code = "E700"
