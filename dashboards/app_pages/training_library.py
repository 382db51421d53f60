"""Training library: examples grouped by violation type, redacted, with rewrites; pack export."""

from __future__ import annotations

import html

import streamlit as st

from dashboards import data
from dashboards.auth import can
from dashboards.components import CATEGORY_COLOURS, need
from qa_toolkit.redact import known_names, redact
from qa_toolkit.store import queries, reviews
from qa_toolkit.training import CATEGORY_TITLES, PackOptions, build_pack

st.title("🎓 Training library")
url = data.settings().db
user = data.user()
examples = data.training_examples(url)
if examples.empty:
    st.info("The library is empty. Add findings from the Call detail page (➕ Add to training library).")
    st.stop()
st.caption("Personal data (names, phone, ID and card numbers, addresses) is redacted here and in every export.")


def _save(example_id: int) -> None:
    reviews.set_rewrite(data.engine(), example_id, rewrite=st.session_state[f"train_rewrite_{example_id}"],
                        note=st.session_state[f"train_note_{example_id}"], user=user.username)
    data.invalidate()


def _remove(example_id: int) -> None:
    reviews.remove_training_example(data.engine(), example_id, user=user.username)
    data.invalidate()


def _logged(summary: dict, fmt: str) -> None:
    reviews.log_export(data.engine(), user=user.username, what="training", target="training_library",
                       details=summary | {"format": fmt})


cats = [c for c in CATEGORY_TITLES if c in set(examples["category"])]
for tab, cat in zip(st.tabs([f"{CATEGORY_TITLES[c]} ({(examples['category'] == c).sum()})" for c in cats]), cats, strict=True):
    with tab:
        for ex in examples[examples["category"] == cat].itertuples():
            names = known_names([ex.segment_text or "", ex.text or ""])
            r = redact(ex.segment_text or ex.text or "", names=names)
            body = html.escape(r.text)
            if ex.segment_text and ex.start_char is not None and ex.end_char is not None:
                a, b = r.map_span(int(ex.start_char), int(ex.end_char))
                colour = CATEGORY_COLOURS.get(cat, "#eee")
                body = (html.escape(r.text[:a]) + f'<mark style="background:{colour}">' + html.escape(r.text[a:b])
                        + "</mark>" + html.escape(r.text[b:]))
            label = "反例 violation" if ex.kind == "bad" else "正例 lawful look-alike"
            with st.container(border=True):
                st.markdown(f"**{label}** · `{ex.rule_id}` · {ex.severity} · call {ex.call_id} · "
                            f"added by {ex.added_by}")
                st.html(f"<blockquote style='margin:0'>{body}</blockquote>")
                st.caption(f"法规 Regulation: {ex.regulation or '–'}")
                if ex.audio and ex.start is not None:
                    from pathlib import Path

                    if Path(str(ex.audio)).is_file():
                        st.audio(str(ex.audio), start_time=max(0.0, float(ex.start) - 3.0),
                                 end_time=float(ex.end or ex.start) + 2.0)
                if can(user, "train_edit"):
                    st.text_area("Compliant rewrite 合规说法", value=ex.rewrite, key=f"train_rewrite_{ex.id}",
                                 height=68)
                    st.text_input("Note", value=ex.note, key=f"train_note_{ex.id}")
                    c = st.columns([1, 1, 4])
                    c[0].button("Save", key=f"train_save_{ex.id}", on_click=_save, args=(ex.id,))
                    c[1].button("Remove", key=f"train_remove_{ex.id}", on_click=_remove, args=(ex.id,))
                else:
                    st.text(f"Compliant rewrite: {redact(ex.rewrite or '–').text}")

st.subheader("Export a training pack")
if need(can(user, "train_edit"), "export training packs"):
    c = st.columns(3)
    fmt = c[0].radio("Format", ("html", "markdown"), horizontal=True, key="train_fmt")
    chosen = c[1].multiselect("Categories", cats, default=cats, key="train_cats")
    clips = c[2].toggle("Audio clips (personal data muted)", value=True, key="train_clips")
    if st.button("Build pack", key="train_build"):
        subset = examples[examples["category"].isin(chosen)]
        segs = queries.segments_for_calls(data.engine(), sorted(set(subset["call_id"])))
        pack, summary = build_pack(subset, options=PackOptions(fmt=fmt, clips=clips), segments=segs)
        st.session_state["train_pack"] = (pack, summary, fmt)
    if "train_pack" in st.session_state:
        pack, summary, fmt_built = st.session_state["train_pack"]
        st.caption(f"{summary['examples']} examples, {summary['clips']} clips"
                   + (f"; {len(summary['clip_errors'])} clips could not be cut" if summary["clip_errors"] else ""))
        st.download_button("⬇ Training pack (zip)", pack, f"training-pack-{fmt_built}.zip", "application/zip",
                           key="train_download", on_click=_logged, args=(summary, fmt_built))
