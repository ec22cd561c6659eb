"""The Edit page's inputs: the reference images shown small, and the mask drawn or uploaded."""

from __future__ import annotations

import streamlit as st

from studio.services.edit_inputs import drawn_mask, read_mask_upload
from studio.services.edits import EditImage
from views.components.literal import literal

CANVAS_MAX_WIDTH = 640
MASK_MODES = ("none", "draw", "upload")
MASK_LABELS = {"none": "No mask (the model may change anything)", "draw": "Draw on the first image", "upload": "Upload a PNG mask"}


def show_thumbnails(images: list[EditImage]) -> None:
    cells = st.columns(8)  # thumbnails: small whatever their number
    for position, item in enumerate(images):
        role = "edited" if position == 0 else "reference"
        origin = f"gallery #{item.image_id}" if item.image_id else literal(item.file.filename)
        with cells[position % len(cells)]:
            st.image(item.file.data, caption=f"{position + 1} · {role} · {origin} · {item.width}x{item.height}", width="stretch")


def mask_input(first: EditImage) -> tuple[bytes | None, list[str]]:
    """The mask in the API's convention (or None), and any problem with it."""
    mode = st.radio("Mask", MASK_MODES, format_func=MASK_LABELS.get, key="mask_mode", persist_state="session", horizontal=True,
                    help="The mask marks the part of the first image the model should change.")
    if mode == "draw":
        return _drawn_mask(first)
    if mode == "upload":
        upload = st.file_uploader("PNG mask (transparent pixels mark what to change)", type=["png"], key="mask_upload")
        if upload is None:
            return None, ["Upload a PNG mask, or choose another mask option."]
        mask, problems = read_mask_upload(upload.getvalue(), first.size)
        if mask is None:
            return None, problems
        st.caption(f"The mask lets the model change {mask.changed:.0%} of the first image.")
        return mask.data, problems
    return None, []


def _drawn_mask(first: EditImage) -> tuple[bytes | None, list[str]]:
    from streamlit_drawable_canvas import st_canvas  # only loaded when someone draws a mask

    width = min(CANVAS_MAX_WIDTH, first.width)
    height = max(1, round(width * first.height / first.width))
    brush = st.slider("Brush size", 5, 120, 40, key="mask_brush", persist_state="session")
    st.caption("Paint over the area to change; the rest of the image is kept.")
    result = st_canvas(
        stroke_width=brush, stroke_color="rgba(255, 0, 160, 0.55)", background_image=first.file.data,
        width=width, height=height, drawing_mode="freedraw", return_image_data=True,
        key=f"mask_canvas_{first.file.filename}_{first.width}x{first.height}",
    )
    drawing = result.image_bytes
    mask = drawn_mask(drawing, first.size) if drawing else None
    if mask is None:
        st.caption("Nothing painted yet: without a mask the model may change the whole image.")
        return None, []
    st.caption(f"The painted area is {mask.changed:.0%} of the first image.")
    return mask.data, []
