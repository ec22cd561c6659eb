"""Gallery page: every image and request, searchable and filterable, paged by keyset; the view lives in
the URL so a reload or a shared link reopens it."""

from dataclasses import replace

import streamlit as st

from studio.core.errors import StudioError
from studio.services.gallery import GalleryService
from views.components.gallery_detail import open_detail
from views.components.gallery_filters import controls, current_view, lineage_filter, write_url
from views.components.gallery_grid import grid, pager
from views.components.gallery_toolbar import notice, toolbar
from views.components.importer import importer
from views.components.literal import literal
from views.components.session import current_studio, sidebar

studio = current_studio()
sidebar(studio)
st.title("Gallery")
notice()

library = GalleryService(studio)
view = controls(studio, current_view())
shown = lineage_filter(studio, view)  # ?lineage=ID from an edit's "Lineage" link
try:
    page = library.page(shown.filters, shown.sort, shown.per_page, shown.after, shown.before)
except StudioError as exc:  # a damaged cursor in a link: say so and start at the first page
    st.warning(literal(exc.message))
    view, shown = view.first_page(), shown.first_page()
    page = library.page(shown.filters, shown.sort, shown.per_page)
if page.at_start and view.page != 1:
    view = view.first_page()
write_url(replace(view, filters=replace(view.filters, lineage=shown.filters.lineage)))

toolbar(library)
if not page.items:
    st.info("Nothing matches these filters; clear some of them." if not view.filters.is_empty()
            else "Nothing here yet. Generate an image and it is kept here.")
grid(studio, library, page)
open_detail(studio, library, view.opened)
pager(view, page)
importer(library)
