"""Compare page: one prompt over quality x (optionally) one more field, cells filling in as they finish."""

from __future__ import annotations

import streamlit as st

from studio.core.config import ConfigError
from studio.core.errors import StudioError
from studio.core.pricing import load_prices
from studio.core.request import COMPRESSIBLE_FORMATS, MODERATIONS, ImageRequest, ValidationError
from studio.services.compare import (AXES, MAX_WORKERS, PROMPT_AXIS, GridSpec, axis_choices, default_qualities, default_workers,
                                     estimate_grid, prompt_grid, start_grid)
from studio.services.comparisons import open_comparison, recent_comparisons
from views.components.compare_grid import follow_run, show_comparison
from views.components.handoff import apply_pending_settings
from views.components.links import link_id
from views.components.jobs_tray import job_pool
from views.components.literal import literal
from views.components.request_form import live_preview_controls, model_fields, response_format_field
from views.components.session import current_studio, sidebar

RUNNING = "compare_running"  # this session's run under way: (GridRun, rows, columns)

replaced = apply_pending_settings("compare")  # "compare tiers" from the Gallery, before any widget
studio = current_studio()
sidebar(studio)
if replaced:
    st.info("  \n".join(literal(line) for line in replaced))
try:
    prices = load_prices(studio.settings.data_dir)
except ConfigError as exc:
    st.error(f"The price table needs a change: {literal(exc)}")
    st.stop()

st.title("Compare")
st.caption("One prompt, several quality tiers (and optionally one more field) side by side, with what each costs.")

prompt = st.text_area("Prompt", height=110, key="compare_prompt", persist_state="session",
                      placeholder="A watercolor fox reading a map by lantern light")
# Every choice is what the current model takes (the model catalog); a grid over models checks each cell's.
model, catalog = studio.settings.model, studio.catalog
rules = catalog.rules(model)
left, middle, right = st.columns(3)
tiers = [q for q in rules.qualities if q in st.session_state.get("compare_quality", [])] if "compare_quality" in st.session_state else None
if tiers is not None:
    st.session_state["compare_quality"] = tiers  # a tier the model does not take is dropped, never sent
qualities = left.multiselect("quality", list(rules.qualities), default=list(default_qualities(model, catalog)),
                             key="compare_quality", persist_state="session")
axes = [a for a in AXES if a != "complexity" or rules.complexities]
axis = middle.selectbox("Second axis", [None, *axes, PROMPT_AXIS], key="compare_axis", persist_state="session",
                        format_func=lambda a: "none (quality only)" if a is None else "prompt (a template's variants)" if a == PROMPT_AXIS else a)
n = right.number_input("n (per cell)", min_value=1, max_value=10, value=1, step=1, key="compare_n", persist_state="session")
axis_values: list[str] = []
template_problems: list[str] = []
if axis == PROMPT_AXIS:
    st.caption("Write the prompt as a template: `{red|green} fox in {snow|rain}` makes one row per combination, "
               "each run at every quality picked. `\\{` `\\}` `\\|` are a literal brace or bar.")
elif "{" in prompt and "|" in prompt:
    st.caption("This prompt has `{a|b}` groups: pick the prompt axis to run each variant, or they are sent as typed.")
if axis is not None and axis != PROMPT_AXIS:
    options = catalog.current(studio.settings.provider.models) if axis == "model" else list(axis_choices(axis, model, catalog))
    if axis == "model" and model not in options:
        options.insert(0, model)
    default = {"size": ["1024x1024", "1536x1024"], "background": ["opaque", "transparent"], "output_format": ["png", "jpeg"],
               "complexity": ["low", "medium", "high"]}.get(axis, options[:2])
    custom = axis == "model" or (axis == "size" and rules.custom_sizes)
    axis_values = st.multiselect(axis, options, default=[d for d in default if d in options], key=f"compare_values_{axis}",
                                 persist_state="session", accept_new_options=custom,
                                 help="Type a WIDTHxHEIGHT or a model name to add one." if custom else None)

shared: dict[str, str | int | None] = {}
fields = [f for f in ("size", "background", "output_format", "moderation") if f != axis]
choices = {name: axis_choices(name, model, catalog) for name in ("size", "background", "output_format")} | {"moderation": MODERATIONS}
for column, name in zip(st.columns(len(fields)), fields):
    shared[name] = column.selectbox(name, choices[name], key=f"compare_{name}", persist_state="session",
                                    accept_new_options=name == "size" and rules.custom_sizes)
