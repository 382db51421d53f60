"""The dashboard's pages under ``streamlit.testing.v1.AppTest``, on a database seeded from the
labelled corpus (scanned for real once ``qa_toolkit.pipeline`` works, else gold labels as findings)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from dashboards.auth import hash_password
from qa_toolkit.pipeline import scan_files
from qa_toolkit.store import connect, queries
from qa_toolkit.store.schema import (
    audit_log,
    reviews,
    sample_calls,
    samples,
    training_examples,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboards" / "streamlit_app.py")
CORPUS = ROOT / "tests" / "data" / "corpus_dev.jsonl"
PAGES = ["app_pages/overview.py", "app_pages/calls.py", "app_pages/call_detail.py", "app_pages/rules.py",
         "app_pages/audit_sampling.py", "app_pages/training_library.py", "app_pages/audit_log.py"]

pytestmark = pytest.mark.skipif(not CORPUS.exists(), reason="tests/data/corpus_dev.jsonl is missing")


@pytest.fixture()
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'qa.db'}"
    engine = connect(url)
    scan_files([CORPUS], db=url, progress=False)
    monkeypatch.setenv("QA_TOOLKIT_DB", url)
    monkeypatch.delenv("QA_TOOLKIT_USERS", raising=False)
    st.cache_data.clear()
    return engine


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def open_page(page: str, **state) -> AppTest:
    at = app()
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page(page).run()
    return at


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def flagged_call(engine) -> str:
    """The riskiest flagged call whose first finding sits on a segment (not call level)."""
    page = queries.list_calls(engine, queries.CallFilter(flagged=True), 0, 50)
    for cid in page.rows["call_id"]:
        detail = queries.call_detail(engine, cid)
        if detail is not None and len(detail.findings) and detail.findings["segment"].notna().iloc[0]:
            return cid
    raise AssertionError("no flagged call with a segment finding in the seeded corpus")


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(db, page):
    at = open_page(page, detail_call=flagged_call(db))
    no_errors(at)
    assert at.title


def test_overview_counts_calls(db):
    at = app().run()
    no_errors(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Calls"] == str(queries.list_calls(db, queries.CallFilter()).total)


def _total(at: AppTest) -> int:
    return int(next(m.value for m in at.metric if m.label == "Matching calls").replace(",", ""))


def test_filters_narrow_the_table(db):
    at = open_page("app_pages/calls.py")
    no_errors(at)
    everything = _total(at)
    assert everything == queries.list_calls(db, queries.CallFilter()).total

    at.multiselect(key="calls_categories").set_value(["threat"]).run()
    threats = _total(at)
    assert 0 < threats < everything
    assert len(at.dataframe[0].value) == min(threats, 50)

    at.multiselect(key="calls_severities").set_value(["low"]).run()  # no threat finding is low in the seed
    assert _total(at) <= threats

    at.multiselect(key="calls_categories").set_value([]).run()
    at.multiselect(key="calls_severities").set_value([]).run()
    at.text_input(key="calls_text").input("征信").run()
    searched = _total(at)
    assert 0 < searched < everything
    ids = set(at.dataframe[0].value["call_id"])
    for cid in ids:
        detail = queries.call_detail(db, cid)
        assert detail.segments["text"].str.contains("征信").any()

    at.text_input(key="calls_text").input("").run()
    phone = queries.call_detail(db, flagged_call(db)).call["phone"]
    at.text_input(key="calls_phone").input(phone).run()
    assert 1 <= _total(at) < everything
    assert set(at.dataframe[0].value["phone"]) == {phone}

    at.text_input(key="calls_phone").input("").run()
    at.selectbox(key="calls_flagged").set_value("unflagged").run()
    assert set(at.dataframe[0].value["findings"]).isdisjoint(set()) and _total(at) < everything


def test_verdict_is_stored_and_in_the_audit_log(db):
    cid = flagged_call(db)
    at = open_page("app_pages/call_detail.py", detail_call=cid)
    no_errors(at)
    fid = at.radio(key=f"detail_finding_{cid}").value
    at.radio(key=f"detail_verdict_{fid}").set_value("false_alarm")
    at.text_area(key=f"detail_note_{fid}").input("合规提醒，不是威胁")
    at.button[[b.label for b in at.button].index("Save verdict")].click().run()
    no_errors(at)
    assert any("Verdict stored" in s.value for s in at.success)
    with db.connect() as conn:
        row = conn.execute(select(reviews).where(reviews.c.finding_id == fid)).mappings().one()
        log = conn.execute(select(audit_log).where(audit_log.c.target == f"finding:{fid}")).mappings().one()
    assert (row["verdict"], row["note"], row["revision"], row["reviewer"]) == ("false_alarm", "合规提醒，不是威胁", 1,
                                                                               "local")
    assert log["action"] == "verdict" and log["user"] == "local"

    at.switch_page("app_pages/audit_log.py").run()
    no_errors(at)
    table = at.dataframe[0].value
    assert (table["target"] == f"finding:{fid}").any()
    assert "合规提醒" in " ".join(table["details"])


def test_two_reviewers_conflict_is_reported(db):
    cid = flagged_call(db)
    first = open_page("app_pages/call_detail.py", detail_call=cid)
    second = open_page("app_pages/call_detail.py", detail_call=cid)
    fid = first.radio(key=f"detail_finding_{cid}").value
    for at, verdict in ((first, "confirmed"), (second, "false_alarm")):
        at.radio(key=f"detail_verdict_{fid}").set_value(verdict)
    first.button[[b.label for b in first.button].index("Save verdict")].click().run()
    assert any("Verdict stored" in s.value for s in first.success)
    st.cache_data.clear()  # the second reviewer's page was rendered before the first saved
    second.button[[b.label for b in second.button].index("Save verdict")].click().run()
    assert any("Not saved" in e.value and "reload" in e.value for e in second.error)
    with db.connect() as conn:
        rows = conn.execute(select(reviews).where(reviews.c.finding_id == fid)).mappings().all()
    assert [(r["verdict"], r["revision"]) for r in rows] == [("confirmed", 1)]


def test_sample_is_drawn_saved_and_reproduced(db):
    at = open_page("app_pages/audit_sampling.py")
    no_errors(at)
    at.number_input(key="sampling_size").set_value(30)
    at.number_input(key="sampling_seed").set_value(1234)
    at.multiselect(key="sampling_strata").set_value(["team", "risk_band"])
    at.button[[b.label for b in at.button].index("Draw")].click().run()
    no_errors(at)
    at.button(key="sampling_save").click().run()
    no_errors(at)
    with db.connect() as conn:
        sample = conn.execute(select(samples)).mappings().one()
        members = conn.execute(select(sample_calls)).mappings().all()
    assert sample["seed"] == 1234 and len(members) == 30
    assert any(m["stratum"] == "unflagged" for m in members)
    at.run()
    at.button(key="sampling_verify").click().run()
    no_errors(at)
    assert any("Reproduced" in s.value for s in at.success)
    labels = [b.label for b in at.get("download_button")]
    assert any("CSV" in label for label in labels) and any("XLSX" in label for label in labels)


def test_training_library_shows_redacted_example(db):
    cid = flagged_call(db)
    at = open_page("app_pages/call_detail.py", detail_call=cid)
    fid = at.radio(key=f"detail_finding_{cid}").value
    at.button(key=f"detail_train_{fid}").click().run()
    no_errors(at)
    with db.connect() as conn:
        ex = conn.execute(select(training_examples)).mappings().one()
    assert ex["finding_id"] == fid and ex["snapshot"]["segment_text"]
    at.switch_page("app_pages/training_library.py").run()
    no_errors(at)
    html_text = " ".join(h.proto.body for h in at.get("html"))
    assert "<mark" in html_text
    at.button(key="train_build").click().run()
    no_errors(at)
    assert at.get("download_button")


def test_sign_in_and_roles(db, tmp_path, monkeypatch):
    users = tmp_path / "users.toml"
    users.write_text(
        f"[users.rita]\nname = 'Rita'\nroles = ['reviewer']\npassword = '{hash_password('s3cret')}'\n"
        f"[users.adam]\nroles = ['admin']\npassword = '{hash_password('root!')}'\n",
        encoding="utf-8")
    monkeypatch.setenv("QA_TOOLKIT_USERS", str(users))
    at = app().run()
    assert at.title[0].value.endswith("Sign in")
    at.text_input(key="signin_user").input("rita")
    at.text_input(key="signin_password").input("wrong")
    at.button[0].click().run()
    assert any("Wrong" in e.value for e in at.error)
    at.text_input(key="signin_password").input("s3cret")
    at.button[0].click().run()
    no_errors(at)
    assert at.title[0].value.endswith("Overview")
    at.switch_page("app_pages/audit_sampling.py").run()
    assert any("cannot draw audit samples" in c.value for c in at.caption)
    with pytest.raises(ValueError, match="audit_log"):  # the page is not even offered to a reviewer
        at.switch_page("app_pages/audit_log.py")
    at.button(key="nav_signout").click().run()
    at.text_input(key="signin_user").input("adam")
    at.text_input(key="signin_password").input("root!")
    at.button[0].click().run()
    at.switch_page("app_pages/audit_log.py").run()
    no_errors(at)
