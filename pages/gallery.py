"""Gallery page: every image and request, searchable and filterable, paged by keyset; the view lives in
the URL so a reload or a shared link reopens it."""

import streamlit as st

from pages import gallery_parts as parts
from pages.common import current_studio, sidebar
from studio.errors import StudioError

studio = current_studio()
sidebar(studio)
st.title("Gallery")
parts.notice()

library = parts.library_for(studio)
view = parts.controls(library, parts.current_view())
try:
    page = library.page(view.filters, view.sort, view.per_page, view.after, view.before)
except StudioError as exc:  # a damaged cursor in a link: say so and start at the first page
    st.warning(exc.message)
    view = view.first_page()
    page = library.page(view.filters, view.sort, view.per_page)
if page.at_start and view.page != 1:
    view = view.first_page()
parts.write_url(view)

parts.toolbar(library)
if not page.items:
    st.info("Nothing matches these filters; clear some of them." if not view.filters.is_empty()
            else "Nothing here yet. Generate an image and it is kept here.")
parts.grid(library, page)
parts.open_detail(library)
parts.pager(view, page)
parts.importer(library)
