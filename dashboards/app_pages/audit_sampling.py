"""Audit sampling: draw a seeded stratified sample, review it, estimate rates, export it."""

from __future__ import annotations

import random
import uuid

import pandas as pd
import streamlit as st

from dashboards import data
from dashboards.auth import can
from dashboards.components import need, open_call
from qa_toolkit.errors import QaToolkitError
from qa_toolkit.sampling import (
    STRATA_KEYS,
    SampleParams,
    draw_sample,
    estimate,
    export_tables,
    xlsx_bytes,
)
from qa_toolkit.store import queries, reviews

st.title("🎯 Audit sampling")
url = data.settings().db
user = data.user()
eng = data.engine()


def _log_export(what: str, sample_id: str, redact: bool, n: int) -> None:
    reviews.log_export(eng, user=user.username, what=what, target=f"sample:{sample_id}",
                       details={"redacted": redact, "calls": n})


draw_tab, open_tab = st.tabs(["Draw a sample", "Saved samples"])
with draw_tab:
    if need(can(user, "sample"), "draw audit samples"):
        lo, hi = data.date_span(url)
        with st.form("sampling_form"):
            dates = st.date_input("Audit period (Beijing days)", value=(lo, hi) if lo else [], key="sampling_dates")
            strata = st.multiselect("Split flagged calls by", STRATA_KEYS, default=["risk_band"], key="sampling_strata")
            c = st.columns(3)
            size = c[0].number_input("Sample size", 1, 100_000, 100, key="sampling_size")
            share = c[1].slider("Unflagged share", 0.05, 0.9, 0.3, step=0.05, key="sampling_share",
                                help="Unflagged calls always form a stratum: the miss rate is estimated from them.")
            seed = c[2].number_input("Seed", 0, 2**31 - 1, st.session_state.setdefault(
                "sampling_default_seed", random.SystemRandom().randrange(2**31)), key="sampling_seed")
            name = st.text_input("Name", value="Audit sample", key="sampling_name")
            drawn = st.form_submit_button("Draw", type="primary")
        if drawn:
            d_from, d_to = (tuple(dates) + (None, None))[:2]
            try:
                params = SampleParams(size=int(size), strata=tuple(strata), unflagged_share=float(share),
                                      date_from=d_from.isoformat() if d_from else None,
                                      date_to=d_to.isoformat() if d_to else None)
            except QaToolkitError as err:
                st.error(str(err))
                st.stop()
            population = queries.sample_population(eng, d_from, d_to)
            sample = draw_sample(population, params, int(seed))
            st.session_state["sampling_preview"] = (params, int(seed), name, sample, sample.attrs["strata"])
        if "sampling_preview" in st.session_state:
            params, seed_v, name_v, sample, sizes = st.session_state["sampling_preview"]
            st.write(f"**{len(sample)}** calls drawn with seed **{seed_v}** from "
                     f"{sum(sizes.values()):,} calls in {len(sizes)} strata.")
            st.dataframe(sample.groupby("stratum").size().rename("sampled").to_frame()
                         .join(pd.Series(sizes, name="population")), key="sampling_preview_table")
            if st.button("Save this sample", key="sampling_save"):
                sid = f"S{pd.Timestamp.now():%Y%m%d}-{uuid.uuid4().hex[:6]}"
                p = params.to_dict() | {"strata_sizes": sizes}
                reviews.save_sample(eng, sample_id=sid, name=name_v, seed=seed_v, params=p,
                                    rows=sample[["call_id", "stratum", "flagged"]].to_dict("records"),
                                    user=user.username)
                data.invalidate()
                del st.session_state["sampling_preview"]
                st.session_state["sampling_open"] = sid
                st.success(f"Saved as {sid}. Open it in 'Saved samples'.")

