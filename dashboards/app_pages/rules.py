"""Rules: hits per rule, its measured precision from reviews, and the calls behind it."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dashboards import data
from dashboards.components import open_call
from qa_toolkit.store import queries

st.title("📏 Rules")
url = data.settings().db
lo, hi = data.date_span(url)
start = max(lo, hi - timedelta(days=89)) if lo else None  # the whole span is one click away
dates = st.date_input("Period (Beijing days)", value=(start, hi) if lo else [], key="rules_dates")
d_from, d_to = (tuple(dates) + (None, None))[:2] if isinstance(dates, (tuple, list)) else (dates, dates)
stats = data.rule_stats(url, d_from, d_to)
if stats.empty:
    st.info("No findings in this period.")
    st.stop()
st.caption("Precision = confirmed / (confirmed + false alarms), from the latest verdict of each reviewed finding, "
           "with a 95 % Wilson interval. Sort by precision to see which rule to fix first.")
st.dataframe(
    stats[["rule_id", "category", "severity", "hits", "calls", "reviewed", "confirmed", "false_alarm", "discuss",
           "precision", "precision_low", "precision_high", "regulation"]],
    hide_index=True, key="rules_table",
    column_config={c: st.column_config.NumberColumn(c, format="percent")
                   for c in ("precision", "precision_low", "precision_high")},
)
rule = st.selectbox("Calls behind rule", list(stats["rule_id"]), key="rules_pick")
if rule:
    flt = queries.CallFilter(rule_ids=(rule,), date_from=d_from, date_to=d_to)
    page = data.list_calls(url, flt, 0, 50)
    st.caption(f"{page.total:,} calls hit {rule}; the 50 riskiest:")
    st.dataframe(page.rows[["call_id", "started_at", "agent_id", "team", "risk", "findings", "status"]],
                 hide_index=True, key="rules_calls")
    cols = st.columns([3, 1])
    choice = cols[0].selectbox("Open call", list(page.rows["call_id"]), index=None, key="rules_open_choice")
    if choice and cols[1].button("Open", key="rules_open"):
        st.session_state["calls_filter"] = flt
        open_call(choice, list(page.rows["call_id"]).index(choice))
