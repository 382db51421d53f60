"""Call detail: the conversation with hits highlighted, evidence, audio, verdicts, corrections."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.auth import can
from dashboards.components import VERDICT_LABELS, conversation_html, legend_html, need
from qa_toolkit.errors import QaToolkitError
from qa_toolkit.store import queries, reviews

AUDIO_LEAD = 3.0  # seconds of audio before the finding
url = data.settings().db
user = data.user()


def _say(kind: str, message: str) -> None:
    st.session_state["detail_msg"] = (kind, message)


def _verdict(finding_id: str, seen_revision: int) -> None:
    verdict = st.session_state.get(f"detail_verdict_{finding_id}")
    note = st.session_state.get(f"detail_note_{finding_id}", "")
    try:
        rev = reviews.set_verdict(data.engine(), finding_id, verdict=verdict, note=note, user=user.username,
                                  expected_revision=seen_revision)
        _say("success", f"Verdict stored ({VERDICT_LABELS[verdict]}, revision {rev}).")
    except reviews.ReviewConflict as err:
        _say("error", f"Not saved: {err.message}")
    except QaToolkitError as err:
        _say("error", str(err))
    data.invalidate()


def _call_verdict(call_id: str, seen_revision: int) -> None:
    try:
        reviews.set_call_verdict(
            data.engine(), call_id, verdict=st.session_state["detail_call_verdict"],
            categories=st.session_state.get("detail_call_categories", []),
            note=st.session_state.get("detail_call_note", ""), user=user.username, expected_revision=seen_revision)
        _say("success", "Call verdict stored.")
    except QaToolkitError as err:
        _say("error", f"Not saved: {getattr(err, 'message', err)}")
    data.invalidate()


def _train(finding_id: str, kind: str) -> None:
    try:
        ex = reviews.add_training_example(data.engine(), finding_id, user=user.username, kind=kind)
        _say("success", f"Added to the training library (example {ex}).")
    except QaToolkitError as err:
        _say("error", str(err))
    data.invalidate()


def _correct(call_id: str, idx: int, seen_text: str, key: str) -> None:
    new_text = st.session_state.get(key, "")
    try:
        lex = data.lexicon(data.settings().lexicon)
        from qa_toolkit.scan import scan_transcript

        report = reviews.correct_segment(data.engine(), call_id, idx, text=new_text, expected_text=seen_text,
                                         user=user.username, rescan=lambda t: scan_transcript(t, lex))
        _say("success", f"Segment {idx} corrected and the call re-scanned: {len(report.findings)} findings, "
                        f"risk {report.score.risk:.0f}.")
    except reviews.ReviewConflict as err:
        _say("error", f"Not saved: {err.message}")
    except (QaToolkitError, ImportError) as err:
        _say("error", f"Cannot correct and re-scan: {err}")
    data.invalidate()


def _go(position: int) -> None:
    flt = st.session_state.get("calls_filter", queries.CallFilter())
    call_id = queries.call_at(data.engine(), flt, position)
    if call_id:
        st.session_state["detail_call"] = call_id
        st.session_state["detail_position"] = position
        st.query_params["call"] = call_id


call_id = st.session_state.get("detail_call") or st.query_params.get("call")
if st.query_params.get("call") and st.query_params.get("call") != st.session_state.get("detail_call_from_url"):
    call_id = st.query_params["call"]  # a link or reload names the call
    st.session_state["detail_call_from_url"] = call_id
    st.session_state["detail_call"] = call_id
typed = st.sidebar.text_input("Open call id", key="detail_goto")
if typed and typed != st.session_state.get("detail_goto_seen"):
    st.session_state["detail_goto_seen"] = typed
    call_id = typed.strip()
    st.session_state["detail_call"] = call_id
    st.session_state["detail_position"] = None
if not call_id:
    st.title("🔎 Call detail")
    st.info("Open a call from the Calls page, or type its id in the sidebar.")
    st.stop()
st.query_params["call"] = call_id
detail = data.call_detail(url, call_id)
if detail is None:
    st.title("🔎 Call detail")
    st.error(f"No call {call_id!r} in the database.")
    st.stop()

call, segs, fnd = detail.call, detail.segments, detail.findings
st.title(f"🔎 Call {call_id}")
if "detail_msg" in st.session_state:
    kind, message = st.session_state.pop("detail_msg")
    getattr(st, kind)(message)

flt = st.session_state.get("calls_filter", queries.CallFilter())
pos = st.session_state.get("detail_position")
if pos is None or queries.call_at(data.engine(), flt, pos) != call_id:
    pos = queries.position_of(data.engine(), flt, call_id)
    st.session_state["detail_position"] = pos
nav = st.columns([1, 1, 6])
nav[0].button("◀ Previous", key="detail_prev", disabled=not pos, on_click=_go, args=((pos or 0) - 1,))
nav[1].button("Next ▶", key="detail_next", disabled=pos is None, on_click=_go, args=((pos or 0) + 1,))
nav[2].caption("Position in the Calls filter: " + (f"{pos + 1}" if pos is not None else "not in the current filter"))

started = call["started_local"]
st.caption(" · ".join([
    f"Started {started:%Y-%m-%d %H:%M} Beijing time" if started is not None else "Start time unknown",
    f"lexicon {call['lexicon_hash'][:8] if call['lexicon_hash'] else '–'}",
    f"source {call['source'] or '–'}",
]))
meta = st.columns([1, 1, 2, 1, 1, 1])
meta[0].metric("Agent", call["agent_id"] or "–")
meta[1].metric("Team", call["team"] or "–")
meta[2].metric("Phone", call["phone"] or "–")
meta[3].metric("Duration", f"{call['duration'] or 0:.0f} s")
meta[4].metric("Risk", f"{call['risk'] or 0:.0f}" + (" ⛔" if call["critical"] else ""))
meta[5].metric("Findings", len(fnd))

labels = {f.finding_id: f"#{'call' if pd.isna(f.segment) else int(f.segment)} · {f.category} · {f.rule_id} · "
          f"{VERDICT_LABELS.get(f.verdict, f.verdict)}" for f in fnd.itertuples()}
selected = None
left, right = st.columns([3, 2], gap="large")
with right:
    st.subheader("Findings")
    if fnd.empty:
        st.caption("No findings in the latest scan.")
    else:
        selected = st.radio("Finding", list(labels), format_func=labels.get, key=f"detail_finding_{call_id}",
                            label_visibility="collapsed")
with left:
    st.subheader("Conversation")
    st.html(f"<div>{legend_html()}</div>")
    st.html(conversation_html(segs, fnd, selected))

with right:
    if selected is not None:
        f = fnd.set_index("finding_id").loc[selected]
        seg = segs[segs["idx"] == f["segment"]].iloc[0] if pd.notna(f["segment"]) and len(
            segs[segs["idx"] == f["segment"]]) else None
        asr = "–"
        if seg is not None and pd.notna(seg["avg_logprob"]):
            asr = f"avg_logprob {seg['avg_logprob']:.2f} · no_speech_prob {seg['no_speech_prob'] or 0:.2f}"
        elif seg is not None:
            asr = "hand-written text (no ASR scores)"
        rows = [("Rule", f"{f['rule_id']} v{f['rule_version']} · {f['category']} · {f['severity']}"),
                ("Matched text", f["text"]), ("Regulation", f["regulation"]), ("Why", f["description"]),
                ("Explanation", f["explanation"]), ("Speaker", f["speaker"] or "–"),
                ("Score", f"{f['score']:.2f}"), ("ASR confidence", asr),
                ("Time", f"{f['start']:.1f}–{f['end']:.1f} s" if pd.notna(f["start"]) else "call level"),
                ("Lexicon", f"{f['lexicon_version']} ({f['lexicon_hash'][:8]})")]
        st.html("<table style='font-size:14px'>" + "".join(
            f"<tr><th style='text-align:left;vertical-align:top;padding-right:8px'>{html.escape(k)}</th>"
            f"<td>{html.escape(str(v))}</td></tr>" for k, v in rows) + "</table>")
        audio = call["audio"]
        if audio and (str(audio).startswith(("http://", "https://")) or Path(str(audio)).is_file()):
            start = max(0.0, float(f["start"]) - AUDIO_LEAD) if pd.notna(f["start"]) else 0.0
            st.audio(str(audio), start_time=start)
            st.caption(f"Plays from {start:.1f} s, {AUDIO_LEAD:.0f} s before the finding.")
        else:
            st.caption("🔇 No recording available for this call.")

        rev = int(f["revision"])
        if f["verdict"]:
            st.caption(f"Latest: {VERDICT_LABELS[f['verdict']]} by {f['reviewer']} (revision {rev})"
                       + (f" — note: {f['note']}" if f["note"] else ""))
        if need(can(user, "review"), "record verdicts"):
            with st.form(f"detail_form_{selected}"):
                choices = list(reviews.VERDICTS)
                st.radio("Verdict", choices, format_func=VERDICT_LABELS.get, horizontal=True,
                         index=choices.index(f["verdict"]) if f["verdict"] in choices else 0,
                         key=f"detail_verdict_{selected}")
                st.text_area("Note", value=f["note"], key=f"detail_note_{selected}", height=80)
                st.form_submit_button("Save verdict", type="primary", on_click=_verdict, args=(selected, rev))
        if can(user, "train_add"):
            kind = "good" if f["verdict"] == "false_alarm" else "bad"
            st.button(f"➕ Add to training library ({'lawful look-alike' if kind == 'good' else 'violation'})",
                      key=f"detail_train_{selected}", on_click=_train, args=(selected, kind))

    with st.expander("Whole-call verdict (audit sample review)"):
        cv = detail.call_verdict
        if cv:
            st.caption(f"Latest: {cv['verdict']} by {cv['reviewer']} (revision {cv['revision']})")
        if need(can(user, "review") or can(user, "sample"), "judge whole calls"):
            with st.form("detail_call_form"):
                st.radio("This call holds a violation?", reviews.CALL_VERDICTS, horizontal=True,
                         key="detail_call_verdict",
                         index=reviews.CALL_VERDICTS.index(cv["verdict"]) if cv else 1)
                st.multiselect("Categories found (missed ones included)", queries.FLAG_CATEGORIES,
                               default=cv["categories"] if cv else [], key="detail_call_categories")
                st.text_area("Note", value=cv["note"] if cv else "", key="detail_call_note", height=68)
                st.form_submit_button("Save call verdict", on_click=_call_verdict,
                                      args=(call_id, cv["revision"] if cv else 0))

with left:
    with st.expander("✎ Correct a segment (kept beside the original; the call is re-scanned)"):
        if need(can(user, "correct"), "correct transcripts") and len(segs):
            idx = st.selectbox("Segment", list(segs["idx"]), key="detail_correct_idx",
                               format_func=lambda i: f"#{i} {segs.loc[segs['idx'] == i, 'text'].iloc[0][:40]}")
            seen = segs.loc[segs["idx"] == idx, "text"].iloc[0]
            key = f"detail_correction_{call_id}_{idx}"
            st.text_area("Corrected text", value=seen, key=key)
            st.button("Save correction and re-scan", key="detail_correct_save", on_click=_correct,
                      args=(call_id, int(idx), seen, key))
    if len(detail.history):
        with st.expander("Review history"):
            st.dataframe(detail.history[["created_at", "reviewer", "finding_id", "verdict", "note", "revision"]],
                         hide_index=True)
