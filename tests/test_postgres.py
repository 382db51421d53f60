"""The store on PostgreSQL as well as SQLite, and schema migrations that keep the data.

* The store and scan-pipeline tests of ``test_cli.py`` and ``test_reviews.py`` run here again,
  each on a fresh PostgreSQL database (their SQLite runs are in their own modules).
* The dashboard queries and migrations are parametrized over both databases.

PostgreSQL tests need ``$QA_TOOLKIT_TEST_PG_URL`` (``eval "$(.ci/postgres.sh)"``) and are skipped,
with that reason, without it.
"""

from __future__ import annotations

from datetime import date

import pytest
from faultkit import any_db, pg_database, pg_url_or_skip  # noqa: F401 - any_db is a fixture
from sqlalchemy import create_engine, func, inspect, select, text

# The store and pipeline tests of other modules, collected again here with the fixtures below.
from test_cli import (  # noqa: F401
    test_bad_input_is_refused_whole,
    test_csv_input,
    test_new_lexicon_version_keeps_old_findings,
    test_scan_stores_and_rescan_replaces,
    test_skip_bad_stores_the_good_records,
)
from test_reviews import (  # noqa: F401
    SCANNER,
    _transcript,
    test_bad_verdict_lists_the_choices,
    test_call_verdict_locking,
    test_corpus_transcript_roundtrip,
    test_correction_keeps_original_and_rescans,
    test_exports_and_samples_are_logged,
    test_race_past_the_check_is_caught_by_the_unique_revision,
    test_stale_revision_is_a_conflict_not_an_overwrite,
    test_training_example_snapshot_and_edits,
    test_verdict_revisions_and_audit_log,
)

from qa_toolkit.cli import main
from qa_toolkit.pipeline import scan_files
from qa_toolkit.store import connect, migrate, queries
from qa_toolkit.store.repository import save_reports
from qa_toolkit.store.schema import calls, findings, metadata, run_items, runs, segments

DATA_DEV = "tests/data/corpus_dev.jsonl"


@pytest.fixture
def pg_url():
    with pg_database(pg_url_or_skip()) as url:
        yield url


@pytest.fixture
def db_url(pg_url):
    """Overrides conftest's SQLite ``db_url`` for the tests imported from test_cli."""
    return pg_url


@pytest.fixture
def engine(pg_url):
    """Overrides test_reviews' SQLite ``engine``."""
    eng = connect(pg_url)
    save_reports(eng, [SCANNER.report(_transcript())])
    yield eng
    eng.dispose()


# -- the dashboard's queries on both --------------------------------------------------------


def test_dashboard_queries_agree_on_both_databases(any_db, tmp_path):  # noqa: F811
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    summary = scan_files([root / DATA_DEV], db=any_db, progress=False)
    engine = connect(any_db)
    ov = queries.overview(engine, date(2000, 1, 1), date(2100, 1, 1))
    assert ov["kpi"]["calls"] == summary.done == 90
    assert ov["kpi"]["findings"] == summary.findings
    stats = queries.rule_stats(engine)
    assert int(stats["hits"].sum()) == summary.findings
    lo, hi = queries.date_span(engine)
    assert lo is not None and hi is not None and lo <= hi
    with engine.connect() as conn:
        cid = conn.execute(select(calls.c.call_id).order_by(calls.c.risk.desc())).scalars().first()
    detail = queries.call_detail(engine, cid)
    assert detail is not None and len(detail.findings) > 0
    assert set(queries.filter_options(engine)) == {"agents", "teams", "rules"}
    engine.dispose()


# -- migrations ---------------------------------------------------------------------------------


def _schema_diff(url: str) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    return diff


def test_migrations_build_exactly_the_schema_of_the_code(any_db):  # noqa: F811
    assert migrate.upgrade(any_db) == migrate.head()
    assert _schema_diff(any_db) == []
    assert migrate.upgrade(any_db) == migrate.head()  # idempotent


def _fill(url: str) -> dict[str, int]:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    summary = scan_files([root / DATA_DEV], db=url, progress=False)
    return {"calls": summary.done, "findings": summary.findings}


def _counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        out = {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
               for t in (calls, findings, segments, runs, run_items)}
    engine.dispose()
    return out


def test_upgrade_from_the_first_revision_keeps_the_data(any_db):  # noqa: F811
    assert migrate.upgrade(any_db, migrate.BASELINE) == migrate.BASELINE
    filled = _fill(any_db)  # the pipeline writing into a database at revision 0001
    before = _counts(any_db)
    assert before["calls"] == filled["calls"] == 90
    assert migrate.upgrade(any_db) == migrate.head() != migrate.BASELINE
    assert _counts(any_db) == before
    assert "ix_run_items_call" in {ix["name"] for ix in inspect(create_engine(any_db)).get_indexes("run_items")}
    assert _schema_diff(any_db) == []


def test_database_made_before_migrations_is_adopted(any_db):  # noqa: F811
    """A store made by ``create_all`` of the first release (no alembic_version table)."""
    migrate.upgrade(any_db, migrate.BASELINE)
    engine = create_engine(any_db)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    _fill(any_db)
    before = _counts(any_db)
    assert migrate.current(any_db) is None
    assert main(["db", "upgrade", "--db", any_db]) == 0
    assert migrate.current(any_db) == migrate.head()
    assert _counts(any_db) == before


def test_connect_can_migrate_instead_of_create_all(any_db):  # noqa: F811
    engine = connect(any_db, migrate=True)
    assert migrate.current(engine) == migrate.head()
    engine.dispose()
