"""Image Studio: entry point and navigation. Run with `streamlit run app.py`."""

import streamlit as st

from views.components.jobs_tray import session_jobs_tray
from views.components.session import settings
from views.components.sign_in import cookie_updates, sign_in_form, sign_out_button, signed_in

st.set_page_config(page_title="Image Studio", page_icon=":material/palette:", layout="wide")
pages = [
    st.Page("views/generate.py", title="Generate", icon=":material/auto_awesome:", default=True),
    st.Page("views/gallery.py", title="Gallery", icon=":material/photo_library:"),
    st.Page("views/edit.py", title="Edit", icon=":material/brush:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("views/arena.py", title="Arena", icon=":material/sports_mma:"),
    st.Page("views/insights.py", title="Insights", icon=":material/insights:"),
]
cookie_updates()  # a sign-in or sign-out of the previous run, handed to the browser
base = settings()  # read once for the gate; a page reads them again as it opens the studio
if not signed_in(base):
    # The page a link asked for (and its query parameters) stays the page, unshown, until sign-in opens it.
    st.navigation(pages, position="hidden")
    sign_in_form(base)  # stops the run
sign_out_button(base)
st.navigation(pages).run()
session_jobs_tray()  # after the page, in the sidebar: a job the page just queued is already in it
