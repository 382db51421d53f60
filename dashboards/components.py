"""Pieces the pages share: category colours, the highlighted conversation, the call filter.

Transcript text, notes and every other stored string are escaped with :func:`html.escape`
before they go into the HTML built here; nothing a user or the ASR wrote is ever rendered as
markup.
"""

from __future__ import annotations

import html
import itertools
from datetime import date

import pandas as pd
import streamlit as st

from qa_toolkit.store.queries import REVIEW_STATUSES, SORTS, CallFilter
from qa_toolkit.types import CATEGORIES, SEVERITIES

__all__ = ["CATEGORY_COLOURS", "VERDICT_LABELS", "call_filter", "conversation_html", "highlight", "need"]

CATEGORY_COLOURS = {
    "threat": "#ff8a80", "harassment": "#ffb74d", "disclosure": "#ce93d8", "deception": "#90caf9",
    "procedure": "#b0bec5", "pii": "#fff176", "vulnerability": "#a5d6a7",
}
VERDICT_LABELS = {"confirmed": "✅ confirmed", "false_alarm": "❌ false alarm", "discuss": "💬 needs discussion",
                  "": "— not reviewed"}
SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def need(allowed: bool, what: str) -> bool:
    """Show why an action is unavailable; returns ``allowed``."""
    if not allowed:
        st.caption(f"🔒 Your role cannot {what}.")
    return allowed


def highlight(text: str, spans: list[tuple[int, int, str, str]], selected: str | None = None) -> str:
    """``text`` as escaped HTML with ``(start, end, category, finding_id)`` spans marked.

    Overlapping spans are split at every boundary; a piece takes the colour of the first span
    covering it. Spans outside the text are ignored.
    """
    n = len(text)
    spans = [(max(0, s), min(n, e), c, f) for s, e, c, f in spans if s is not None and e is not None and s < e <= n]
    cuts = sorted({0, n, *[s for s, *_ in spans], *[e for _, e, *_ in spans]})
    out = []
    for a, b in itertools.pairwise(cuts):
        piece = html.escape(text[a:b])
        cover = [sp for sp in spans if sp[0] <= a and b <= sp[1]]
        if not cover:
            out.append(piece)
            continue
        _, _, cat, _fid = cover[0]
        outline = "outline:2px solid #d50000;" if any(sp[3] == selected for sp in cover) else ""
        colour = CATEGORY_COLOURS.get(cat, "#eeeeee")
        out.append(f'<mark title="{html.escape(cat)}" style="background:{colour};{outline}'
                   f'border-radius:3px;padding:0 1px">{piece}</mark>')
    return "".join(out)


def conversation_html(segments: pd.DataFrame, findings: pd.DataFrame, selected: str | None = None) -> str:
    """The call as chat bubbles: agent on the left, customer on the right, hits highlighted."""
    by_seg: dict[int, list[tuple[int, int, str, str]]] = {}
    for f in findings.itertuples():
        if pd.notna(f.segment) and pd.notna(f.start_char) and pd.notna(f.end_char):
            by_seg.setdefault(int(f.segment), []).append((int(f.start_char), int(f.end_char), f.category,
                                                          f.finding_id))
    rows = ['<div style="display:flex;flex-direction:column;gap:6px;font-size:15px;line-height:1.6">']
    for seg in segments.itertuples():
        agent = seg.speaker == "agent"
        bg = "#f1f3f4" if agent else "#e3f2fd"
        align = "flex-start" if agent else "flex-end"
        who = {"agent": "坐席 agent", "customer": "客户 customer"}.get(seg.speaker, seg.speaker)
        corrected = ""
        if isinstance(seg.original_text, str) and seg.original_text:
            corrected = (f'<div style="font-size:12px;color:#a15c00">✎ corrected · original: '
                         f'{html.escape(seg.original_text)}</div>')
        rows.append(
            f'<div style="align-self:{align};max-width:80%;background:{bg};border-radius:10px;padding:6px 10px">'
            f'<div style="font-size:11px;color:#666">#{int(seg.idx)} · {html.escape(str(who))} · '
            f'{seg.start:.1f}–{seg.end:.1f}s</div>'
            f'<div>{highlight(seg.text, by_seg.get(int(seg.idx), []), selected)}</div>{corrected}</div>'
        )
    rows.append("</div>")
    return "".join(rows)


def legend_html() -> str:
    """The category colours, as a one-line legend."""
    return " ".join(f'<span style="background:{c};border-radius:3px;padding:0 4px;font-size:12px">'
                    f'{html.escape(k)}</span>' for k, c in CATEGORY_COLOURS.items())


def call_filter(options: dict[str, list[str]], span: tuple[date | None, date | None]) -> CallFilter:
    """The Calls filter widgets (in the sidebar); returns the filter they describe."""
    sb = st.sidebar
    sb.header("Filter")
    lo, hi = span
    dates = sb.date_input("Date range (Beijing)", value=(lo, hi) if lo and hi else [], key="calls_dates")
    d_from, d_to = (dates + (None, None))[:2] if isinstance(dates, tuple) else (dates, dates)
    text = sb.text_input("Search transcripts", key="calls_text", placeholder="例如：法院、上门")
    phone = sb.text_input("Phone number (full or last digits)", key="calls_phone")
    agents = sb.multiselect("Agent", options["agents"], key="calls_agents")
    teams = sb.multiselect("Team", options["teams"], key="calls_teams")
    cats = sb.multiselect("Category", CATEGORIES, key="calls_categories")
    sevs = sb.multiselect("Severity", SEVERITIES, key="calls_severities")
    rules = sb.multiselect("Rule", options["rules"], key="calls_rules")
    risk = sb.slider("Risk", 0.0, 100.0, (0.0, 100.0), step=5.0, key="calls_risk")
    status = sb.selectbox("Review status", ("any", *REVIEW_STATUSES), key="calls_status")
    flagged = sb.selectbox("Flagged", ("any", "flagged", "unflagged"), key="calls_flagged")
    sort = sb.selectbox("Sort by", tuple(SORTS), key="calls_sort")
    desc = sb.toggle("Descending", value=True, key="calls_desc")
    return CallFilter(
        date_from=d_from, date_to=d_to, agents=tuple(agents), teams=tuple(teams), categories=tuple(cats),
        severities=tuple(sevs), rule_ids=tuple(rules),
        risk_min=risk[0] if risk[0] > 0 else None, risk_max=risk[1] if risk[1] < 100 else None,
        review_status=None if status == "any" else status, text=text, phone=phone,
        flagged=None if flagged == "any" else flagged == "flagged", sort=sort, descending=desc,
    )


def open_call(call_id: str, position: int | None = None) -> None:
    """Go to the call detail page for ``call_id``; ``position`` in the current filter keeps next/prev."""
    st.session_state["detail_call"] = call_id
    st.session_state["detail_position"] = position
    st.switch_page("app_pages/call_detail.py")
