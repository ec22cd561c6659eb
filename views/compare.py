"""Compare page: one prompt over quality x (optionally) one more field, cells filling in as they finish."""

from __future__ import annotations

from datetime import datetime, timezone

import streamlit as st

from views.common import NOT_RETURNED, current_studio, literal, live_preview_controls, sidebar
from views.gallery_parts import apply_pending_settings
from studio.services.compare import (
    AXES, AXIS_CHOICES, DEFAULT_QUALITIES, MAX_WORKERS, CellResult, Comparison, GridRun, GridSpec, default_workers,
    estimate_grid, mark_winner, open_comparison, recent_comparisons, spend, start_grid,
)
from studio.core.config import ConfigError
from studio.core.errors import StudioError
from studio.core.pricing import format_usd, load_prices
from studio.core.request import BACKGROUNDS, COMPRESSIBLE_FORMATS, MODERATIONS, OUTPUT_FORMATS, QUALITIES, RESPONSE_FORMATS, STANDARD_SIZES, ImageRequest, ValidationError
from studio.services.studio import Studio

replaced = apply_pending_settings("pending_compare")  # "compare tiers" from the Gallery, before any widget
studio = current_studio()
sidebar(studio)
if replaced:
    st.info("  \n".join(literal(line) for line in replaced))
try:
    prices = load_prices(studio.settings.data_dir)
except ConfigError as exc:
    st.error(f"The price table needs a change: {literal(exc)}")
    st.stop()


def show_spend(studio: Studio) -> None:
    totals = spend(studio)
    today = totals.on(datetime.now(timezone.utc).date().isoformat())
    with st.sidebar:
        st.subheader("Spend (estimates)")
        st.caption(f"Today (UTC): {format_usd(today.usd)} · overall: {format_usd(totals.usd)}")
        if totals.unpriced:
            st.caption(f"{totals.unpriced} generation(s) used a model with no price known; they are not counted.")
        if totals.days:
            with st.expander("Per day"):
                st.dataframe(
                    [{"day": d.day, "USD (est.)": round(d.usd, 4), "priced": d.priced, "no price known": d.unpriced} for d in totals.days],
                    hide_index=True,
                )
        st.caption("Prices come from studio/core/pricing.toml (override in STUDIO_DATA_DIR/pricing.toml).")


def cell_facts(cell: CellResult) -> str:
    generation = cell.generation
    if generation is None:
        return ""
    latency = f"{generation.latency_s:.1f} s" if generation.latency_s is not None else "latency unknown"
    tokens = f"{generation.total_tokens:,} tokens" if generation.total_tokens is not None else "tokens not returned"
    cost = f"{format_usd(cell.cost.usd)} (est.)" if cell.cost else ("not billed" if cell.status == "failed" else "no price known")
    return " · ".join([latency, tokens, cost])


def show_cell(cell: CellResult, comparison: Comparison | None = None) -> None:
    """One cell: its images, facts and revised prompt, or its error. With a saved comparison, a winner button."""
    winner = comparison is not None and comparison.winner_position == cell.position
    st.markdown(f"**{literal(cell.label)}**" + (" · 🏆 winner" if winner else ""))
    if cell.outcome is None:
        st.warning("No result yet: still running (reload in a moment), interrupted, or deleted from the gallery.")
        return
    if cell.error is not None:
        st.error(literal(cell.error.message))
        st.caption(cell_facts(cell))
        return
    images = cell.outcome.images
    st.image([image.src for image in images], caption=[f"image {i.batch_index + 1} · {i.width}x{i.height} {i.format}" for i in images], width="stretch")
    st.caption(cell_facts(cell))
    revised = list(dict.fromkeys(image.revised_prompt or NOT_RETURNED for image in images))
    st.caption("revised_prompt")
    st.text("\n".join(revised))
    if comparison is not None and not winner:
        st.button("Mark as winner", key=f"compare_win_{comparison.id}_{cell.position}", on_click=_mark, args=(comparison.id, cell.position))


