"""Shared fixtures: the packaged lexicon compiled once, the labelled corpus, temp databases."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa_toolkit.rules.loader import load_lexicon
from qa_toolkit.scan import Scanner
from qa_toolkit.transcripts import read_transcripts

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def lexicon():
    return load_lexicon()


@pytest.fixture(scope="session")
def scanner(lexicon):
    return Scanner(lexicon)


def corpus(name: str):
    return [r.transcript for r in read_transcripts(DATA / name) if r.transcript]


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'qa.db'}"
