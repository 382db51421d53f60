"""Calls: a filterable, sortable, paginated table; selecting a row opens the call."""

from __future__ import annotations

import streamlit as st

from dashboards import data
from dashboards.components import call_filter, open_call

PAGE_SIZE = 50

st.title("📞 Calls")
url = data.settings().db
flt = call_filter(data.filter_options(url), data.date_span(url))
if st.session_state.get("calls_filter_seen") != flt:  # a new filter starts at page 1
    st.session_state["calls_filter_seen"] = flt
    st.session_state["calls_page"] = 1
st.session_state["calls_filter"] = flt

probe = data.list_calls(url, flt, 0, PAGE_SIZE)
pages = probe.pages
top = st.columns([2, 1, 1, 3])
page = top[1].number_input("Page", min_value=1, max_value=pages, step=1, key="calls_page")
result = probe if page == 1 else data.list_calls(url, flt, int(page) - 1, PAGE_SIZE)
top[0].metric("Matching calls", f"{result.total:,}")
top[2].metric("Pages", pages)

rows = result.rows
view = rows[["call_id", "started_at", "agent_id", "team", "phone", "risk", "critical", "findings",
             "categories", "reviewed", "status", "duration"]]
event = st.dataframe(
    view, hide_index=True, on_select="rerun", selection_mode="single-row", key="calls_table",
    column_config={
        "started_at": st.column_config.DatetimeColumn("started (Beijing)", format="YYYY-MM-DD HH:mm"),
        "risk": st.column_config.ProgressColumn("risk", min_value=0, max_value=100, format="%.0f"),
        "duration": st.column_config.NumberColumn("duration s", format="%.0f"),
    },
)
selected = event.selection.rows if event is not None and hasattr(event, "selection") else []
if selected:
    i = selected[0]
    open_call(rows.iloc[i]["call_id"], (result.page * PAGE_SIZE) + i)

with top[3]:
    choice = st.selectbox("Open call", list(rows["call_id"]), index=None, key="calls_open_choice",
                          placeholder="choose a call id, or click a row")
    if choice is not None and st.button("Open", key="calls_open", type="primary"):
        open_call(choice, result.page * PAGE_SIZE + list(rows["call_id"]).index(choice))
if rows.empty:
    st.info("No call matches this filter.")