shared |= model_fields(rules, str(shared.get("output_format") or ""), "compare_", skip=axis)
compression_applies = axis != "output_format" and shared.get("output_format") in COMPRESSIBLE_FORMATS
if compression_applies:
    shared["output_compression"] = st.slider("output_compression", 0, 100, 100, key="compare_output_compression", persist_state="session")
stream, partial_images = live_preview_controls(studio, key_prefix="compare_")
with st.expander("Advanced"):
    response_format = response_format_field(studio, "compare_")
    workers = st.number_input("Parallel requests", min_value=1, max_value=32, value=None, step=1, key="compare_workers", persist_state="session",
                              placeholder=f"one per cell, up to {MAX_WORKERS}",
                              help="How many cells run at once. Lower it if the provider rate-limits you.")

spec = GridSpec(
    ImageRequest(prompt=prompt, model=studio.settings.model, n=int(n), response_format=response_format,
                 stream=stream, partial_images=partial_images, **shared),  # type: ignore[arg-type]
    tuple(qualities), axis, tuple(axis_values),
)
if axis == PROMPT_AXIS:  # the template's variants are the rows
    try:
        spec = prompt_grid(spec.base, spec.qualities)
    except ValidationError as exc:
        template_problems = exc.problems
        for problem in template_problems:
            st.error(literal(problem))
    else:
        with st.expander(f"The template's {len(spec.axis_prompts)} prompt(s)", expanded=len(spec.axis_prompts) <= 6):
            st.text("\n".join(f"{label}: {text}" for label, text in zip(spec.axis_values, spec.axis_prompts)))
cell_count = len(spec.cells())
estimate = estimate_grid(spec, prices)
if not cell_count:
    st.warning("Pick at least one quality to compare.")
else:
    # The estimate names the model, which the user may have typed.
    st.info(f"{cell_count} cell(s), {cell_count * int(n)} image(s): {literal(estimate.text[0].upper() + estimate.text[1:])}. "
            f"Up to {min(int(workers) if workers else default_workers(cell_count), job_pool(studio).per_provider)} run at once. Every price is an estimate.")

clicked = st.button("Run comparison", type="primary", key="compare_run")
view = st.container()
if clicked and template_problems:
    st.error("Nothing was sent: change the template as said above.")
elif clicked:
    try:
        run = start_grid(studio, spec, int(workers) if workers else None, pool=job_pool(studio))  # cells are jobs
    except ValidationError as exc:
        for problem in exc.problems:
            st.error(literal(problem))
    except StudioError as exc:
        st.error(literal(exc.message))
    else:
        # Remembered first: if the user leaves mid-run, the cells still finish and are saved, and this re-opens them.
        st.session_state["compare_group"] = run.group_id
        st.query_params["compare"] = str(run.group_id)
        st.session_state[RUNNING] = (run, len(spec.qualities), len(spec.columns))
running = st.session_state.get(RUNNING)
if running is not None and running[0].group_id == st.session_state.get("compare_group") and len(running[0].finished_so_far()) < running[0].total:
    with view:  # the page is usable while the cells run: a fragment follows them
        st.subheader(f"Comparison #{running[0].group_id}")
        follow_run(*running)
elif not (clicked and template_problems):
    st.session_state.pop(RUNNING, None)
    opened = link_id("compare") or st.session_state.get("compare_group")
    if opened:
        try:
            with view:
                show_comparison(studio, open_comparison(studio, opened))
        except StudioError as exc:
            st.warning(f"{literal(exc.message)} Pick another one below.")

st.divider()
past = recent_comparisons(studio)
if past:
    titles = {c.id: c.title for c in past}

    def _open() -> None:
        picked = st.session_state.get("compare_open")
        if picked is not None:
            st.session_state["compare_group"] = picked
            st.query_params["compare"] = str(picked)

    st.selectbox("Past comparisons", list(titles), index=None, key="compare_open", format_func=titles.__getitem__,
                 placeholder="Pick one to re-open it above", on_change=_open)
else:
    st.caption("Past comparisons are listed here once you run one.")
