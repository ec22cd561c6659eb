"""Generate page: gather the request, call the studio, show what came back."""

from dataclasses import replace

import streamlit as st

from studio.services.batch import queue_upload
from studio.services.studio import Outcome
from studio.services.templates import TemplatePreview
from studio.core.request import MODERATIONS, ImageRequest, size_is_experimental
from views.components.fragments import press_with_page
from views.components.handoff import apply_pending_settings
from views.components.links import link_id
from views.components.literal import literal
from views.components.prompt_history import advance_origin, note_send, prompt_origin, prompt_tools
from views.components.request_form import image_fields, live_preview_controls, output_compression_field, response_format_field
from views.components.results import show_outcome
from views.components.jobs_tray import job_pool
from views.components.running import is_running, live, send, send_many, session_results
from views.components.session import current_studio, sidebar
from views.components.template_preview import ask_to_confirm, blocked, confirmation, template_plan, template_toggle

replaced = apply_pending_settings("generate")  # "use these settings" from the Gallery, before any widget is drawn
studio = current_studio()
sidebar(studio)
st.title("Generate")
# Everything above the send-and-follow fragment in one container: lines that come and go here (a handoff's note,
# a template's preview) then never move the fragment, whose id is its position: a press on a moved fragment's
# button is dropped by Streamlit as the click of a fragment that no longer exists.
with st.container():
    if replaced:
        st.info("  \n".join(literal(line) for line in replaced))

    prompt_tools(studio, "prompt", origin=True)  # the history picker, and which generation this prompt is a version of
    # `value` repeats the current text (as Edit's image box does): a box the browser draws late starts from it,
    # not from an empty default it would then send back.
    prompt = st.text_area("Prompt", height=140, key="prompt", persist_state="session",
                          value=st.session_state.get("prompt") or "",
                          placeholder="A watercolor fox reading a map by lantern light")
    expand = template_toggle()
    fields = image_fields(studio=studio)
    moderation = fields.third.selectbox("moderation", MODERATIONS, key="moderation", persist_state="session")
    output_compression = output_compression_field(fields.output_format)
    stream, partial_images = live_preview_controls(studio)
    with st.expander("Advanced"):
        response_format = response_format_field(studio)
    if size_is_experimental(fields.size):
        st.caption("Sizes above 2560x1440 are experimental at the API.")

    request = ImageRequest(
        prompt=prompt, model=studio.settings.model, n=fields.n, size=fields.size, quality=fields.quality,
        background=fields.background, moderation=moderation, output_format=fields.output_format,
        output_compression=output_compression, response_format=response_format, stream=stream, partial_images=partial_images,
        **fields.model_fields,
    )
    plan = template_plan(studio, request, expand)  # a template's prompts and cost, shown as it is typed


def send_all(requests: list[ImageRequest]) -> bool:
    """Each request as its own background job; returns whether a dialog asked first (one request only)."""
    parent = prompt_origin()
    note_send(len(requests))
    pool = job_pool(studio)
    if len(requests) == 1:
        one = requests[0]
        return send("generate", studio, f"Generating {fields.n} image(s) with {literal(studio.settings.model)}…", one,
                    lambda: pool.submit_generate(studio, one, prompt_parent_id=parent))
    again = [r for r in requests if is_running("generate", r)]
    if again:
        st.warning(f"{len(again)} of these prompts are still running from before; they were not sent again.")
    for each in (r for r in requests if r not in again):
        send("generate", studio, f"{literal(each.prompt[:80])}…", each,
             lambda each=each: pool.submit_generate(studio, each, prompt_parent_id=parent))
    return False




def show_results(finished: list[Outcome]) -> None:
    """This session's results as they land; before any, the generation in the link or the last one made."""
    advance_origin(finished)  # iterating on a prompt: the next version's parent is the one just made
    if finished:
        st.query_params["generation"] = str(finished[-1].generation_id)
    results = session_results("generate")
    if results:
        for generation_id in results:
            outcome = studio.outcome(generation_id)
            if outcome is not None:
                st.subheader(f"Generation #{generation_id}")
                st.text(outcome.generation.prompt)
                show_outcome(outcome)
        return
    if is_running("generate"):
        return
    last_id = link_id("generation")
    last = studio.outcome(last_id) if last_id else studio.latest()
    if last_id and last is None:
        st.info(f"Generation #{last_id} is not in the gallery (deleted, or from another gallery).")
    if last is not None:
        st.subheader(f"Generation #{last.generation_id}" if last_id else f"Last result: generation #{last.generation_id}")
        st.text(last.generation.prompt)
        show_outcome(last)


@st.fragment
def send_and_follow(request: ImageRequest, plan: TemplatePreview | None) -> None:
    """The Generate button, the batch file, and what was sent: a press reruns only this part of the page, so
    the page is usable again as soon as the job is queued (the form above was drawn by the last full run,
    which any change to a field starts, so `request` holds what is typed)."""
    if press_with_page(st.button("Generate", type="primary"), "generate_press_kept") and not blocked():
        if plan is not None and plan.needs_confirmation:
            ask_to_confirm(plan)
        else:
            send_all(plan.requests if plan is not None else [request])
    confirmation(plan, send_all)  # above the limit: sent once the user says so
    batch_file(request)
    live("generate", studio, show_results)


def batch_file(request: ImageRequest) -> None:
    with st.expander("Batch: every line of a prompts file"):
        upload = st.file_uploader("Batch file (.txt or .csv)", type=["txt", "csv"], key="batch_file",
                                  help="One prompt per line (.txt, # comments), or a CSV with a prompt column and any request "
                                       "field as a column; the fields above apply where a row leaves a cell empty. The same "
                                       "file again skips the lines already done (as `python -m studio batch` does).")
        pressed = press_with_page(st.button("Run every line", key="batch_run", disabled=upload is None), "batch_press_kept")
        if pressed and upload is not None:  # the fields above as the page now shows them apply to each line
            def queue_file() -> list[tuple[int, str]]:
                queued = queue_upload(job_pool(studio), studio, upload.name, upload.getvalue(), replace(request, prompt=""))
                st.session_state["batch_note"] = f"{literal(upload.name)}: {len(queued.jobs)} line(s) queued, {queued.skipped} already done."
                return [(job_id, f"Line {line.line}: {literal(line.request.prompt[:60])}") for job_id, line in queued.jobs]

            send_many("generate", studio, queue_file)
        if st.session_state.get("batch_note"):
            st.caption(st.session_state["batch_note"])


send_and_follow(request, plan)
