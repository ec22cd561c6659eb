"""The Gallery's lightbox: a dialog for one image or failed request with the picture, prompt against
revised_prompt, every field and what can be done with it; ← and → step to the previous or next item of
the current view (loading the next keyset page when the window ends there), f toggles the favourite,
Esc closes. Other features add buttons to its action row through DETAIL_ACTIONS.

A step is one rerun of the dialog. To make it quick, the picture and its caption come first, and the
previous and next items' full images are drawn out of sight at the end of each run: Streamlit's media URL
is a hash of the image's bytes, so when a step shows one of them, its URL is one this browser page has
already loaded and decoded."""

from __future__ import annotations

from typing import Any, Callable

import streamlit as st

from studio.core.errors import StudioError
from studio.services.downloads import image_download
from studio.services.gallery import GalleryService
from studio.services.gallery_choices import edit_captions
from studio.services.prompt_diff import diff_html
from studio.services.reuse import request_settings
from studio.services.studio import Studio
from studio.services.gallery_tiles import item_key, parse_key
from views.components.gallery_grid import close_item, held_window, keys, mark_changed, open_item, rerun_fragment
from views.components.handoff import hand_off
from views.components.literal import literal
from views.components.prompt_versions import prompt_versions_section

# The neighbours' images are held in the page, never shown (display:none still loads an <img>).
PREFETCH_STYLE = "<style>.st-key-g_prefetch{display:none}</style>"
PREFETCH = "g_prefetch"
MAX_WIDTH = 1460  # st.image's widest: a wider image is resized (and re-encoded) by Streamlit
DIFF_STYLE = "<style>del{background:#ffd7d5;text-decoration:line-through}ins{background:#ccffd8;text-decoration:none}</style>"


# Buttons other features add to the action row: each is called with (studio, library, detail).
DETAIL_ACTIONS: list[Callable[[Studio, GalleryService, Any], None]] = []


def open_detail(studio: Studio, library: GalleryService, opened: str | None) -> None:
    """The dialog stays open across reruns (the item is in the URL) until it is closed or its item deleted."""
    if opened is not None and parse_key(opened) is not None:
        detail_dialog(studio, library)


def _step(library: GalleryService, key: str, pressed: Any) -> str:
    """The key of the item to show after a key press (the same one at either end of the view)."""
    window = held_window()
    if pressed in ("prev", "next") and window is not None:
        moved = window.neighbour(library, key, 1 if pressed == "next" else -1)
        if moved:
            open_item(moved)
            return moved
    if pressed == "fav":
        opened = parse_key(key)
        if opened and opened[1] is not None:
            image = library.detail(*opened).image
            library.favourite([opened[1]], not image.favourite)
            mark_changed()
    return key


@st.dialog("Image", width="large", on_dismiss=close_item)
def detail_dialog(studio: Studio, library: GalleryService) -> None:
    key = st.query_params.get("open") or ""
    pressed = keys(key="g_keys", on_key_change=lambda: None).get("key")
    try:
        key = _step(library, key, pressed)
        generation_id, image_id = parse_key(key) or (0, None)
        detail = library.detail(generation_id, image_id)
    except StudioError as exc:
        st.warning(literal(exc.message))
        close_item()
        return
    generation, image = detail.generation, detail.image
    picture, side = st.columns([3, 2])
    with picture:
        if image is not None and detail.file_exists:
            _picture(detail.src, image.format, image.width)
        elif image is not None:
            st.warning("The file of this image is missing. Run `python -m studio doctor --fix` to settle it.")
        else:
            st.error(f"This request {generation.status}: {literal(generation.error_message or 'no image came back')}")
    with side:
        st.caption(f"Generation #{generation.id} · {generation.created_at:%Y-%m-%d %H:%M} · {literal(generation.model)} · {generation.status}")
        edit = edit_captions(studio, [generation.id], literal).get(generation.id)
        if edit:
            st.caption(edit)
        if image is not None:
            st.page_link("views/edit.py", label="Edit this image", icon=":material/brush:",
                         query_params={"source_image": str(image.id)})
            st.page_link("views/gallery.py", label="Lineage: its originals and edits", icon=":material/account_tree:",
                         query_params={"lineage": str(image.id)})
        st.page_link("views/gallery.py", label="More like this", icon=":material/join_inner:",
                     query_params={"like": str(generation.id)}, help="Images whose prompts mean about the same, closest first")
        _actions(studio, library, generation, image, detail)
    prompt_html, revised_html = diff_html(generation.prompt, image.revised_prompt if image else None)
    left, right = st.columns(2)
    left.markdown("**prompt**")
    left.html(DIFF_STYLE + f"<div>{prompt_html}</div>")
    right.markdown("**revised_prompt**")
    right.html(DIFF_STYLE + f"<div>{revised_html or '<i>not returned</i>'}</div>")
    st.caption("Words only in the prompt are struck through; words the model added are highlighted.")
    prompt_versions_section(studio, generation.id)  # the prompts this one was edited from, and from it
    _facts(library, generation, image, detail)
    _prefetch(library, key)


