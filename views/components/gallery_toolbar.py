"""The Gallery's bulk actions on the selected tiles (favourite, export, delete) and its one-line notices."""

from __future__ import annotations

import streamlit as st

from studio.services.gallery import GalleryService
from views.components.gallery_grid import clear_selection, selected_items


def toolbar(library: GalleryService) -> None:
    chosen = selected_items()
    images = [image_id for _, image_id in chosen if image_id is not None]
    with st.container(horizontal=True):
        st.caption(f"{len(chosen)} selected" if chosen else "Select images to act on several at once.")
        if st.button("★ Favourite", disabled=not images, key="b_fav"):
            library.favourite(images, True)
            st.session_state["gallery_notice"] = f"Marked {len(images)} image(s) as favourites."
            st.rerun()
        if st.button("☆ Unfavourite", disabled=not images, key="b_unfav"):
            library.favourite(images, False)
            st.rerun()
        if st.button("Export zip", disabled=not images, key="b_export"):
            st.session_state["export_zip"] = library.export_zip(images)
        if st.button("Delete selected…", disabled=not chosen, key="b_delete"):
            st.session_state["confirm_bulk_delete"] = chosen
        if st.button("Clear selection", disabled=not chosen, key="b_clear"):
            clear_selection()
            st.rerun()
    if st.session_state.get("export_zip"):
        st.download_button("Download the zip (originals + metadata.jsonl)", st.session_state["export_zip"],
                           file_name="image-studio-export.zip", mime="application/zip", key="b_download",
                           on_click="ignore")
    pending = st.session_state.get("confirm_bulk_delete")
    if pending:
        st.warning(f"Delete {len(pending)} selected item(s) and their files? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete them", type="primary", key="b_confirm"):
            removed = library.delete(pending)
            st.session_state.pop("confirm_bulk_delete")
            clear_selection()
            st.session_state["gallery_notice"] = f"Deleted {len(pending)} item(s); {removed} file(s) removed."
            st.rerun()
        if no.button("Keep them", key="b_keep"):
            st.session_state.pop("confirm_bulk_delete")
            st.rerun()


def notice() -> None:
    message = st.session_state.pop("gallery_notice", None)
    if message:
        st.success(message)
