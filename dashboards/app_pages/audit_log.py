"""Audit log: who did what and when (verdicts, notes, corrections, exports, samples)."""

from __future__ import annotations

import json

import streamlit as st

from dashboards import data
from dashboards.auth import can
from qa_toolkit.store import queries

st.title("📜 Audit log")
if not can(data.user(), "audit_log"):
    st.error("Only auditors and admins read the audit log.")
    st.stop()
cols = st.columns(3)
who = cols[0].text_input("User", key="audit_user")
action = cols[1].selectbox("Action", ["", "verdict", "note", "call_verdict", "correction", "training_add",
                                      "training_edit", "training_remove", "sample_save", "export_csv",
                                      "export_xlsx", "export_training"], key="audit_action")
target = cols[2].text_input("Target starts with (call:, finding:, sample:)", key="audit_target")
log = queries.audit_entries(data.engine(), user=who or None, action=action or None, target=target or None)
log["details"] = log["details"].map(lambda d: json.dumps(d, ensure_ascii=False))
st.dataframe(log, hide_index=True, key="audit_table",
             column_config={"at": st.column_config.DatetimeColumn("at (Beijing)", format="YYYY-MM-DD HH:mm:ss")})
