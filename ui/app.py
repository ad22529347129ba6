"""ChatBI Streamlit entry point: ``chatbi serve`` (or ``streamlit run ui/app.py``).

Thin by design: the shell draws the sidebar and picks the pages allowed for the
user's role; each page module (``app_pages/``) calls one view function. The
folder must not be named ``pages/``: Streamlit would then also serve every file
in it as a page of its own at its URL, bypassing this script and its role check.
"""

from __future__ import annotations

import streamlit as st

from ui import shell

st.set_page_config(page_title="ChatBI", page_icon=":material/insights:", layout="wide")
shell.sidebar()
st.navigation(shell.pages(), position="sidebar").run()
