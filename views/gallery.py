"""Gallery page: every image and request, searchable and filterable, paged by keyset; the view lives in
the URL so a reload or a shared link reopens it."""

from dataclasses import replace

import streamlit as st

from views import gallery_parts as parts
from views.common import current_studio, literal, sidebar
from studio.core.errors import StudioError

studio = current_studio()
sidebar(studio)
st.title("Gallery")
parts.notice()

library = parts.library_for(studio)
view = parts.controls(library, parts.current_view())
shown = parts.lineage_filter(studio, view)  # ?lineage=ID from an edit's "Lineage" link
try:
    page = library.page(shown.filters, shown.sort, shown.per_page, shown.after, shown.before)
except StudioError as exc:  # a damaged cursor in a link: say so and start at the first page
    st.warning(literal(exc.message))
    view, shown = view.first_page(), shown.first_page()
    page = library.page(shown.filters, shown.sort, shown.per_page)
if page.at_start and view.page != 1:
    view = view.first_page()
parts.write_url(replace(view, filters=replace(view.filters, lineage=shown.filters.lineage)))

parts.toolbar(library)
if not page.items:
    st.info("Nothing matches these filters; clear some of them." if not view.filters.is_empty()
            else "Nothing here yet. Generate an image and it is kept here.")
parts.grid(library, page)
parts.open_detail(library)
parts.pager(view, page)
parts.importer(library)