with open_tab:
    saved = data.sample_list(url)
    if saved.empty:
        st.info("No saved samples yet.")
        st.stop()
    ids = list(saved["sample_id"])
    default = ids.index(st.session_state["sampling_open"]) if st.session_state.get("sampling_open") in ids else 0
    sid = st.selectbox("Sample", ids, index=default, key="sampling_pick",
                       format_func=lambda s: f"{s} · {saved.set_index('sample_id').loc[s, 'name']}")
    meta, rows, fnd = data.sample_rows(url, sid)
    params = SampleParams.from_dict(meta["params"])
    sizes = meta["params"].get("strata_sizes", {})
    st.caption(f"Seed {meta['seed']} · by {meta['created_by']} · {meta['created_at']:%Y-%m-%d %H:%M} UTC · "
               f"period {params.date_from} – {params.date_to} · strata: {', '.join(params.strata) or 'none'}")
    if st.button("Check: draw again from the seed", key="sampling_verify"):
        pop = queries.sample_population(eng, pd.Timestamp(params.date_from).date() if params.date_from else None,
                                        pd.Timestamp(params.date_to).date() if params.date_to else None)
        again = set(draw_sample(pop, params, int(meta["seed"]))["call_id"])
        if again == set(rows["call_id"]):
            st.success("Reproduced: the seed gives exactly this sample.")
        else:
            st.warning(f"The population changed since: {len(again ^ set(rows['call_id']))} calls differ.")
    table, summary = estimate(rows, sizes)
    c = st.columns(3)
    c[0].metric("Reviewed", f"{int(table['reviewed'].sum())} / {len(rows)}")
    if summary["miss_rate"] is not None:
        c[1].metric("Detector miss rate", f"{summary['miss_rate']:.1%}",
                    help="Share of violating calls the detector did not flag (estimated, 95 % interval below)")
        c[1].caption(f"95 % CI {summary['miss_low']:.1%} – {summary['miss_high']:.1%}")
    else:
        c[1].metric("Detector miss rate", "–", help="Needs reviews in the unflagged and every flagged stratum.")
    if summary["unflagged_rate"] is not None:
        c[2].metric("Violations among unflagged", f"{summary['unflagged_rate']:.1%}")
        c[2].caption(f"95 % CI {summary['unflagged_low']:.1%} – {summary['unflagged_high']:.1%}")
    st.dataframe(table, hide_index=True, key="sampling_estimates",
                 column_config={k: st.column_config.NumberColumn(k, format="percent") for k in ("rate", "low", "high")})
    st.dataframe(rows[["call_id", "stratum", "flagged", "started_at", "agent_id", "team", "risk", "findings",
                       "confirmed", "false_alarm", "unreviewed", "call_verdict", "call_reviewer", "regulations"]],
                 hide_index=True, key="sampling_rows")
    cols = st.columns([3, 1])
    choice = cols[0].selectbox("Open a call to review it", list(rows["call_id"]), index=None, key="sampling_open_call")
    if choice and cols[1].button("Open", key="sampling_open_btn"):
        st.session_state["calls_filter"] = queries.CallFilter()
        open_call(choice)

    st.subheader("Export")
    if need(can(user, "export"), "export samples"):
        redact_on = st.checkbox("Redact personal data (names, numbers, addresses; phone masked)", value=True,
                                key="sampling_redact")
        frames = export_tables(meta, rows, fnd, table, redact=redact_on)
        csv = frames["calls"].to_csv(index=False).encode("utf-8-sig")
        e = st.columns(2)
        e[0].download_button("⬇ CSV (calls with verdicts and regulations)", csv, f"{sid}.csv", "text/csv",
                             key="sampling_csv", on_click=_log_export, args=("csv", sid, redact_on, len(rows)))
        e[1].download_button("⬇ XLSX (calls, findings, estimates)", xlsx_bytes(frames), f"{sid}.xlsx",
                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                             key="sampling_xlsx", on_click=_log_export, args=("xlsx", sid, redact_on, len(rows)))
