"""Generate page: gather the request, call the studio, show what came back."""

import streamlit as st

from views.common import current_studio, image_fields, literal, live_preview_controls, output_compression_field, run_and_report, show_outcome, sidebar
from views.gallery_parts import apply_pending_settings
from studio.core.request import MODERATIONS, RESPONSE_FORMATS, ImageRequest, size_is_experimental

replaced = apply_pending_settings()  # "use these settings" from the Gallery, before any widget is drawn
studio = current_studio()
sidebar(studio)
st.title("Generate")
if replaced:
    st.info("  \n".join(literal(line) for line in replaced))

prompt = st.text_area("Prompt", height=140, key="prompt", placeholder="A watercolor fox reading a map by lantern light")
fields = image_fields()
size, quality, n, background, output_format = fields.size, fields.quality, fields.n, fields.background, fields.output_format
moderation = fields.third.selectbox("moderation", MODERATIONS, key="moderation")
output_compression = output_compression_field(output_format)
stream, partial_images = live_preview_controls(studio)
with st.expander("Advanced"):
    accepts = studio.settings.provider.accepts_response_format
    response_format = st.selectbox(
        "response_format", [None, *RESPONSE_FORMATS], key="response_format", disabled=not accepts,
        format_func=lambda v: "not sent (provider default)" if v is None else v,
        help=None if accepts else "This provider does not take response_format, so it is never sent.",
    )
if size_is_experimental(size):
    st.caption("Sizes above 2560x1440 are experimental at the API.")

if st.button("Generate", type="primary"):
    request = ImageRequest(
        prompt=prompt, model=studio.settings.model, n=int(n), size=size, quality=quality, background=background,
        moderation=moderation, output_format=output_format, output_compression=output_compression,
        response_format=response_format if accepts else None, stream=stream, partial_images=partial_images,
    )
    preview = st.empty()
    outcome = run_and_report(f"Generating {int(n)} image(s) with {literal(studio.settings.model)}…",
                             lambda on_partial: studio.generate(request, on_partial=on_partial), preview)
    if outcome is not None:
        st.session_state["last_generation_id"] = outcome.generation_id
        st.query_params["generation"] = str(outcome.generation_id)

last_id = st.session_state.get("last_generation_id") or st.query_params.get("generation")
last = studio.outcome(int(last_id)) if last_id and str(last_id).isdigit() else studio.latest()
if last is not None:
    st.subheader(f"Generation #{last.generation_id}" if last_id else f"Last result: generation #{last.generation_id}")
    st.text(last.generation.prompt)
    show_outcome(last)
