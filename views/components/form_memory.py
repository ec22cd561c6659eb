"""Unsent input survives a page switch: Streamlit forgets the state of every widget a run does not draw,
so a prompt typed on Generate was gone after a look at the Gallery. The request fields of each page are
copied into the session's own key on every run (app.py, before any page is drawn, while the widgets of
the page just left still hold their values) and put back before a page draws them again.
File uploads and a drawn mask cannot be put back into their widgets; everything else is."""

from __future__ import annotations

import streamlit as st

KEPT = "kept_form"
_FIELDS = ("size", "quality", "n", "background", "output_format", "output_compression", "live_preview", "partial_images")
FORM_KEYS: dict[str, tuple[str, ...]] = {
    "generate": ("prompt", *_FIELDS, "moderation", "response_format", "template_expand", "template_confirm_limit"),
    "edit": ("edit_gallery_ids", "edit_prompt", *(f"edit_{f}" for f in _FIELDS), "input_fidelity", "mask_mode", "mask_brush"),
    "compare": ("compare_prompt", "compare_quality", "compare_axis", "compare_n", "compare_size", "compare_background",
                "compare_output_format", "compare_moderation", "compare_output_compression", "compare_live_preview",
                "compare_partial_images", "compare_response_format", "compare_workers"),
}


def remember_forms() -> None:
    """Copy every request field that has a value now into the session's keeping (each run, first thing)."""
    kept = st.session_state.setdefault(KEPT, {})
    for keys in FORM_KEYS.values():
        for key in keys:
            if key in st.session_state:
                kept[key] = st.session_state[key]


def restore_form(page: str) -> None:
    """Before a page draws its fields: put back what the user had in those Streamlit has forgotten."""
    kept = st.session_state.get(KEPT, {})
    for key in FORM_KEYS[page]:
        if key not in st.session_state and key in kept:
            st.session_state[key] = kept[key]
