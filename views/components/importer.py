"""The Gallery's "Import a zip" expander."""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.services.gallery import GalleryService
from views.components.literal import literal


def importer(library: GalleryService) -> None:
    with st.expander("Import a zip"):
        upload = st.file_uploader("A zip exported from an Image Studio gallery", type=["zip"], key="g_import")
        if upload is not None and st.button("Import", key="g_import_go"):
            try:
                report = library.import_zip(upload)  # read as a file: no second copy of the zip in memory
            except StudioError as exc:
                st.error(literal(exc.message))
                return
            st.success(f"Imported {report.added} image(s); skipped {report.skipped_duplicates} already in the gallery.")
            for problem in report.problems:
                st.warning(literal(problem))
