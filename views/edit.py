"""Edit page: reference images from the gallery or uploaded, an optional mask, the usual fields.
Open it prefilled from the gallery with `?source_image=ID`."""

import streamlit as st

from studio.core.request import INPUT_FIDELITIES, ImageRequest
from studio.services.edit_inputs import gather_images, image_fingerprint
from studio.services.edits import MAX_EDIT_IMAGES
from studio.services.studio import Outcome
from studio.services.lineage_view import chain_text
from views.components.edit_inputs import mask_input, show_thumbnails
from views.components.fragments import press_with_page
from views.components.links import link_id
from views.components.literal import literal
from views.components.prompt_history import prompt_tools
from views.components.request_form import image_fields, live_preview_controls, output_compression_field
from views.components.results import show_outcome
from views.components.jobs_tray import job_pool
from views.components.running import live, send, session_results
from views.components.session import current_studio, sidebar

studio = current_studio()
sidebar(studio)
st.title("Edit")
# The form in one container, so the send-and-follow fragment below never moves (see views/generate.py).
with st.container():

    # Opened from a gallery image ("Edit" link): start from that image, once per link followed.
    source = link_id("source_image")
    if source and st.session_state.get("edit_prefilled") != source:
        st.session_state["edit_prefilled"] = source
        st.session_state["edit_gallery_ids"] = [source]
        st.session_state["mask_mode"] = "none"

    choices = {image.id: f"#{image.id} · {outcome.generation.prompt[:50]}" for outcome in studio.recent(48) for image in outcome.images}
    for image_id in st.session_state.get("edit_gallery_ids", []):
        choices.setdefault(image_id, f"#{image_id}")
    # `default` repeats the current value: a browser that draws the box late (its code still loading when the next
    # run's copy arrives) starts from it instead of an empty box, which it would then send back.
    st.multiselect("Reference images from the gallery", list(choices), format_func=lambda i: choices[i], key="edit_gallery_ids",
                   persist_state="session",
                   default=st.session_state.get("edit_gallery_ids") or None,
                   max_selections=MAX_EDIT_IMAGES, help="The first image is the one edited; the others guide the edit.")
    uploads = st.file_uploader("Upload reference images", type=["png", "jpg", "jpeg", "webp"], accept_multiple_files=True,
                               key=f"edit_uploads_{st.session_state.get('edit_uploads_round', 0)}",
                               help=f"PNG, WebP or JPEG under 50 MB each; up to {MAX_EDIT_IMAGES} images in all.")
    images, problems = gather_images(studio, st.session_state.get("edit_gallery_ids", []),
                                     [(upload.name, upload.getvalue()) for upload in uploads or []])
    mask = None
    if images:
        show_thumbnails(images)
        mask, mask_problems = mask_input(images[0])
        problems += mask_problems
    else:
        st.info("Pick a gallery image or upload one to edit.")

    prompt_tools(studio, "edit_prompt")  # the prompt history picker
    prompt = st.text_area("Prompt", height=120, key="edit_prompt", persist_state="session", placeholder="Replace the sky with a pink sunset")
    fields = image_fields("edit_", studio)
    input_fidelity = fields.third.selectbox("input_fidelity", [None, *INPUT_FIDELITIES], key="input_fidelity", persist_state="session",
                                            format_func=lambda v: "not sent (model default)" if v is None else v,
                                            help="high keeps faces, logos and fine details of the inputs closer (costs more input tokens).")
    output_compression = output_compression_field(fields.output_format, "edit_")
    stream, partial_images = live_preview_controls(studio, key_prefix="edit_")


@st.fragment
def send_and_follow() -> None:
    """The Edit button and what was sent: a press reruns only this part of the page (the form above was drawn
    by the last full run, which any change to a field, image or the mask starts)."""
    if press_with_page(st.button("Edit image", type="primary", disabled=not images), "edit_press_kept") and images:
        request = ImageRequest(
            prompt=prompt, model=studio.settings.model, n=fields.n, size=fields.size, quality=fields.quality,
            background=fields.background, output_format=fields.output_format, output_compression=output_compression,
            input_fidelity=input_fidelity, stream=stream, partial_images=partial_images, **fields.model_fields,
        )
        if problems:
            for problem in problems:
                st.error(literal(problem))
        else:
            # The same request: the same fields, the same input bytes and the same mask.
            fingerprint = (request, tuple(image_fingerprint(i) for i in images), mask)
            send("edit", studio, f"Editing with {literal(studio.settings.model)}…", fingerprint,
                 lambda: job_pool(studio).submit_edit(studio, request, images, mask))
    elif problems:
        for problem in problems:
            st.warning(literal(problem))
    live("edit", studio, show_edits)


def edit_again(image_id: int) -> None:
    st.session_state["edit_gallery_ids"] = [image_id]
    st.session_state["edit_uploads_round"] = st.session_state.get("edit_uploads_round", 0) + 1  # clears the uploads
    st.session_state["mask_mode"] = "none"
    st.session_state["edit_again_rerun"] = True  # a click inside the live results reruns only them


def show_edits(_finished: list[Outcome]) -> None:
    if st.session_state.pop("edit_again_rerun", False):
        st.rerun()  # the whole page, so the reference images show the one picked
    for last_id in session_results("edit"):
        last = studio.outcome(last_id)
        if last is None:
            continue
        st.subheader(f"Edit #{last.generation_id}")
        st.text(last.generation.prompt)
        for image in last.images:
            st.caption(chain_text(studio, image.id))
        show_outcome(last)
        for image in last.images:
            st.button(f"Edit image #{image.id} again", key=f"again-{image.id}", on_click=edit_again, args=(image.id,))


send_and_follow()
