"""Entry file of the analysts' dashboard: settings, optional sign-in, sidebar filters, page routing.

Run it with `finsent dashboard` (or `streamlit run dashboards/app.py`); it reads
FINSENT_DATABASE_URL and the other FINSENT_* settings on every run, so a test
can point it at its own database through the environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboards/app.py` puts dashboards/ (not the repository) on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboards import auth, filters, ui  # noqa: E402
from kernel.settings import SettingsError, load_settings  # noqa: E402

# Not "pages/": Streamlit treats a folder of that name beside the entry file as a
# legacy (v1) multipage app, which fights st.navigation (notably under AppTest).
PAGES_DIR = Path(__file__).resolve().parent / "app_pages"

st.set_page_config(page_title="finsent", page_icon=":material/monitoring:", layout="wide")

try:
    settings = load_settings()
except SettingsError as error:
    st.error(str(error))
    st.stop()


def sign_in(password_hash: str) -> None:
    """Stop the run at a password form until the session has signed in."""
    if st.session_state.get("signed_in"):
        return
    st.title("finsent")
    with st.form("sign_in"):
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            if auth.verify_password(password, password_hash):
                st.session_state["signed_in"] = True
                st.rerun()
            st.error("Wrong password.")
        except auth.PasswordHashError as error:
            st.error(str(error))
    st.stop()


if settings.dashboard_password_hash:
    sign_in(settings.dashboard_password_hash)

st.session_state["database_url"] = settings.database_url
st.session_state["alertmanager_url"] = settings.alertmanager_url
st.session_state["metrics_port"] = settings.metrics_port
st.session_state["settings"] = settings
ui.inject_style()

pages = {
    "Monitor": [
        st.Page(PAGES_DIR / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES_DIR / "entity.py", title="Entity", icon=":material/business:", url_path="entity"),
        st.Page(PAGES_DIR / "topics.py", title="Topics", icon=":material/category:", url_path="topics"),
        st.Page(PAGES_DIR / "alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    ],
    "Model": [
        st.Page(PAGES_DIR / "model.py", title="Model", icon=":material/model_training:", url_path="model"),
        st.Page(PAGES_DIR / "labelling.py", title="Labelling", icon=":material/edit_note:", url_path="labelling"),
    ],
}
page = st.navigation(pages)
filters.sidebar_controls(settings.database_url)
page.run()
