"""ChatBI Streamlit entry point: ``chatbi serve`` (or ``streamlit run ui/app.py``).

Thin by design: the shell draws the sidebar and resolves who is signed in
(``ui/auth.py``); a visitor nobody signed in sees only the sign-in screen.
Otherwise the shell picks the pages the user's role allows; each page module
(``app_pages/``) calls one view function. The folder must not be named
``pages/``: Streamlit would then also serve every file in it as a page of its
own at its URL, bypassing this script and its role check.
"""

from __future__ import annotations

import streamlit as st

from ui import auth, shell

st.set_page_config(page_title="ChatBI", page_icon=":material/insights:", layout="wide")
sign = shell.sidebar()
if sign.user is None:
    auth.screen(sign, shell.ui_lang())
else:
    st.navigation(shell.pages(), position="sidebar").run()
