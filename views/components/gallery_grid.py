"""The Gallery's grid of tiles (thumbnail, caption, select, open, edit) and the pager under it."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from studio.services.gallery import GalleryService
from studio.services.gallery_choices import edit_captions
from studio.core.browsing import GalleryItem, Page
from studio.services.gallery_link import GalleryView
from studio.services.studio import Studio
from views.components.gallery_filters import write_url
from views.components.literal import literal

COLUMNS = 6


def selection_key(item: GalleryItem) -> str:
    return f"sel-{item.generation_id}-{item.image_id or 0}"


def selected_items() -> list[tuple[int, int | None]]:
    items = []
    for key, value in st.session_state.items():
        if isinstance(key, str) and key.startswith("sel-") and value:
            _, generation_id, image_id = key.split("-")
            items.append((int(generation_id), int(image_id) or None))
    return sorted(items)


def clear_selection() -> None:
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("sel-")]:
        del st.session_state[key]


def grid(studio: Studio, library: GalleryService, page: Page) -> None:
    cells = st.columns(COLUMNS)
    captions = edit_captions(studio, {item.generation_id for item in page.items}, literal)
    for position, item in enumerate(page.items):
        with cells[position % COLUMNS], st.container(border=True):
            thumb = library.thumbnail_source(item.image_id, item.path, item.thumbnail_path)
            if thumb is not None:
                st.image(thumb, width="stretch")
            elif item.image_id is not None:
                st.warning("The file of this image is missing; `python -m studio doctor` settles it.")
            elif item.status == "failed":
                st.error(literal((item.error_message or "The request failed.")[:160]))
            else:
                st.info(f"{item.status}: no image yet" if item.status == "pending" else "no image kept")
            if item.generation_id in captions:
                st.caption(captions[item.generation_id])
            star = "★ " if item.favourite else ""
            st.caption(f"{star}#{item.generation_id} · {item.created_at:%Y-%m-%d %H:%M} · {literal(item.model)}")
            st.text(item.prompt[:160] + ("…" if len(item.prompt) > 160 else ""))
            with st.container(horizontal=True, vertical_alignment="center"):  # lighter than columns in a tile
                st.checkbox("Select", key=selection_key(item))
                st.button("Open", key=f"open-{item.generation_id}-{item.image_id or 0}", on_click=open_item,
                          args=(item.generation_id, item.image_id))
                if item.image_id is not None:
                    st.page_link("views/edit.py", label="Edit", icon=":material/brush:",
                                 query_params={"source_image": str(item.image_id)})


def open_item(generation_id: int, image_id: int | None) -> None:
    # In the URL, so a reload or a shared link opens the same image.
    st.query_params["open"] = f"{generation_id}-{image_id or 0}"
    st.session_state.pop("confirm_delete", None)


def close_item() -> None:
    if "open" in st.query_params:
        del st.query_params["open"]
    st.session_state.pop("confirm_delete", None)


def pager(view: GalleryView, page: Page) -> None:
    left, middle, right = st.columns([1, 2, 1])
    if left.button("← Previous", disabled=not page.prev_cursor, key="g_prev"):
        write_url(replace(view, after=None, before=page.prev_cursor, page=max(1, view.page - 1)))
        st.rerun()
    middle.caption(f"Page {view.page} · {len(page.items)} shown")
    if right.button("Next →", disabled=not page.next_cursor, key="g_next"):
        write_url(replace(view, after=page.next_cursor, before=None, page=view.page + 1))
        st.rerun()
