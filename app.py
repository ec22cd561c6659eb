"""Image Studio: entry point and navigation. Run with `streamlit run app.py`."""

import streamlit as st

from pages.common import require_sign_in

st.set_page_config(page_title="Image Studio", page_icon=":material/palette:", layout="wide")
require_sign_in()

pages = [
    st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:", default=True),
    st.Page("pages/gallery.py", title="Gallery", icon=":material/photo_library:"),
    st.Page("pages/edit.py", title="Edit", icon=":material/brush:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
]
st.navigation(pages).run()
