"""Settings, the cached engine and cached queries of the dashboard.

Settings come from the command line after ``--`` (``streamlit run dashboards/streamlit_app.py
-- --db URL --users users.toml``), else from ``QA_TOOLKIT_DB`` / ``QA_TOOLKIT_USERS`` /
``QA_TOOLKIT_LEXICON``. Queries are cached per database URL for a short time; every write
clears the caches so the writer sees it at once (others within the TTL, and a stale revision
is caught by the optimistic lock, never silently overwritten).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from dashboards.auth import LOCAL_USER, User, load_users
from qa_toolkit.store import connect, database_url, queries

__all__ = ["Settings", "engine", "invalidate", "settings", "user"]


@dataclass(frozen=True)
class Settings:
    """Where the data and the users are."""

    db: str
    users_file: str | None
    lexicon: str | None


def settings() -> Settings:
    """Settings from ``sys.argv`` (after ``--``) and the environment."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--users")
    parser.add_argument("--lexicon")
    args, _ = parser.parse_known_args(sys.argv[1:])
    return Settings(
        db=database_url(args.db),
        users_file=args.users or os.environ.get("QA_TOOLKIT_USERS") or None,
        lexicon=args.lexicon or os.environ.get("QA_TOOLKIT_LEXICON") or None,
    )


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return connect(url)


def engine() -> Engine:
    """The database engine (one per URL per server process)."""
    return _engine(settings().db)


@st.cache_resource(show_spinner=False)
def users(path: str) -> dict:
    """The users file, read once per server process."""
    return load_users(path)


def user() -> User | None:
    """The signed-in user (the local admin when sign-in is off)."""
    if settings().users_file is None:
        return LOCAL_USER
    return st.session_state.get("user")


@st.cache_resource(show_spinner="loading the lexicon…")
def lexicon(path: str | None):
    """The lexicon used for re-scans after a correction."""
    try:
        from qa_toolkit.rules import load_lexicon
    except ImportError:
        from qa_toolkit.rules.loader import load_lexicon
    return load_lexicon(path)


def invalidate() -> None:
    """Forget cached query results (after a write)."""
    st.cache_data.clear()


@st.cache_data(ttl=300, show_spinner=False)
def filter_options(url: str) -> dict[str, list[str]]:
    return queries.filter_options(_engine(url))


@st.cache_data(ttl=300, show_spinner=False)
def date_span(url: str) -> tuple[date | None, date | None]:
    return queries.date_span(_engine(url))


@st.cache_data(ttl=60, show_spinner=False)
def list_calls(url: str, flt: queries.CallFilter, page: int, page_size: int) -> queries.CallPage:
    return queries.list_calls(_engine(url), flt, page, page_size)


@st.cache_data(ttl=10, show_spinner=False)
def call_detail(url: str, call_id: str) -> queries.CallDetail | None:
    return queries.call_detail(_engine(url), call_id)


@st.cache_data(ttl=120, show_spinner=False)
def overview(url: str, date_from: date | None, date_to: date | None) -> dict:
    return queries.overview(_engine(url), date_from, date_to)


@st.cache_data(ttl=120, show_spinner=False)
def rule_stats(url: str, date_from: date | None, date_to: date | None) -> pd.DataFrame:
    return queries.rule_stats(_engine(url), date_from, date_to)


@st.cache_data(ttl=30, show_spinner=False)
def sample_list(url: str) -> pd.DataFrame:
    return queries.sample_list(_engine(url))


@st.cache_data(ttl=10, show_spinner=False)
def sample_rows(url: str, sample_id: str):
    return queries.sample_rows(_engine(url), sample_id)


@st.cache_data(ttl=30, show_spinner=False)
def training_examples(url: str) -> pd.DataFrame:
    return queries.training_examples_frame(_engine(url))
