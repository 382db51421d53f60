"""Overview: flagged calls, confirmed violations, false-alarm rate, trends and breakdowns."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.components import CATEGORY_COLOURS

st.title("📊 Overview")
url = data.settings().db
lo, hi = data.date_span(url)
if lo is None:
    st.info("The database holds no calls yet. Scan some with `qa-toolkit scan`.")
    st.stop()
start = max(lo, hi - timedelta(days=29)) if lo else None  # the whole span is one click away
dates = st.date_input("Period (Beijing days)", value=(start, hi), key="overview_dates")
d_from, d_to = (tuple(dates) + (None, None))[:2] if isinstance(dates, (tuple, list)) else (dates, dates)
ov = data.overview(url, d_from, d_to)
k = ov["kpi"]

c = st.columns(6)
c[0].metric("Calls", f"{k['calls']:,}")
c[1].metric("Flagged calls", f"{k['flagged']:,}",
            help="Calls with at least one violation finding (pii and vulnerability are cues, not violations).")
c[2].metric("Flagged share", f"{k['flagged'] / k['calls']:.1%}" if k["calls"] else "–")
c[3].metric("Findings", f"{k['findings']:,}")
c[4].metric("Confirmed violations", f"{k['confirmed']:,}", help="Findings whose latest verdict is confirmed.")
c[5].metric("False-alarm rate", f"{k['false_alarm_rate']:.1%}" if k["false_alarm_rate"] is not None else "–",
            help="false alarms / (confirmed + false alarms), over reviewed findings")

colour = alt.Color("category:N", scale=alt.Scale(domain=list(CATEGORY_COLOURS), range=list(CATEGORY_COLOURS.values())))
left, right = st.columns(2)
with left:
    st.subheader("Trend by day")
    day = ov["by_day"].melt(id_vars="day", value_vars=["calls", "flagged"], var_name="series", value_name="n")
    st.altair_chart(alt.Chart(day).mark_line(point=True).encode(
        x=alt.X("day:T", title="day"), y=alt.Y("n:Q", title="calls"), color="series:N",
        tooltip=["day:T", "series:N", "n:Q"]).properties(height=260), width="stretch")
with right:
    st.subheader("Findings by category and severity")
    st.altair_chart(alt.Chart(ov["by_category"]).mark_bar().encode(
        y=alt.Y("category:N", sort="-x"), x=alt.X("findings:Q"), color=colour,
        opacity=alt.Opacity("severity:N", sort=["low", "medium", "high", "critical"]),
        tooltip=["category", "severity", "findings"]).properties(height=260), width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("By team")
    st.altair_chart(alt.Chart(ov["by_team"]).mark_bar().encode(
        x=alt.X("team:N"), y=alt.Y("flagged_rate:Q", axis=alt.Axis(format="%"), title="flagged share"),
        tooltip=["team", "calls", "flagged", alt.Tooltip("flagged_rate:Q", format=".1%")]).properties(height=240),
        width="stretch")
with right:
    st.subheader("Agents with the most flagged calls")
    top = ov["by_agent"].sort_values(["flagged", "calls"], ascending=False).head(15)
    st.altair_chart(alt.Chart(top).mark_bar().encode(
        y=alt.Y("agent_id:N", sort="-x", title="agent"), x=alt.X("flagged:Q"), color="team:N",
        tooltip=["agent_id", "team", "calls", "flagged", alt.Tooltip("flagged_rate:Q", format=".1%"),
                 alt.Tooltip("avg_risk:Q", format=".0f")]).properties(height=240), width="stretch")

left, right = st.columns(2)
with left:
    st.subheader("Top rules")
    rules = ov["by_rule"].sort_values("findings", ascending=False).head(15)
    st.altair_chart(alt.Chart(rules).mark_bar().encode(
        y=alt.Y("rule_id:N", sort="-x", title="rule"), x="findings:Q", color=colour,
        tooltip=["rule_id", "category", "findings"]).properties(height=280), width="stretch")
with right:
    st.subheader("Review verdicts by category")
    v = ov["verdicts"]
    if v.empty:
        st.caption("No reviews yet in this period.")
    else:
        v = v.groupby(["category", "verdict"], as_index=False)["n"].sum()
        st.altair_chart(alt.Chart(v).mark_bar().encode(
            y=alt.Y("category:N"), x=alt.X("n:Q", stack="normalize", title="share of reviewed"),
            color=alt.Color("verdict:N", scale=alt.Scale(domain=["confirmed", "false_alarm", "discuss"],
                                                         range=["#c62828", "#9e9e9e", "#f9a825"])),
            tooltip=["category", "verdict", "n"]).properties(height=280), width="stretch")

with st.expander("Figures as a table"):
    st.dataframe(pd.DataFrame([k]), hide_index=True)
    st.dataframe(ov["by_agent"], hide_index=True)
