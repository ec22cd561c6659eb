"""The Gallery's bulk actions on the tiles selected in the grid (favourite, add to collection, export,
delete, and any action another feature adds), the delete confirmation, the zip download and the
notices (toasts)."""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.services.gallery import GalleryService
from studio.services.gallery_actions import act, selection
from views.components.gallery_grid import EXTRA_ACTIONS, event, mark_changed, rerun_fragment
from views.components.literal import literal


def on_action(library: GalleryService) -> None:
    """The grid's `action` trigger: {op, keys, name, seq}. Runs before the grid fragment draws."""
    asked = event("action")
    if not isinstance(asked, dict) or not isinstance(asked.get("op"), str):
        return
    op, keys = asked["op"], asked.get("keys")
    name = asked.get("name") if isinstance(asked.get("name"), str) else ""
    seq = asked.get("seq") if isinstance(asked.get("seq"), int) else 0
    if seq and seq <= st.session_state.get("g_done", 0):
        return  # the browser asked again while this one was on its way: done already
    st.session_state["g_done"] = seq
    chosen = selection(keys)
    try:
        if op in EXTRA_ACTIONS:
            st.session_state["gallery_notice"] = EXTRA_ACTIONS[op][1](library, [k for k in keys or [] if isinstance(k, str)])
            return
        message = act(library, op, chosen, name)
    except StudioError as exc:
        st.session_state["gallery_problem"] = exc.message
        return
    if op == "export":
        st.session_state["export_zip"] = library.export_zip(chosen.image_ids)
        st.session_state["gallery_notice"] = f"{len(chosen.image_ids)} image(s) in the zip: download it below."
    elif op == "delete":
        st.session_state["confirm_bulk_delete"] = (chosen.items, seq)
    else:
        st.session_state["gallery_notice"] = message
        st.session_state["g_cleared"] = seq
        mark_changed()


def pending(library: GalleryService) -> None:
    """What an action left to answer or to take: a delete to confirm, a zip to download."""
    notice()
    if st.session_state.get("export_zip"):
        st.download_button("Download the zip (originals + metadata.jsonl)", st.session_state["export_zip"],
                           file_name="image-studio-export.zip", mime="application/zip", key="b_download",
                           on_click="ignore")
    asked = st.session_state.get("confirm_bulk_delete")
    if not asked:
        return
    items, seq = asked
    st.warning(f"Delete {len(items)} selected item(s) and their files? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete them", type="primary", key="b_confirm"):
        removed = library.delete(items)
        st.session_state.pop("confirm_bulk_delete")
        st.session_state["g_cleared"] = seq
        st.session_state["gallery_notice"] = f"Deleted {len(items)} item(s); {removed} file(s) removed."
        mark_changed()
        rerun_fragment()
    if no.button("Keep them", key="b_keep"):
        st.session_state.pop("confirm_bulk_delete")
        rerun_fragment()


def notice() -> None:
    """What an action did, as a toast: it stays its few seconds whatever reruns the grid meanwhile."""
    message = st.session_state.pop("gallery_notice", None)
    if message:
        st.toast(literal(message), icon=":material/check_circle:")
    problem = st.session_state.pop("gallery_problem", None)
    if problem:
        st.toast(literal(problem), icon=":material/warning:")
