"""Gallery page: everything made so far, newest first, failed requests included."""

import streamlit as st

from pages.common import current_studio, show_outcome, sidebar
from studio.errors import StudioError

studio = current_studio()
sidebar(studio)
st.title("Gallery")

lineage_of = st.query_params.get("lineage")
outcomes = None
if lineage_of and lineage_of.isdigit():  # filtered to one image's lineage (source -> edit -> edit)
    try:
        chain = studio.lineage(int(lineage_of)).chain
        outcomes = studio.lineage_outcomes(int(lineage_of))
    except StudioError as exc:
        st.warning(f"{exc.message} Showing everything instead.")
    else:
        st.info(f"Lineage of image #{lineage_of}: " + " → ".join(f"#{i}" for i in chain) + ", with every edit made from it.")
        if st.button("Show everything"):
            del st.query_params["lineage"]
            st.rerun()
if outcomes is None:
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
