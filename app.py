"""Image Studio: entry point and navigation. Run with `streamlit run app.py`."""

import streamlit as st

st.set_page_config(page_title="Image Studio", page_icon="🎨", layout="wide")

pages = [
    st.Page("pages/generate.py", title="Generate", icon="✨", default=True),
    st.Page("pages/gallery.py", title="Gallery", icon="🖼️"),
    st.Page("pages/edit.py", title="Edit", icon="🖌️"),
]
st.navigation(pages).run()
