"""The qa_toolkit dashboard: ``streamlit run dashboards/streamlit_app.py -- --db URL [--users FILE]``.

The entry script signs the user in (when a users file is given) and hands over to the page
chosen in the navigation; pages live in ``app_pages/`` and read the store only through
``qa_toolkit.store``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script by streamlit: make `dashboards` and `qa_toolkit` importable
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboards import data  # noqa: E402
from dashboards.auth import authenticate, can  # noqa: E402
from qa_toolkit.errors import QaToolkitError  # noqa: E402

st.set_page_config(page_title="催收质检 QA", page_icon="🎧", layout="wide")


def sign_in() -> None:
    st.title("催收质检 · Sign in")
    try:
        users = data.users(data.settings().users_file)
    except QaToolkitError as err:
        st.error(str(err))
        st.stop()
    with st.form("signin_form"):
        username = st.text_input("User name", key="signin_user")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        user = authenticate(users, username, password)
        if user is None:
            st.error("Wrong user name or password.")
        else:
            st.session_state["user"] = user
            st.rerun()


def main() -> None:
    try:
        data.engine()
    except QaToolkitError as err:
        st.error(f"Cannot open the database: {err}")
        st.stop()
    user = data.user()
    if user is None:
        st.navigation([st.Page(sign_in, title="Sign in", icon="🔑")], position="hidden").run()
        return
    pages = {
        "Review": [
            st.Page("app_pages/overview.py", title="Overview", icon="📊", default=True),
            st.Page("app_pages/calls.py", title="Calls", icon="📞"),
            st.Page("app_pages/call_detail.py", title="Call detail", icon="🔎", url_path="call"),
            st.Page("app_pages/rules.py", title="Rules", icon="📏"),
        ],
        "Audit & training": [
            st.Page("app_pages/audit_sampling.py", title="Audit sampling", icon="🎯"),
            st.Page("app_pages/training_library.py", title="Training library", icon="🎓"),
        ],
    }
    if can(user, "audit_log"):
        pages["Audit & training"].append(st.Page("app_pages/audit_log.py", title="Audit log", icon="📜"))
    with st.sidebar:
        st.caption(f"👤 {user.name} · {', '.join(user.roles)}")
        if data.settings().users_file is not None and st.button("Sign out", key="nav_signout"):
            st.session_state.pop("user", None)
            st.rerun()
    st.navigation(pages).run()


main()