def _mark(group_id: int, position: int | None) -> None:
    mark_winner(studio, group_id, position)


def grid_slots(qualities: list[str], axis_values: list[str | None]) -> dict[int, st.delta_generator.DeltaGenerator]:
    """One empty slot per cell, to fill as results arrive: quality tiers side by side, one row per axis value.
    Keyed by the cell's position (quality-major, as the core numbers them)."""
    slots = {}
    for column_index in range(len(axis_values)):
        for quality_index, box in enumerate(st.columns(len(qualities), border=True)):
            slots[quality_index * len(axis_values) + column_index] = box.empty()
    return slots


def run_live(run: GridRun, spec: GridSpec) -> None:
    progress = st.progress(0.0, text=f"0 of {run.total} done")
    slots = grid_slots(list(spec.qualities), list(spec.columns))
    for cell in run.cells:
        with slots[cell.position].container():
            st.markdown(f"**{literal(cell.label)}**")
            st.caption("waiting for the provider…")
    done = 0
    finished: set[int] = set()
    shown: dict[int, tuple[int, bytes]] = {}
    labels = {cell.position: cell.label for cell in run.cells}
    for result in run.results_or_ticks(0.3):
        if result is None:  # nothing finished yet: show the partial images that arrived (live preview)
            for position, partial in list(run.partials.items()):
                if position not in finished and shown.get(position) is not partial:
                    with slots[position].container():
                        st.markdown(f"**{literal(labels[position])}**")
                        st.image(partial[1], caption=f"Live preview: partial image {partial[0] + 1}", width="stretch")
                    shown[position] = partial
            continue
        finished.add(result.position)
        done += 1
        progress.progress(done / run.total, text=f"{done} of {run.total} done")
        with slots[result.position].container():
            show_cell(result)
    progress.progress(1.0, text=f"{run.total} of {run.total} done in {run.wall_s:.1f} s")


def show_comparison(comparison: Comparison) -> None:
    st.subheader(f"Comparison #{comparison.id}")
    st.text(comparison.prompt)
    total = f"{format_usd(comparison.cost_usd)} (est.)" if comparison.cost_usd is not None else "no price known"
    st.caption(f"{comparison.created_at:%Y-%m-%d %H:%M} · {literal(comparison.model)} · {comparison.done} of {len(comparison.cells)} done · cost {total}")
    if comparison.winner is not None:
        st.success(f"Winner: {literal(comparison.winner.label)}")
        st.button("Clear winner", key=f"compare_clear_{comparison.id}", on_click=_mark, args=(comparison.id, None))
    slots = grid_slots(comparison.qualities, comparison.columns)
    for cell in comparison.cells:
        with slots[cell.position].container():
            show_cell(cell, comparison)
    show_zoom(comparison)


def show_zoom(comparison: Comparison) -> None:
    """Two images side by side, each as wide as half the page."""
    choices = {
        f"{cell.label} · image {image.batch_index + 1}": image
        for cell in comparison.cells if cell.outcome is not None for image in cell.outcome.images
    }
    if len(choices) < 2:
        return
    st.subheader("Side by side")
    labels = list(choices)
    left, right = st.columns(2)
    a = left.selectbox("Left", labels, index=0, key=f"compare_zoom_a_{comparison.id}")
    b = right.selectbox("Right", labels, index=len(labels) - 1, key=f"compare_zoom_b_{comparison.id}")
    for column, label in ((left, a), (right, b)):
        image = choices[label]
        column.image(image.src, caption=f"{literal(label)} · {image.width}x{image.height}", width="stretch")


show_spend(studio)
st.title("Compare")
st.caption("One prompt, several quality tiers (and optionally one more field) side by side, with what each costs.")

