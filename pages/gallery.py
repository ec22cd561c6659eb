"""Gallery page: everything made so far, newest first, failed requests included."""

import streamlit as st

from pages.common import current_studio, show_outcome, sidebar

studio = current_studio()
sidebar(studio)
st.title("Gallery")

limit = st.selectbox("Show", [24, 48, 96], key="gallery_limit")
outcomes = studio.recent(limit)
if not outcomes:
    st.info("Nothing here yet. Generate an image and it is kept here.")
for outcome in outcomes:
    generation = outcome.generation
    with st.container(border=True):
        st.caption(f"#{generation.id} · {generation.created_at:%Y-%m-%d %H:%M} · {generation.model} · {generation.status}")
        st.text(generation.prompt)
        show_outcome(outcome, columns=4)