def _picture(src: str | None, format: str | None, width: int | None) -> None:
    """The full image. A PNG or JPEG that fits is sent as it is (Streamlit would otherwise decode it and
    encode a JPEG copy on every run: ~50 ms for a 1024x1024 PNG, and a lossy picture)."""
    same = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG"}.get((format or "").lower())
    st.image(src, width="stretch", output_format=same if same and width and width <= MAX_WIDTH else "auto")


def _prefetch(library: GalleryService, key: str) -> None:
    """The previous and next items' full images, loaded by the browser but not shown, so ← or → then shows
    a picture it already holds. At an end of the window the next keyset page is read now, one step early
    (the step would read it anyway)."""
    window = held_window()
    if window is None:
        return
    held = [item_key(item) for item in window.items]
    if key in held and held.index(key) == len(held) - 1 and window.has_next:
        window.more(library)
    elif key in held and held.index(key) == 0 and window.has_prev:
        window.earlier(library)
    items = window.items
    held = [item_key(item) for item in items]
    if key not in held:
        return
    at = held.index(key)
    near = [items[n] for n in (at + 1, at - 1) if 0 <= n < len(items)]
    storage = library.storage
    near = [item for item in near if item.image_id is not None and item.path and (storage.remote or storage.exists(item.path))]
    if not near:
        return
    st.html(PREFETCH_STYLE)
    with st.container(key=PREFETCH):
        for item in near:
            _picture(storage.source(item.path), item.format, item.width)


def _facts(library: GalleryService, generation: Any, image: Any, detail: Any) -> None:
    facts = request_settings(generation) | {
        "status": generation.status, "provider": generation.provider, "base_url_host": generation.base_url_host,
        "created_at": f"{generation.created_at:%Y-%m-%d %H:%M:%S}", "response_size": generation.response_size,
        "response_quality": generation.response_quality, "response_background": generation.response_background,
        "response_output_format": generation.response_output_format, "input_tokens": generation.input_tokens,
        "output_tokens": generation.output_tokens, "total_tokens": generation.total_tokens,
        "latency_s": round(generation.latency_s, 2) if generation.latency_s is not None else None,
        "cost (estimate)": library.cost_text(generation),
    }
    if image is not None:
        facts |= {"file": image.path, "format": image.format, "width x height": f"{image.width}x{image.height}",
                  "bytes": image.bytes, "sha256": image.sha256, "collections": ", ".join(detail.collections) or None}
    if generation.error_code:
        facts |= {"error_code": generation.error_code, "http_status": generation.http_status}
    # st.dataframe shows each cell as plain text (st.table would render Markdown in prompts and names).
    st.dataframe({"field": list(facts), "value": ["not set" if v is None else str(v) for v in facts.values()]},
                 hide_index=True, width="stretch")
    if generation.usage:
        with st.expander("usage (as returned)"):
            st.json(generation.usage)


def _actions(studio: Studio, library: GalleryService, generation: Any, image: Any, detail: Any) -> None:
    row = st.columns(2)
    if image is not None:
        label = "★ Unfavourite" if image.favourite else "☆ Favourite"
        if row[0].button(label, key="d_fav"):
            library.favourite([image.id], not image.favourite)
            mark_changed()
            rerun_fragment()
        if detail.file_exists:
            download = image_download(generation.id, image.batch_index, image.format, detail.absolute_path)
            row[1].download_button("Download original", data=download.data, file_name=download.file_name,
                                   mime=download.mime, key="d_download", on_click="ignore")
    row = st.columns(2)
    if row[0].button("Use these settings", key="d_use", help="Opens Generate with this prompt and these settings"):
        close_item()
        hand_off(studio, generation, "generate")
    if row[1].button("Compare tiers", key="d_compare", help="Opens Compare with this prompt and these settings, over quality tiers"):
        close_item()
        hand_off(studio, generation, "compare")
    item = (generation.id, image.id if image else None)
    if st.button("Delete…", key="d_delete"):
        st.session_state["confirm_delete"] = item
    if st.session_state.get("confirm_delete") == item:
        what = "this image and its file" if image else "this failed request"
        st.warning(f"Delete {what}? This cannot be undone.")
        yes, no = st.columns(2)
        if yes.button("Yes, delete", type="primary", key="d_confirm"):
            removed = library.delete([item])
            mark_changed()
            close_item()
            st.session_state["gallery_notice"] = f"Deleted from generation #{generation.id} ({removed} file(s) removed; files other images share are kept)."
            st.rerun()
        if no.button("Keep it", key="d_keep"):
            st.session_state.pop("confirm_delete", None)
            st.rerun()
    for action in DETAIL_ACTIONS:
        action(studio, library, detail)
    if image is not None:
        with st.form("d_collection", border=False):
            name = st.text_input("Add to collection", placeholder="collection name (new or existing)")
            if st.form_submit_button("Add"):
                try:
                    library.add_to_collection(name, [image.id])
                    st.success(f"Added to “{literal(name.strip())}”.")
                except StudioError as exc:
                    st.warning(literal(exc.message))