prompt = st.text_area("Prompt", height=110, key="compare_prompt", placeholder="A watercolor fox reading a map by lantern light")
left, middle, right = st.columns(3)
qualities = left.multiselect("quality", QUALITIES, default=list(DEFAULT_QUALITIES), key="compare_quality")
axis = middle.selectbox("Second axis", [None, *AXES], key="compare_axis", format_func=lambda a: "none (quality only)" if a is None else a)
n = right.number_input("n (per cell)", min_value=1, max_value=10, value=1, step=1, key="compare_n")
axis_values: list[str] = []
if axis is not None:
    options = list(studio.settings.provider.models) if axis == "model" else list(AXIS_CHOICES[axis])
    if axis == "model" and studio.settings.model not in options:
        options.insert(0, studio.settings.model)
    default = {"size": ["1024x1024", "1536x1024"], "background": ["opaque", "transparent"], "output_format": ["png", "jpeg"]}.get(axis, options[:2])
    axis_values = st.multiselect(axis, options, default=default, key=f"compare_values_{axis}", accept_new_options=axis in ("size", "model"),
                                 help="Type a WIDTHxHEIGHT or a model name to add one." if axis in ("size", "model") else None)

shared: dict[str, str | int | None] = {}
fields = [f for f in ("size", "background", "output_format", "moderation") if f != axis]
choices = {"size": STANDARD_SIZES, "background": BACKGROUNDS, "output_format": OUTPUT_FORMATS, "moderation": MODERATIONS}
for column, name in zip(st.columns(len(fields)), fields):
    shared[name] = column.selectbox(name, choices[name], key=f"compare_{name}", accept_new_options=name == "size")
compression_applies = axis != "output_format" and shared.get("output_format") in COMPRESSIBLE_FORMATS
if compression_applies:
    shared["output_compression"] = st.slider("output_compression", 0, 100, 100, key="compare_output_compression")
stream, partial_images = live_preview_controls(studio, key_prefix="compare_")
with st.expander("Advanced"):
    accepts = studio.settings.provider.accepts_response_format
    response_format = st.selectbox(
        "response_format", [None, *RESPONSE_FORMATS], key="compare_response_format", disabled=not accepts,
        format_func=lambda v: "not sent (provider default)" if v is None else v,
    )
    workers = st.number_input("Parallel requests", min_value=1, max_value=32, value=None, step=1, key="compare_workers",
                              placeholder=f"one per cell, up to {MAX_WORKERS}",
                              help="How many cells run at once. Lower it if the provider rate-limits you.")

spec = GridSpec(
    ImageRequest(prompt=prompt, model=studio.settings.model, n=int(n), response_format=response_format if accepts else None,
                 stream=stream, partial_images=partial_images, **shared),  # type: ignore[arg-type]
    tuple(qualities), axis, tuple(axis_values),
)
cell_count = len(spec.cells())
estimate = estimate_grid(spec, prices)
if not cell_count:
    st.warning("Pick at least one quality to compare.")
else:
    # The estimate names the model, which the user may have typed.
    st.info(f"{cell_count} cell(s), {cell_count * int(n)} image(s): {literal(estimate.text[0].upper() + estimate.text[1:])}. "
            f"Up to {int(workers) if workers else default_workers(cell_count)} run at once. Every price is an estimate.")

clicked = st.button("Run comparison", type="primary", key="compare_run")
view = st.container()
if clicked:
    try:
        run = start_grid(studio, spec, int(workers) if workers else None)
    except ValidationError as exc:
        for problem in exc.problems:
            st.error(literal(problem))
    except StudioError as exc:
        st.error(literal(exc.message))
    else:
        # Remembered first: if the user leaves mid-run, the cells still finish and are saved, and this re-opens them.
        st.session_state["compare_group"] = run.group_id
        st.query_params["compare"] = str(run.group_id)
        with view:
            st.subheader(f"Comparison #{run.group_id}")
            run_live(run, spec)
        st.rerun()  # show it as saved: with winner buttons, the zoom, and fresh spend totals
else:
    opened = st.query_params.get("compare") or st.session_state.get("compare_group")
    if opened and str(opened).isdigit():
        try:
            with view:
                show_comparison(open_comparison(studio, int(opened)))
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
