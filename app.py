"""Image Studio: entry point and navigation. Run with `streamlit run app.py`."""

import streamlit as st

from views.components.form_memory import remember_forms
from views.components.sign_in import require_sign_in

st.set_page_config(page_title="Image Studio", page_icon=":material/palette:", layout="wide")
require_sign_in()
remember_forms()  # before any page: the fields of the page just left still hold their values

pages = [
    st.Page("views/generate.py", title="Generate", icon=":material/auto_awesome:", default=True),
    st.Page("views/gallery.py", title="Gallery", icon=":material/photo_library:"),
    st.Page("views/edit.py", title="Edit", icon=":material/brush:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare:"),
]
st.navigation(pages).run()
