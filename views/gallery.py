"""Gallery page: every image and request in one scrolling grid, searchable and filterable, loaded by
keyset pages as it scrolls; the view (search, filters, sort, a jump to a date, the open image) lives in
the URL so a reload or a shared link reopens it."""

from dataclasses import replace

import streamlit as st

from studio.services.gallery import GalleryService
from studio.services.gallery_link import GalleryView
from studio.services.gallery_window import day_cursor
from studio.services.studio import Studio
from views.components.gallery_detail import open_detail
from views.components.fragments import rerun_page_if_changed_outside
from views.components.gallery_filters import chosen_view, controls, current_view, lineage_filter, write_url
from views.components.gallery_grid import current_window, grid_element, opened_key
from views.components.gallery_toolbar import on_action, pending
from views.components.importer import importer
from views.components.session import current_studio, sidebar


@st.fragment
def gallery_grid(studio: Studio, library: GalleryService, view: GalleryView, shown: GalleryView) -> None:
    """Reruns alone when the grid asks for a page, a tile is opened or a bulk action is pressed; the whole
    page reruns instead when a change to the search or filters came in the same rerun."""
    rerun_page_if_changed_outside()
    window = current_window(library, shown)
    pending(library)
    if not window.items:
        st.info("Nothing from that day on in this view; pick another day or go back to the top." if shown.after
                else "Nothing matches these filters; clear some of them." if not view.filters.is_empty()
                else "Nothing here yet. Generate an image and it is kept here.")
    grid_element(library, window, lambda: on_action(library))
    open_detail(studio, library, opened_key(replace(view, open=st.query_params.get("open"))))


def jump(view: GalleryView) -> None:
    """Open the view at a day (newest first: that day and older; oldest first: that day and newer)."""
    day = st.session_state.get("g_jump")
    cursor = day_cursor(day, view.sort) if day else None
    write_url(replace(view, after=cursor, before=None, page=1, open=None))


studio = current_studio()
st.title("Gallery")

library = GalleryService(studio)
view = chosen_view(current_view())
# The search, filters and the jump row sit above the grid but are drawn after it: the grid's thumbnails
# are on their way to the browser while it still loads the code of those widgets.
head, notes = st.container(), st.container()
with notes:
    shown = lineage_filter(studio, view)  # ?lineage=ID from an edit's "Lineage" link
write_url(replace(view, filters=replace(view.filters, lineage=shown.filters.lineage)))
gallery_grid(studio, library, view, shown)
with head:
    controls(studio, view)
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.date_input("Jump to date", value=None, key="g_jump", on_change=jump, args=(view,), width=180,
                      disabled=view.sort == "favourites", help="Newest first: that day and older. Oldest first: that day and newer.")
        if view.after and st.button("Back to the top", key="g_top"):
            write_url(replace(view, after=None, before=None, page=1))
            st.rerun()
        st.caption("Click a tile to open it (← → step, f favourites, Esc closes); "
                   "click its circle, Ctrl/Cmd-click or Shift-click to select several.")
importer(library)
# Last: its spend totals read every generation (about a second at 100,000 on SQLite); drawn after the
# grid, they never hold the thumbnails back. The provider and model it offers are in the session already.
sidebar(studio)
