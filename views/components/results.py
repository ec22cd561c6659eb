"""How a result looks on Generate and Edit: its images with their facts, or the error it ended with."""

from __future__ import annotations

import streamlit as st

from studio.core.errors import StudioError
from studio.services.downloads import image_download
from studio.services.lineage_view import edit_caption, sources_of
from studio.services.result_files import missing_images, missing_message
from studio.services.studio import Outcome, SavedImage
from views.components.literal import literal

NOT_RETURNED = "not returned"


def show_error(error: StudioError, generation_id: int | None = None) -> None:
    kept = f" The prompt is kept in the gallery as generation #{generation_id}." if generation_id else ""
    st.error(f"{literal(error.message)}{kept}")


def human_bytes(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


def show_image_card(image: SavedImage, outcome: Outcome, missing: bool = False) -> None:
    generation = outcome.generation
    if missing:  # no image, no download: st.image would fail on the file and show its server path
        st.warning(missing_message(image.id))
        return
    st.image(image.src, width="stretch")
    st.caption("revised_prompt")
    st.text(image.revised_prompt or NOT_RETURNED)
    facts = [
        f"{image.width}x{image.height}",
        image.format,
        human_bytes(image.bytes),
        f"{generation.latency_s:.1f} s" if generation.latency_s is not None else "latency unknown",
        f"{generation.total_tokens} tokens" if generation.total_tokens is not None else "tokens not returned",
    ]
    st.caption(" · ".join(facts))
    download = image_download(generation.id, image.batch_index, image.format, image.path)
    st.download_button("Download", data=download.data, file_name=download.file_name, mime=download.mime,
                       key=f"download-{image.id}", on_click="ignore")
    st.page_link("views/edit.py", label="Edit", icon=":material/brush:", query_params={"source_image": str(image.id)})


def show_sources(outcome: Outcome) -> None:
    """For an edit: what it was made from, with a link to the whole lineage in the gallery."""
    text = edit_caption(sources_of(outcome.generation), literal)
    if text is None:
        return
    left, right = st.columns([3, 1])
    left.caption(text)
    if outcome.images:
        right.page_link("views/gallery.py", label="Lineage", icon=":material/account_tree:",
                        query_params={"lineage": str(outcome.images[0].id)})


def show_outcome(outcome: Outcome, columns: int = 3) -> None:
    if outcome.error or outcome.status == "failed":
        show_error(outcome.error or StudioError(outcome.generation.error_message or "failed"), outcome.generation_id)
        return
    if outcome.note:
        st.warning(literal(outcome.note))
    if outcome.generation.stream is False:
        st.caption("Sent without live preview: the provider does not stream.")
    show_sources(outcome)
    cells = st.columns(columns)
    missing = missing_images(outcome.images)
    for position, image in enumerate(outcome.images):
        with cells[position % len(cells)]:
            show_image_card(image, outcome, image.id in missing)
